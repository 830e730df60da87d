"""The driver for routes where the server waits for each answer within the call: session and
server_model.

Each round's requests are sent together; the first that fails (refused, an error, no answer
in time) cancels the others, as clients do on the guard route, and the algorithm decides what
a failed answer means. When the time budget runs out during a round, the round is dropped and
the algorithm is stopped with what it had before it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import anyio
import anyio.abc

from mcp_workbench.platform.sampling.core import (
    Algorithm,
    Ask,
    Budget,
    Completion,
    CompletionRequest,
    Progress,
    R,
    Route,
    announce,
)

Complete = Callable[[CompletionRequest], Awaitable[Completion]]
"""Answers one request; a refusal, an error or a timeout is a failed :class:`Completion`, not an exception."""

NOT_ANSWERED = "not answered: another request of the same round failed first"


async def run_inline(
    algorithm: Algorithm[R], complete: Complete, budget: Budget, route: Route, progress: Progress | None = None
) -> R:
    step = algorithm.start()
    round_no = 0
    while isinstance(step, Ask):
        round_no += 1
        remaining = budget.remaining()
        if remaining <= 0:
            return algorithm.stop(step.state, "budget").result
        await announce(progress, step, round_no, route)
        answers: list[Completion] | None = None
        with anyio.move_on_after(remaining):
            answers = await answer_round(step.requests, complete)
        if answers is None:
            return algorithm.stop(step.state, "budget").result
        step = algorithm.resume(step.state, answers)
    return step.result


async def answer_round(requests: Sequence[CompletionRequest], complete: Complete) -> list[Completion]:
    """Every request at once, answers in the order asked."""
    answers: list[Completion | None] = [None] * len(requests)

    async def one(group: anyio.abc.TaskGroup, index: int, request: CompletionRequest) -> None:
        answer = await complete(request)
        answers[index] = answer
        if not answer.ok:
            group.cancel_scope.cancel()

    async with anyio.create_task_group() as group:
        for index, request in enumerate(requests):
            group.start_soon(one, group, index, request)
    return [answer or Completion.failed(NOT_ANSWERED, skipped=True) for answer in answers]

"""The 2026-07-28 route: each round of the algorithm is one ``tools/call`` of the client.

A call that needs completions returns an ``InputRequiredResult`` holding one
``CreateMessageRequest`` per request of the round and the algorithm's state in
``request_state``; the client answers them all (concurrently), then calls the tool again with
the same arguments, the answers in ``input_responses`` and the state echoed back. The SDK seals
the state on the way out and checks it on the way in (``[state]`` keys), so this module only
ever sees plaintext it wrote.

Clients give up after 10 rounds (the SDKs' default, fixed in some), so a call asks for at
most ``max_rounds`` (9): the round that would be the tenth ends the algorithm with what it has
(``budget``). So do the time budget, counted from the first round, and a state that would
outgrow ``[state] max_bytes``.

A client that refuses a request never calls back: the whole call fails on the client's side
and the server never hears of it, so nothing here waits for it. A round whose answers are
missing or not text resumes the algorithm with failed answers, for it to end on.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import mcp_types

from mcp_workbench.platform.sampling.core import (
    Algorithm,
    Budget,
    Completion,
    Done,
    Pending,
    Progress,
    R,
    Route,
    announce,
)
from mcp_workbench.platform.sampling.envelope import Envelope, sealed_size
from mcp_workbench.platform.sampling.wire import completion_of, create_message_request

log = logging.getLogger("mcp_workbench.sampling")

MAX_GUARD_ROUNDS = 9
"""Rounds one call may ask for: one fewer than clients allow, so the answer always comes back."""


class GuardRound:
    """One ``tools/call`` of a guard-route algorithm: the first, or a later round with its answers."""

    def __init__(
        self,
        request_state: str | None,
        input_responses: Mapping[str, Any] | None,
        *,
        max_rounds: int = MAX_GUARD_ROUNDS,
        max_state_bytes: int,
    ) -> None:
        self._state = request_state
        self._responses = input_responses or {}
        self.max_rounds = max_rounds
        self.max_state_bytes = max_state_bytes

    @property
    def continuing(self) -> bool:
        return self._state is not None

    async def run(self, algorithm: Algorithm[R], budget: Budget, progress: Progress | None = None) -> R | Pending:
        if self._state is None:
            round_no, started = 0, budget.started
            step = algorithm.start()
        else:
            envelope = Envelope.decode(self._state)
            round_no, started = envelope.round, envelope.started
            budget = budget.from_start(started)
            step = algorithm.resume(envelope.state, [self._answer(key) for key in envelope.keys])
        if isinstance(step, Done):
            return step.result
        if round_no >= self.max_rounds:
            return algorithm.stop(step.state, "budget").result
        if budget.remaining() <= 0:
            return algorithm.stop(step.state, "budget").result
        round_no += 1
        keys = tuple(f"r{round_no}q{index}" for index in range(len(step.requests)))
        plaintext = Envelope(round_no, started, keys, step.state).encode()
        if (size := sealed_size(plaintext)) > self.max_state_bytes:
            log.warning(
                "sampling state too large to hand the client; finishing with what there is",
                extra={"sealed_bytes": size, "max_bytes": self.max_state_bytes, "round": round_no},
            )
            return algorithm.stop(step.state, "budget").result
        await announce(progress, step, round_no, Route.GUARD)
        return Pending(
            mcp_types.InputRequiredResult(
                input_requests={key: create_message_request(r) for key, r in zip(keys, step.requests, strict=True)},
                request_state=plaintext,
            )
        )

    def _answer(self, key: str) -> Completion:
        if key not in self._responses:
            return Completion.failed("the client sent no answer to this request")
        return completion_of(self._responses[key])

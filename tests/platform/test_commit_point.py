"""The commit point's rule at the level of the budget itself, with real tasks and threads.

What the data and files tests (tests/*/test_write_budget.py) show through the server, here for
any write path: before the point the budget wins and the point refuses, even in code that
does not notice its cancellation (a worker thread, a shielded section); after it nothing
cancels the call, not its caller leaving either, and the server's shutdown waits for it.
"""

from __future__ import annotations

import asyncio

import anyio
import pytest

from mcp_workbench.platform.errors import Timeout
from mcp_workbench.platform.timeouts import (
    Budgets,
    CallAbandoned,
    CallBudget,
    Stage,
    commit_point,
    commit_point_in_thread,
)

pytestmark = pytest.mark.anyio


def budgets(seconds: float = 60.0) -> Budgets:
    return Budgets(lambda _tool: seconds)


async def test_a_commit_point_outside_any_budget_lets_the_commit_through() -> None:
    async with commit_point():
        done = True
    with commit_point_in_thread():
        done = done and True
    assert done


async def test_work_that_does_not_notice_its_cancellation_is_refused_at_its_commit_point() -> None:
    """Blocking work in a worker thread runs on after TIMEOUT; its commit point stops it."""
    kept: list[str] = []
    abandoned = asyncio.Event()

    async def hook(stage: Stage, budget: CallBudget) -> None:
        if stage == "reached":  # the temporary file is written; the budget ends now
            budget.expire()
            await abandoned.wait()
        if stage == "abandoned":
            abandoned.set()

    def blocking_write() -> None:
        with commit_point_in_thread():
            kept.append("renamed")

    ended = asyncio.Event()

    async def call() -> None:
        try:
            await anyio.to_thread.run_sync(blocking_write)
        finally:
            ended.set()

    runner = Budgets(lambda _tool: 60.0, commit_hook=hook)
    with pytest.raises(Timeout):
        await runner.run("files_write", call())
    with anyio.fail_after(30):
        await ended.wait()  # the thread went on to its commit point after the TIMEOUT was answered
    assert kept == []


async def test_code_that_swallows_its_cancellation_gets_call_abandoned_at_its_commit_point() -> None:
    outcome: list[str] = []
    reached, ended = asyncio.Event(), asyncio.Event()

    async def call() -> None:
        try:
            await reached.wait()
        except asyncio.CancelledError:  # a library that does not let cancellation through
            await reached.wait()
        try:
            async with commit_point():
                outcome.append("committed after TIMEOUT")
        except CallAbandoned:
            outcome.append("refused")
            raise
        finally:
            ended.set()

    runner = budgets(0.01)
    task = asyncio.ensure_future(runner.run("data_write", call()))
    with pytest.raises(Timeout):
        await task
    reached.set()
    with anyio.fail_after(30):
        await ended.wait()
    assert outcome == ["refused"]


async def test_past_its_commit_point_a_call_outlives_its_caller_and_shutdown_waits_for_it() -> None:
    committing = asyncio.Event()
    finish = asyncio.Event()
    committed: list[bool] = []

    async def call() -> str:
        async with commit_point():
            committing.set()
            await finish.wait()
            committed.append(True)
        return "done"

    runner = budgets()
    caller = asyncio.ensure_future(runner.run("data_write", call()))
    await committing.wait()
    caller.cancel()  # the client cancels, or goes away
    with pytest.raises(asyncio.CancelledError):
        await caller

    async def shutdown() -> list[bool]:
        with anyio.CancelScope() as scope:
            scope.cancel()  # the server's shutdown may run cancelled; settle still waits
            await runner.settle(within=30)
        return list(committed)  # what had committed when settle returned

    settling = asyncio.ensure_future(shutdown())
    for _ in range(10):  # turns of the loop, in which a cancelled wait would have ended
        await asyncio.sleep(0)
    assert not settling.done() and committed == []
    finish.set()
    with anyio.fail_after(30):
        assert await settling == [True]


async def test_a_budget_that_ends_during_the_commit_answers_the_real_result() -> None:
    late = asyncio.Event()

    async def hook(stage: Stage, budget: CallBudget) -> None:
        if stage == "committing":
            budget.expire()  # the budget ends now, as its timer would
        if stage == "late":
            late.set()

    async def call() -> str:
        async with commit_point():
            await late.wait()  # the COMMIT takes until the budget has found the call committing
        return "the real result"

    runner = Budgets(lambda _tool: 60.0, commit_hook=hook)
    with anyio.fail_after(30):
        assert await runner.run("data_write", call()) == "the real result"

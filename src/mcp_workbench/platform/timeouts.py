"""A time budget for every tool call: past it the call answers TIMEOUT at once.

The call runs as its own task. At the deadline the task is cancelled and the caller gets
TIMEOUT straight away; the task's cleanup (a database transaction rolling back, a socket
closing) finishes in the background, because some of it cannot be interrupted (a SQLite
connection waiting for a lock). Nothing the call started is kept: cancellation reaches it
before any commit.

The waiting is done by hand (one future, woken by the task's last step or by a timer) rather
than with ``asyncio.wait``, which builds sets and callbacks for many futures and costs two
extra turns of the event loop: this runs on every call.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from mcp_workbench.platform.errors import Timeout

log = logging.getLogger("mcp_workbench.timeouts")


class Budgets:
    """Runs a call within its tool's time budget."""

    def __init__(self, budget_for: Callable[[str], float]) -> None:
        self.budget_for = budget_for
        self._cleaning: set[asyncio.Task[Any]] = set()  # cancelled calls still unwinding

    async def run(self, tool: str, call: Coroutine[Any, Any, Any]) -> Any:
        budget = self.budget_for(tool)
        loop = asyncio.get_running_loop()
        woken = loop.create_future()

        def wake() -> None:
            if not woken.done():
                woken.set_result(None)

        async def body() -> Any:
            # Waking the caller from inside the task, as its last step, rather than from a
            # done callback saves one turn of the event loop on every call.
            try:
                return await call
            finally:
                wake()

        task = loop.create_task(body())  # copies the context: correlation id, caller
        timer = loop.call_later(budget, wake)
        try:
            await woken
        except asyncio.CancelledError:  # the client cancelled or went away: stop the work too
            self._abandon(task)
            raise
        finally:
            timer.cancel()
        if task.done():
            return task.result()
        self._abandon(task)
        raise Timeout(
            f"{tool} did not finish within its {budget:g} s budget and was stopped; nothing it started was kept",
            details={"tool": tool, "timeout_s": budget},
        )

    def _abandon(self, task: asyncio.Task[Any]) -> None:
        """Cancel ``task`` and hold on to it while it unwinds (the loop keeps only weak references)."""
        task.cancel()
        self._cleaning.add(task)
        task.add_done_callback(self._cleaned)

    def _cleaned(self, task: asyncio.Task[Any]) -> None:
        self._cleaning.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.info("a timed-out call ended with an error while unwinding", extra={"error": repr(task.exception())})

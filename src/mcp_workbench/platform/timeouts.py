"""A time budget for every tool call: past it the call answers TIMEOUT at once.

The call runs as its own task. At the deadline the task is cancelled and the caller gets
TIMEOUT straight away; the task's cleanup (a database transaction rolling back, a socket
closing) finishes in the background, because some of it cannot be interrupted (a SQLite
connection waiting for a lock). Nothing the call started is kept: cancellation reaches it
before any commit.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from fastmcp.server.middleware import CallNext, Middleware, MiddlewareContext

from mcp_workbench.platform.errors import Timeout

log = logging.getLogger("mcp_workbench.timeouts")


class TimeoutMiddleware(Middleware):
    def __init__(self, budget_for: Callable[[str], float]) -> None:
        self._budget_for = budget_for
        self._cleaning: set[asyncio.Task[Any]] = set()  # cancelled calls still unwinding

    async def on_call_tool(self, context: MiddlewareContext[Any], call_next: CallNext[Any, Any]) -> Any:
        tool = context.message.name
        budget = self._budget_for(tool)
        task = asyncio.ensure_future(call_next(context))  # copies the context: correlation id, caller
        try:
            done, _ = await asyncio.wait({task}, timeout=budget)
        except asyncio.CancelledError:  # the client cancelled or went away: stop the work too
            task.cancel()
            raise
        if task in done:
            return task.result()
        task.cancel()
        self._cleaning.add(task)
        task.add_done_callback(self._cleaned)
        raise Timeout(
            f"{tool} did not finish within its {budget:g} s budget and was stopped; nothing it started was kept",
            details={"tool": tool, "timeout_s": budget},
        )

    def _cleaned(self, task: asyncio.Task[Any]) -> None:
        self._cleaning.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.info("a timed-out call ended with an error while unwinding", extra={"error": repr(task.exception())})

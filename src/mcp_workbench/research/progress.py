"""Progress of a run as the client sees it: a step per phase and per finished source, and a
heartbeat while nothing finishes, so a client never waits ``heartbeat_s`` without news.

The first notification is sent before planning starts (planning may wait on a model). A
callback that fails (the client has gone) is logged and ignored: progress never fails a run.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio

from mcp_workbench.research.models import Progress, ProgressCallback

log = logging.getLogger("mcp_workbench.research")


class Reporter:
    def __init__(self, callback: ProgressCallback | None, total: int, heartbeat_s: float) -> None:
        self._callback = callback
        self.total = float(total)
        self.done = 0.0
        self.heartbeat_s = heartbeat_s
        self._last = Progress(0.0, self.total, "starting", "start")
        self._last_sent = anyio.current_time()
        self.waiting: list[str] = []

    async def send(self, phase: str, message: str, *, step: bool = True) -> None:
        if step:
            self.done = min(self.total, self.done + 1)
        self._last = Progress(self.done, self.total, message, phase)
        await self._emit(self._last)

    async def _emit(self, progress: Progress) -> None:
        self._last_sent = anyio.current_time()
        if self._callback is None:
            return
        try:
            await self._callback(progress)
        except Exception as exc:  # noqa: BLE001 - a client that cannot take progress does not stop the run
            log.info("research progress could not be sent", extra={"error": repr(exc)})

    @asynccontextmanager
    async def heartbeat(self) -> AsyncIterator[None]:
        """Repeat the latest progress, saying what the run waits for, while the body runs."""
        async with anyio.create_task_group() as group:
            group.start_soon(self._beat)
            try:
                yield
            finally:
                group.cancel_scope.cancel()

    async def _beat(self) -> None:
        while True:
            wait = self._last_sent + self.heartbeat_s - anyio.current_time()
            if wait > 0:
                await anyio.sleep(wait)
                continue
            waiting = f"; waiting for {', '.join(self.waiting)}" if self.waiting else ""
            last = self._last
            await self._emit(
                Progress(last.progress, last.total, f"still working ({last.message}){waiting}", "heartbeat")
            )

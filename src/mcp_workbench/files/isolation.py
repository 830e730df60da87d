"""Running untrusted-regex work in child processes that are killed at their deadline.

Python's ``re`` cannot be interrupted and holds the GIL while it matches, so one
catastrophic pattern (``(a+)+$``) in a thread would freeze the whole server. Content search
therefore runs in a worker process. Workers are kept and reused (starting one costs up to a
second: the child re-imports the program's main module), at most ``size`` at a time. A job
streams its results back in batches; when its budget runs out, or the call is cancelled, the
worker is killed and what arrived is kept. Domain errors raised in a worker come back as the
same :class:`WorkbenchError` subclass.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import anyio

from mcp_workbench.platform.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    ReadOnly,
    Timeout,
    TooLarge,
    UpstreamError,
    WorkbenchError,
)

log = logging.getLogger("mcp_workbench.files.isolation")

KILL_GRACE_S = 1.0
POLL_S = 0.2
BATCH_ITEMS = 50
BATCH_SECONDS = 0.1

_ERRORS: dict[str, type[WorkbenchError]] = {
    str(cls.code): cls
    for cls in (InvalidInput, NotFound, PermissionDenied, ReadOnly, Timeout, UpstreamError, Conflict, TooLarge)
}

Emit = Callable[[Any], None]
Work = Callable[[Any, Emit], Any]


@dataclass
class Outcome:
    """What a job produced: its emitted items, its return value, and how it ended."""

    items: list[Any] = field(default_factory=list)
    result: Any = None
    killed: bool = False
    error: WorkbenchError | None = None


class _Worker:
    def __init__(self, process: Any, connection: Connection) -> None:
        self.process = process
        self.connection = connection

    @classmethod
    def start(cls) -> _Worker:
        context = _context()
        parent_end, child_end = context.Pipe(duplex=True)
        process = context.Process(target=_worker_main, args=(child_end,), daemon=True, name="mcp-workbench-search")
        process.start()
        child_end.close()
        return cls(process, parent_end)

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5.0)
        self.connection.close()


def _context() -> Any:
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    if method == "forkserver":
        context.set_forkserver_preload([__name__, "mcp_workbench.files.search"])
    return context


class WorkerPool:
    """At most ``size`` worker processes; an overrunning or interrupted one is killed."""

    def __init__(self, size: int = 2) -> None:
        self.size = size
        self._idle: list[_Worker] = []
        self._limiter: anyio.CapacityLimiter | None = None
        self._closed = False

    async def run(self, work: Work, job: Any, *, budget_s: float) -> Outcome:
        """Run ``work(job, emit)`` (a module-level function) in a worker for at most
        ``budget_s`` plus a grace second; raise the job's domain error, if any."""
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.size)
        async with self._limiter:
            worker = await self._take()
            outcome = Outcome(killed=True)
            try:
                worker.connection.send((work, job))
                outcome = await _collect(worker, deadline=time.monotonic() + budget_s + KILL_GRACE_S)
            finally:
                if outcome.killed or self._closed:
                    with anyio.CancelScope(shield=True):
                        await anyio.to_thread.run_sync(worker.stop)
                else:
                    self._idle.append(worker)
        if outcome.error is not None:
            raise outcome.error
        return outcome

    async def _take(self) -> _Worker:
        while self._idle:
            worker = self._idle.pop()
            if worker.process.is_alive():
                return worker
            await anyio.to_thread.run_sync(worker.stop)
        return await anyio.to_thread.run_sync(_Worker.start)

    async def aclose(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for worker in idle:
            await anyio.to_thread.run_sync(worker.stop)


async def _collect(worker: _Worker, *, deadline: float) -> Outcome:
    outcome = Outcome()
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            log.warning("search worker killed at its deadline", extra={"pid": worker.process.pid})
            outcome.killed = True
            return outcome
        ready = await anyio.to_thread.run_sync(worker.connection.poll, min(remaining, POLL_S))
        if not ready:
            if not worker.process.is_alive():
                raise RuntimeError(f"search worker exited with code {worker.process.exitcode}")
            continue
        try:
            kind, *payload = worker.connection.recv()
        except EOFError:
            raise RuntimeError(f"search worker closed its pipe (exit code {worker.process.exitcode})") from None
        if kind == "items":
            outcome.items.extend(payload[0])
        elif kind == "done":
            outcome.result = payload[0]
            return outcome
        elif kind == "error":
            code, message, steps, details = payload
            outcome.error = _ERRORS.get(code, InvalidInput)(message, recovery_steps=steps, details=details)
            return outcome
        else:
            raise RuntimeError(f"search worker failed:\n{payload[0]}")


def _worker_main(connection: Connection) -> None:
    """A worker's loop: one job at a time, until the pipe closes."""
    _silence_stdout()
    while True:
        try:
            work, job = connection.recv()
        except (EOFError, OSError):
            return
        _run_job(work, job, connection)


def _run_job(work: Work, job: Any, connection: Connection) -> None:
    batch: list[Any] = []
    last_flush = time.monotonic()

    def emit(item: Any) -> None:
        nonlocal last_flush
        batch.append(item)
        if len(batch) >= BATCH_ITEMS or time.monotonic() - last_flush > BATCH_SECONDS:
            connection.send(("items", list(batch)))
            batch.clear()
            last_flush = time.monotonic()

    try:
        result = work(job, emit)
        if batch:
            connection.send(("items", list(batch)))
        connection.send(("done", result))
    except WorkbenchError as exc:
        connection.send(("error", str(exc.code), exc.message, exc.recovery_steps, exc.details))
    except Exception:  # noqa: BLE001 - the worker's top level: every failure is reported to the parent
        connection.send(("crash", traceback.format_exc()))


def _silence_stdout() -> None:
    """stdout may be the stdio transport's protocol stream: a worker must never write there."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)

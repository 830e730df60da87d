"""Running untrusted-input work in child processes that are killed at their deadline.

Some work cannot be interrupted from inside the server: Python's ``re`` holds the GIL while a
catastrophic pattern (``(a+)+$``) backtracks, and HTML extraction (lxml, trafilatura) can
take quadratic time on a hostile page. In a thread such work would outlive the call's TIMEOUT
and hold up shutdown. It runs in a worker process instead, which can be killed, so that a
TIMEOUT means the work stopped.

A :class:`WorkerPool` keeps at most ``size`` workers and reuses them (starting one costs up
to a second: the child re-imports the program's main module and the ``preload`` modules, so
those are imported once, in the forkserver, and inherited). A job streams its results back
in batches; when its budget runs out, or the call is cancelled (a TIMEOUT, a client gone, a
server shutting down), the worker is killed and what arrived is kept. Domain errors raised in
a worker come back as the same :class:`WorkbenchError` subclass.

Limits inside the worker back the parent's deadline up where the parent cannot act: a CPU
limit (``RLIMIT_CPU``, set per job) ends a job whose server was killed before it could kill the
worker, and an address-space limit (``RLIMIT_AS``, ``memory_bytes`` above what the worker
holds when it starts) turns a job that would take the machine's memory into TOO_LARGE.
"""

from __future__ import annotations

import gc
import logging
import math
import multiprocessing
import os
import signal
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import anyio

from mcp_workbench.platform.errors import (
    TooLarge,
    WorkbenchError,
)

try:
    import resource
except ImportError:  # pragma: no cover - not on POSIX: the parent's deadline alone applies
    resource = None  # type: ignore[assignment]  # mypy checks as Linux, where the module always exists

log = logging.getLogger("mcp_workbench.isolation")

KILL_GRACE_S = 1.0
POLL_S = 0.2
BATCH_ITEMS = 50
BATCH_SECONDS = 0.1

_PRELOAD: set[str] = {__name__}
"""Modules every worker imports before its first job (the forkserver imports them once)."""

Emit = Callable[[Any], None]
Work = Callable[[Any, Emit], Any]


class WorkerFailed(RuntimeError):
    """A worker died or failed outside the work's own error handling (a crash, not a domain error)."""


@dataclass
class Outcome:
    """What a job produced: its emitted items, its return value, and how it ended."""

    items: list[Any] = field(default_factory=list)
    result: Any = None
    killed: bool = False
    error: WorkbenchError | None = None
    recycle: bool = False


class _Worker:
    def __init__(self, process: Any, connection: Connection) -> None:
        self.process = process
        self.connection = connection

    @classmethod
    def start(cls, name: str, memory_bytes: int | None) -> _Worker:
        context = _context()
        parent_end, child_end = context.Pipe(duplex=True)
        process = context.Process(target=_worker_main, args=(child_end, memory_bytes), daemon=True, name=name)
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
        # Takes effect when the forkserver starts (the first worker of any pool); a module
        # registered later is imported by each worker on its first job instead.
        context.set_forkserver_preload(sorted(_PRELOAD))
    return context


class WorkerPool:
    """At most ``size`` worker processes named ``name``; an overrunning or interrupted one is killed.

    ``preload`` names the modules the work lives in (imported once, before any job);
    ``memory_bytes`` bounds what one job may add to a worker's address space.
    """

    def __init__(
        self, name: str, *, size: int = 2, preload: Iterable[str] = (), memory_bytes: int | None = None
    ) -> None:
        self.name = name
        self.size = size
        self.memory_bytes = memory_bytes
        _PRELOAD.update(preload)
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
                worker.connection.send((work, job, budget_s + KILL_GRACE_S))
                outcome = await _collect(worker, self.name, deadline=time.monotonic() + budget_s + KILL_GRACE_S)
            finally:
                if outcome.killed or outcome.recycle or self._closed:
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
        return await anyio.to_thread.run_sync(_Worker.start, self.name, self.memory_bytes)

    async def aclose(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for worker in idle:
            await anyio.to_thread.run_sync(worker.stop)


async def _collect(worker: _Worker, name: str, *, deadline: float) -> Outcome:
    outcome = Outcome()
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            log.warning("worker killed at its deadline", extra={"pool": name, "pid": worker.process.pid})
            outcome.killed = True
            return outcome
        ready = await anyio.to_thread.run_sync(worker.connection.poll, min(remaining, POLL_S))
        if not ready:
            if not worker.process.is_alive():
                return _died(worker, name, outcome)
            continue
        try:
            kind, *payload = worker.connection.recv()
        except EOFError:
            return _died(worker, name, outcome)
        if kind == "items":
            outcome.items.extend(payload[0])
        elif kind == "done":
            outcome.result = payload[0]
            return outcome
        elif kind == "error":
            outcome.error, outcome.recycle = payload
            return outcome
        else:
            raise WorkerFailed(f"{name} worker failed:\n{payload[0]}")


def _died(worker: _Worker, name: str, outcome: Outcome) -> Outcome:
    """A worker that exits mid-job: at its CPU limit that is the budget running out; else a crash."""
    worker.process.join(1.0)
    code = worker.process.exitcode
    if code == -signal.SIGXCPU:
        log.warning("worker stopped at its CPU limit", extra={"pool": name, "pid": worker.process.pid})
        outcome.killed = True
        return outcome
    raise WorkerFailed(f"{name} worker exited with code {code} during a job")


def _worker_main(connection: Connection, memory_bytes: int | None) -> None:
    """A worker's loop: one job at a time, until the pipe closes."""
    _silence_stdout()
    # Ignore SIGINT: a Ctrl-C in the terminal reaches the whole process group; the server decides.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _limit_memory(memory_bytes)
    gc.freeze()  # what the worker inherited lives as long as it does: keep it out of every collection
    while True:
        try:
            work, job, cpu_s = connection.recv()
        except (EOFError, OSError):
            return
        _limit_cpu(cpu_s)
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
        connection.send(("error", exc, False))
    except MemoryError:
        batch.clear()
        error = TooLarge(
            "the work needed more memory than one job may use, and was stopped",
            recovery_steps=["Ask for less at once (a smaller page, file or range)."],
        )
        connection.send(("error", error, True))
    except Exception:  # noqa: BLE001 - the worker's top level: every failure is reported to the parent
        connection.send(("crash", traceback.format_exc()))


def _limit_cpu(cpu_s: float) -> None:
    """Let the coming job use at most ``cpu_s`` more seconds of CPU; past that the kernel ends the worker."""
    if resource is None:
        return
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = math.ceil(usage.ru_utime + usage.ru_stime + cpu_s) + 1
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _limit_memory(memory_bytes: int | None) -> None:
    """Cap the worker's address space at what it holds now plus ``memory_bytes`` (Linux)."""
    if resource is None or memory_bytes is None:
        return
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            held = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return  # not Linux: the parent's deadline alone bounds the job
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    soft = held + memory_bytes
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _silence_stdout() -> None:
    """stdout may be the stdio transport's protocol stream: a worker must never write there."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)

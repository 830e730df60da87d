"""``serve --transport http --workers N``: N worker processes on one port, and their supervisor.

Why not ``uvicorn.run(..., workers=N)``: it shares one listening socket between the
workers, and that socket is made without ``IPPROTO_TCP``, so asyncio never sets
TCP_NODELAY on the connections and a reply sent in two writes waits for the client's
delayed ACK (~40 ms per call). And with one shared socket the worker that wakes first
accepts every pending connection, so a few long-lived client connections all land on one
worker. Here each worker listens on its own SO_REUSEPORT socket (with TCP_NODELAY) on the
same address, and the kernel spreads connections across them. Where SO_REUSEPORT does not
exist, the supervisor binds one TCP_NODELAY socket and the workers share it.

The supervisor:

- checks the address before starting anything: a port already in use (by anyone, even
  another SO_REUSEPORT server) ends it with :data:`EXIT_ADDRESS_IN_USE` and one clear line;
- starts the workers (``spawn``, so each builds its own server from the same settings);
- on SIGTERM/SIGINT sends each worker SIGTERM: a worker stops accepting, lets in-flight
  calls finish for ``http.shutdown_grace_s``, then cancels the rest, like the single process;
- replaces a worker that dies unexpectedly, after a backoff that grows while it keeps dying
  young; if no worker ever came up, it gives up with :data:`EXIT_WORKERS_FAILED`;
- writes only JSON log lines to stderr, as every worker does (each tagged ``worker`` and
  ``worker_pid``).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from multiprocessing.context import SpawnContext, SpawnProcess
from multiprocessing.synchronize import Event
from typing import Any, cast

import uvicorn

from mcp_workbench.platform.sealing import shared_by_processes
from mcp_workbench.settings import Settings

log = logging.getLogger("mcp_workbench.workers")

EXIT_ADDRESS_IN_USE = 3
EXIT_WORKERS_FAILED = 1
RESTART_BACKOFF_S = (0.5, 30.0)  # first delay, ceiling; doubles while a worker keeps dying young
HEALTHY_AFTER_S = 30.0  # a worker that ran this long before dying restarts without delay
STOP_MARGIN_S = 10.0  # beyond the grace period, before a worker that does not stop is killed
PARENT_POLL_S = 1.0

HAS_REUSEPORT = hasattr(socket, "SO_REUSEPORT")


class AddressInUse(Exception):
    """The configured host:port cannot be bound."""


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET  # as uvicorn decides


def listening_socket(host: str, port: int, *, reuseport: bool, backlog: int = 2048) -> socket.socket:
    """A TCP listening socket with TCP_NODELAY (inherited by every accepted connection).

    Made with ``IPPROTO_TCP`` so that asyncio also sets TCP_NODELAY on accepted sockets.
    """
    sock = socket.socket(_family(host), socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuseport:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
        sock.listen(backlog)
    except BaseException:
        sock.close()
        raise
    return sock


def reserve_address(host: str, port: int, *, reuseport: bool) -> tuple[socket.socket, int]:
    """Check that nobody listens on host:port, then hold it for the workers.

    The check binds without SO_REUSEPORT, so it also fails when another SO_REUSEPORT server
    (which the workers would otherwise silently join) is there. With ``reuseport`` the
    reservation is a bound, non-listening SO_REUSEPORT socket: it receives no connections,
    keeps other programs off the port, and fixes the port number when the configured one is
    0. Without, it is the one listening socket all workers share.
    """
    probe = socket.socket(_family(host), socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
        port = probe.getsockname()[1]
    except OSError as exc:
        raise AddressInUse(_bind_problem(host, port, exc)) from exc
    finally:
        probe.close()
    if not reuseport:
        try:
            return listening_socket(host, port, reuseport=False), port
        except OSError as exc:
            raise AddressInUse(_bind_problem(host, port, exc)) from exc
    hold = socket.socket(_family(host), socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        hold.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        hold.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        hold.bind((host, port))
    except OSError as exc:
        hold.close()
        raise AddressInUse(_bind_problem(host, port, exc)) from exc
    return hold, port


def _bind_problem(host: str, port: int, exc: OSError) -> str:
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    if exc.errno == errno.EADDRINUSE:
        return f"cannot listen on {where}: the address is already in use (stop the other server or pick --port)"
    return f"cannot listen on {where}: {exc.strerror or exc}"


# --- the worker process -------------------------------------------------------------------


@dataclass(frozen=True)
class WorkerSpec:
    """What a worker needs; pickled into the spawned process (Settings keeps its secrets)."""

    index: int
    settings: Settings
    options: dict[str, Any]  # uvicorn.Config keyword arguments, with the reserved port
    shared: socket.socket | None  # the fallback's shared listening socket; None: bind our own


def run_worker(spec: WorkerSpec, ready: Event) -> None:
    """Entry point of a worker process: build the server, listen, serve until SIGTERM."""
    from mcp_workbench.asgi import http_app
    from mcp_workbench.platform.logging import configure_logging
    from mcp_workbench.startup import start

    stop_requested: list[int] = []
    for sig in (signal.SIGTERM, signal.SIGINT):  # until uvicorn takes over: note it, stop after building
        signal.signal(sig, lambda signum, _frame: stop_requested.append(signum))
    _tag_log_records(spec.index)
    configure_logging(spec.settings.log_level)
    _stop_when_orphaned()

    settings = spec.settings
    sock = spec.shared
    if sock is None:
        sock = listening_socket(spec.options["host"], spec.options["port"], reuseport=True)
    app = start(settings, lambda settings: http_app(settings, stateless=True))  # no sessions across processes
    if stop_requested:
        return
    # uvicorn re-raises the stop signal after its graceful shutdown; with these handlers in
    # place that only logs, and the worker exits 0.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _note_signal)
    server = _ReadyServer(uvicorn.Config(app, **spec.options), ready)
    server.run(sockets=[sock])


class _ReadyServer(uvicorn.Server):
    """Tells the supervisor once the lifespan has started and the socket is served."""

    def __init__(self, config: uvicorn.Config, ready: Event) -> None:
        super().__init__(config)
        self._ready = ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if not self.should_exit:
            self._ready.set()


def _note_signal(signum: int, _frame: object) -> None:
    log.info("worker shut down on signal", extra={"signal": signal.Signals(signum).name})


def _tag_log_records(index: int) -> None:
    """Every log line of this process says which worker wrote it (several share stderr)."""
    make_record = logging.getLogRecordFactory()
    pid = os.getpid()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        record.worker = index
        record.worker_pid = pid
        return record

    logging.setLogRecordFactory(factory)


def _stop_when_orphaned() -> None:
    """If the supervisor dies without stopping us (SIGKILL, OOM), shut down gracefully."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_S)
        log.warning("supervisor is gone; shutting down")
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="supervisor-watch", daemon=True).start()


# --- the supervisor -----------------------------------------------------------------------


@dataclass
class _Slot:
    index: int
    process: SpawnProcess | None = None
    ready: Event | None = None
    started_at: float = 0.0
    young_deaths: int = 0
    restart_at: float | None = None
    ever_ready: bool = False


@dataclass
class Supervisor:
    settings: Settings
    options: dict[str, Any]
    shared: socket.socket | None = None
    context: SpawnContext = field(default_factory=lambda: multiprocessing.get_context("spawn"))
    clock: Callable[[], float] = time.monotonic

    def __post_init__(self) -> None:
        self.slots = [_Slot(i) for i in range(self.settings.http.workers)]
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        self._stopping: int | None = None

    def run(self) -> int:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)
        for slot in self.slots:
            self._start(slot)
        try:
            code = self._supervise()
        finally:
            self._stop_all()
            os.close(self._wake_r)
            os.close(self._wake_w)
        return code

    def _on_signal(self, signum: int, _frame: object) -> None:
        if self._stopping is None:
            self._stopping = signum
        with contextlib.suppress(BlockingIOError):  # already woken
            os.write(self._wake_w, b"\0")

    def _start(self, slot: _Slot) -> None:
        slot.ready = self.context.Event()
        spec = WorkerSpec(slot.index, self.settings, self.options, self.shared)
        process = self.context.Process(
            target=run_worker, args=(spec, slot.ready), name=f"workbench-worker-{slot.index}"
        )
        process.start()
        slot.process, slot.started_at, slot.restart_at = process, self.clock(), None
        log.info("worker started", extra={"worker": slot.index, "worker_pid": process.pid})

    def _supervise(self) -> int:
        while self._stopping is None:
            self._note_ready()
            now = self.clock()
            for slot in self.slots:
                if slot.restart_at is not None and now >= slot.restart_at:
                    self._start(slot)
            running = {slot.process.sentinel: slot for slot in self.slots if slot.process is not None}
            due = [slot.restart_at for slot in self.slots if slot.restart_at is not None]
            starting = any(slot.ready is not None for slot in self.slots if slot.process is not None)
            timeout = max(0.0, min(due) - now) if due else None
            if starting:  # look again soon, to notice workers becoming ready
                timeout = 0.2 if timeout is None else min(timeout, 0.2)
            # wait() hands back some of the objects it was given, here all ints; typeshed says any kind
            for sentinel in cast("list[int]", wait([*running, self._wake_r], timeout)):
                if sentinel == self._wake_r:
                    os.read(self._wake_r, 64)
                elif self._stopping is None:
                    failed = self._reap(running[sentinel])
                    if failed is not None:
                        return failed
        log.info("stopping workers", extra={"signal": signal.Signals(self._stopping).name})
        return 0

    def _note_ready(self) -> None:
        for slot in self.slots:
            if slot.ready is not None and slot.process is not None and slot.ready.is_set():
                slot.ready = None
                slot.ever_ready = True
                log.info("worker ready", extra={"worker": slot.index, "worker_pid": slot.process.pid})

    def _reap(self, slot: _Slot) -> int | None:
        """A worker ended on its own: schedule its replacement (or give up if none ever came up)."""
        assert slot.process is not None
        slot.process.join()
        self._note_ready()
        code, pid = slot.process.exitcode, slot.process.pid
        slot.ready = None
        lived = self.clock() - slot.started_at
        slot.process = None
        if not any(s.ever_ready for s in self.slots):
            log.error(
                "worker failed to start; stopping",
                extra={"worker": slot.index, "worker_pid": pid, "exit_code": code},
            )
            return EXIT_WORKERS_FAILED
        slot.young_deaths = 0 if lived >= HEALTHY_AFTER_S else slot.young_deaths + 1
        first, ceiling = RESTART_BACKOFF_S
        delay = 0.0 if slot.young_deaths == 0 else min(ceiling, first * 2 ** (slot.young_deaths - 1))
        slot.restart_at = self.clock() + delay
        log.error(
            "worker exited unexpectedly; restarting it",
            extra={
                "worker": slot.index,
                "worker_pid": pid,
                "exit_code": code,
                "lived_s": round(lived, 3),
                "restart_in_s": delay,
            },
        )
        return None

    def _stop_all(self) -> None:
        running = [slot.process for slot in self.slots if slot.process is not None]
        for process in running:
            if process.is_alive() and process.pid is not None:
                os.kill(process.pid, signal.SIGTERM)  # SIGTERM, not SIGINT: a second SIGINT forces uvicorn out
        deadline = self.clock() + self.settings.http.shutdown_grace_s + STOP_MARGIN_S
        for process in running:
            process.join(max(0.0, deadline - self.clock()))
            if process.is_alive():
                log.error("worker did not stop in time; killing it", extra={"worker_pid": process.pid})
                process.kill()
                process.join()
        for slot in self.slots:
            slot.process = None


def serve_workers(settings: Settings, options: dict[str, Any]) -> int:
    """Run ``http.workers`` worker processes on host:port with these uvicorn options; returns the exit code."""
    host = options["host"]
    try:
        hold, port = reserve_address(host, options["port"], reuseport=HAS_REUSEPORT)
    except AddressInUse as exc:
        log.error(str(exc), extra={"host": host, "port": options["port"]})
        return EXIT_ADDRESS_IN_USE
    log.info(
        "listening", extra={"host": host, "port": port, "workers": settings.http.workers, "reuseport": HAS_REUSEPORT}
    )
    settings = settings.model_copy(update={"state": shared_by_processes(settings.state)})  # one key for all workers
    try:
        return Supervisor(settings, {**options, "port": port}, None if HAS_REUSEPORT else hold).run()
    finally:
        hold.close()

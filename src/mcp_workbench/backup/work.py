"""Blocking work (copying, compressing, checking files) off the event loop, and the lock that
keeps two backups of one output directory from running at once.

The work runs in a daemon thread rather than the loop's executor: a SQLite snapshot cannot be
interrupted once started, and a server shutting down must not wait for one (nor may the
interpreter's exit). A cancelled await leaves the thread to finish on its own; the caller's
cleanup removes what it wrote. On Linux the thread lowers its own CPU priority (a nice value is
per thread there), so a server taking a backup, or a machine running one beside the server,
keeps answering calls first.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
LOCK_NAME = ".lock"
LOCK_POLL_S = 0.2
NICENESS = 10


async def blocking(fn: Callable[[], T]) -> T:
    """Run ``fn`` in a daemon thread and await its result."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(outcome: Callable[[], None]) -> None:
        if not future.done():
            outcome()

    def run() -> None:
        _lower_priority()
        try:
            value = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting task, whatever it is
            error = exc
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(settle, lambda: future.set_exception(error))
            return
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(settle, lambda: future.set_result(value))

    threading.Thread(target=run, name="workbench-backup", daemon=True).start()
    return await future


def _lower_priority() -> None:
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICENESS)


class Busy(Exception):
    """Another process holds the output directory's lock (it is taking a backup)."""


def acquire_lock(directory: Path, *, wait_s: float) -> int | None:
    """Take ``directory/.lock`` (an advisory ``flock``) for one backup, waiting up to ``wait_s``
    for another process to finish, else raise :class:`Busy`. Returns the descriptor to pass to
    :func:`release_lock` (None where ``flock`` does not exist, Windows: backups are then not
    serialised). Blocking: call it through :func:`blocking` from async code."""
    try:
        import fcntl
    except ImportError:
        return None
    fd = os.open(directory / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() >= deadline:
                os.close(fd)
                raise Busy(f"another process is taking a backup into {directory}") from None
            time.sleep(LOCK_POLL_S)


def release_lock(fd: int | None) -> None:
    if fd is not None:
        os.close(fd)  # closing the descriptor releases the lock

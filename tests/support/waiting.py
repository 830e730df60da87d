"""Waiting for something another process or thread will make true: one way, for every test.

Prefer an event when there is one (``anyio.Event``, ``threading.Event``, a condition a log drain
notifies) under ``anyio.fail_after``. Poll only what offers nothing to wait on: a port that is
not open yet, a PostgreSQL session's state, the process table. :func:`wait_until` (blocking) and
:func:`eventually` (async) poll a condition until it holds and fail naming what was awaited, and
what was seen instead, past a deadline. The deadline is generous, for a loaded 2-core machine:
it bounds a failure, it is never what a test checks.
"""

from __future__ import annotations

import inspect
import subprocess
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio

DEADLINE_S = 60.0
POLL_S = 0.05

T = TypeVar("T")


class _Waiter:
    """What both helpers share: the deadline, the process that must stay up, the failure message."""

    def __init__(
        self,
        what: str,
        timeout_s: float,
        process: subprocess.Popen[Any] | None,
        ignore: tuple[type[BaseException], ...],
    ) -> None:
        self.what = what
        self.timeout_s = timeout_s
        self.deadline = time.monotonic() + timeout_s
        self.process = process
        self.ignore = ignore
        self.last_error: BaseException | None = None

    def failure(self) -> str | None:
        """Why waiting must stop now (the process exited, or the deadline passed), else None."""
        if self.process is not None and self.process.poll() is not None:
            return f"the process exited ({self.process.returncode}) while waiting until {self.what}"
        if time.monotonic() > self.deadline:
            seen = f" (last error: {self.last_error!r})" if self.last_error is not None else ""
            return f"timed out after {self.timeout_s:g} s waiting until {self.what}{seen}"
        return None


def wait_until(
    condition: Callable[[], T],
    what: str,
    *,
    timeout_s: float = DEADLINE_S,
    poll_s: float = POLL_S,
    process: subprocess.Popen[Any] | None = None,
    ignore: tuple[type[BaseException], ...] = (),
    explain: Callable[[], object] | None = None,
) -> T:
    """Call ``condition`` until it returns something true, and return that.

    ``what`` completes "waiting until ...". Exceptions of the ``ignore`` types count as "not
    yet" (a connection refused before the server listens). When ``process`` exits first, fail
    at once. ``explain()`` is added to the failure message: a server's stderr, say.
    """
    waiter = _Waiter(what, timeout_s, process, ignore)
    while True:
        try:
            if result := condition():
                return result
        except ignore as error:
            waiter.last_error = error
        if (why := waiter.failure()) is not None:
            raise AssertionError(why + (f": {explain()}" if explain is not None else ""))
        time.sleep(poll_s)


async def eventually(
    condition: Callable[[], Awaitable[T] | T],
    what: str,
    *,
    timeout_s: float = DEADLINE_S,
    poll_s: float = POLL_S,
    process: subprocess.Popen[Any] | None = None,
    ignore: tuple[type[BaseException], ...] = (),
    explain: Callable[[], Awaitable[object] | object] | None = None,
) -> T:
    """:func:`wait_until` for async tests: ``condition`` and ``explain`` may be coroutine functions."""
    waiter = _Waiter(what, timeout_s, process, ignore)
    while True:
        try:
            result = condition()
            if inspect.isawaitable(result):
                result = await result
            if result:
                return result  # type: ignore[return-value]
        except ignore as error:
            waiter.last_error = error
        if (why := waiter.failure()) is not None:
            if explain is not None:
                detail = explain()
                why += f": {await detail if inspect.isawaitable(detail) else detail}"
            raise AssertionError(why)
        await anyio.sleep(poll_s)

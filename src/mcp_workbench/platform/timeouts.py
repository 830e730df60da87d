"""A time budget for every tool call, and the commit point a write's budget respects.

The call runs as its own task. At the deadline the task is cancelled and the caller gets
TIMEOUT straight away; the task's cleanup (a database transaction rolling back, a temporary
file being removed) finishes in the background, because some of it cannot be interrupted (a
SQLite connection waiting for a lock, a worker thread writing a file).

**The rule for writes: a call either answers its real result, or answers TIMEOUT and keeps
nothing — never both.** A write marks the moment it starts to make its work permanent (the
database COMMIT, the rename of a finished temporary file) with :func:`commit_point` (or
:func:`commit_point_in_thread` from a worker thread). The budget and the point decide under
one lock which came first:

- the budget ran out (or the caller cancelled, or went away) *before* the commit point: the
  call answers TIMEOUT (a cancelled call is not answered), and the commit point refuses with
  :class:`CallAbandoned`, so the write rolls back and removes its temporary files;
- the commit point was reached first: from then on the call is never cancelled. A budget that
  runs out meanwhile waits for it and answers its real result, late; a caller that cancels
  is not answered, but the commit still finishes whole. A commit cut off midway could not be
  undone and its outcome could not be known (a COMMIT sent to PostgreSQL whose answer was
  never read may or may not have taken effect).

Every write path gets this by entering a commit point; nothing else is needed. A call outside
any budget (a server built without :class:`Budgets`) passes its commit points. At shutdown
:meth:`Budgets.settle` lets the commits still under way finish before the pools close.

The waiting is done by hand (one future, woken by the task's last step or by a timer) rather
than with ``asyncio.wait``, which builds sets and callbacks for many futures and costs two
extra turns of the event loop: this runs on every call.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from typing import Any, Literal

import anyio
import anyio.from_thread

from mcp_workbench.platform.errors import Timeout

log = logging.getLogger("mcp_workbench.timeouts")

Stage = Literal["reached", "committing", "committed", "late", "abandoned"]
"""Where a call is, as a :data:`CommitHook` sees it:

``reached`` a commit point, before the budget is asked; ``committing`` the budget agreed, the
commit is about to start; ``committed`` the commit point's block ended without an error;
``late`` the budget ran out (or the caller left) while committing, so the call finishes anyway;
``abandoned`` the budget ran out (or the caller left) before the commit point.
"""

CommitHook = Callable[[Stage, "CallBudget"], Coroutine[Any, Any, None]]
"""A seam for tests: awaited at each stage of a write (``reached``, ``committing``,
``committed``: in the call, so it can hold the call there), and started as a task of its own
for what the budget decided (``late``, ``abandoned``). It can end the budget at that moment
with :meth:`CallBudget.expire`, which lands a budget before, during or after a commit without
any timing. Servers leave it out."""

_OPEN, _COMMITTING, _ABANDONED = 0, 1, 2
_deciding = threading.Lock()  # commit points may be entered from worker threads
_current: ContextVar[CallBudget | None] = ContextVar("workbench_call_budget", default=None)


class CallAbandoned(asyncio.CancelledError):
    """A commit point refused: the call's budget ran out or its caller left first.

    A kind of cancellation, so every ``except BaseException`` cleanup runs and nothing catches
    it as an ordinary error; the call has already been answered (TIMEOUT) or never will be."""


class CallBudget:
    """One call's budget: the future its caller waits on, and whether it has begun to commit."""

    __slots__ = ("hook", "state", "woken")

    def __init__(self, woken: asyncio.Future[None], hook: CommitHook | None) -> None:
        self.woken = woken
        self.hook = hook
        self.state = _OPEN

    def expire(self) -> None:
        """End the budget now (the timer calls this; so may a :data:`CommitHook`)."""
        if not self.woken.done():
            self.woken.set_result(None)

    async def body(self, call: Awaitable[Any]) -> Any:
        _current.set(self)  # the task's own context: the call's commit points find it
        # Waking the caller from inside the task, as its last step, rather than from a done
        # callback saves one turn of the event loop on every call.
        try:
            return await call
        finally:
            self.expire()

    def begin_commit(self) -> None:
        with _deciding:
            if self.state == _ABANDONED:
                raise CallAbandoned("the call's time budget ran out before it could commit")
            self.state = _COMMITTING

    def abandon(self) -> bool:
        """Stop the call unless it has begun to commit; True if it was stopped."""
        with _deciding:
            if self.state == _COMMITTING:
                return False
            self.state = _ABANDONED
            return True


@asynccontextmanager
async def commit_point() -> AsyncIterator[None]:
    """Enter only to make the call's work permanent; see the module docstring for the rule.

    Raises :class:`CallAbandoned` (nothing is committed) when the budget ran out first. Once
    a call has begun to commit, further commit points of the same call pass."""
    budget = _current.get()
    if budget is None or budget.state == _COMMITTING:
        yield
        return
    hook = budget.hook
    if hook is not None:
        await hook("reached", budget)
    budget.begin_commit()
    if hook is not None:
        await hook("committing", budget)
    yield
    if hook is not None:
        await hook("committed", budget)


@contextmanager
def commit_point_in_thread() -> Iterator[None]:
    """:func:`commit_point` for blocking work in an ``anyio.to_thread`` worker thread."""
    budget = _current.get()
    if budget is None or budget.state == _COMMITTING:
        yield
        return
    hook = budget.hook
    if hook is not None:
        anyio.from_thread.run(hook, "reached", budget)
    budget.begin_commit()
    if hook is not None:
        anyio.from_thread.run(hook, "committing", budget)
    yield
    if hook is not None:
        anyio.from_thread.run(hook, "committed", budget)


class Budgets:
    """Runs a call within its tool's time budget, respecting the call's commit point."""

    def __init__(self, budget_for: Callable[[str], float], *, commit_hook: CommitHook | None = None) -> None:
        self.budget_for = budget_for
        self.commit_hook = commit_hook
        self._unfinished: set[asyncio.Task[Any]] = set()  # calls left to unwind or to finish their commit
        self._finishing: set[asyncio.Task[Any]] = set()  # of those, the ones committing

    async def run(self, tool: str, call: Awaitable[Any]) -> Any:
        budget = self.budget_for(tool)
        loop = asyncio.get_running_loop()
        state = CallBudget(loop.create_future(), self.commit_hook)
        task = loop.create_task(state.body(call))  # copies the context: correlation id, caller
        timer = loop.call_later(budget, state.expire)
        try:
            await state.woken
        except asyncio.CancelledError:  # the client cancelled or went away: stop the work too
            self._let_go(task, state)
            raise
        finally:
            timer.cancel()
        if task.done():
            return task.result()
        if self._let_go(task, state):
            raise Timeout(
                f"{tool} did not finish within its {budget:g} s budget and was stopped; nothing it started was kept",
                details={"tool": tool, "timeout_s": budget},
            )
        log.info("a call ran past its budget while committing; it finishes", extra={"tool": tool, "timeout_s": budget})
        return await asyncio.shield(task)  # a caller that leaves now does not stop the commit (it is held)

    def _let_go(self, task: asyncio.Task[Any], state: CallBudget) -> bool:
        """The caller stops waiting: cancel the call unless it is committing; True if cancelled."""
        stopped = state.abandon()
        if stopped:
            task.cancel()
        else:
            self._finishing.add(task)
        self._hold(task)
        if state.hook is not None:
            self._hold(asyncio.get_running_loop().create_task(state.hook("abandoned" if stopped else "late", state)))
        return stopped

    def _hold(self, task: asyncio.Task[Any]) -> None:
        """Keep ``task`` while it runs (the loop keeps only weak references)."""
        if task not in self._unfinished:
            self._unfinished.add(task)
            task.add_done_callback(self._finished)

    async def settle(self, within: float) -> None:
        """Wait, at most ``within`` seconds, for the commits of calls nobody waits for any more.

        For the server's shutdown, before it closes the database pools: a commit cut off then
        could be neither undone nor known. Calls stopped before their commit point only roll
        back, which closing the pools does as well."""
        finishing = [task for task in self._finishing if not task.done()]
        if finishing:
            with anyio.move_on_after(within, shield=True):  # the shutdown may already be cancelled
                await asyncio.wait(finishing)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._unfinished.discard(task)
        self._finishing.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.info("a call past its budget ended with an error", extra={"error": repr(task.exception())})

"""Landing a call's time budget exactly before, during or after its commit point.

:class:`BudgetAt` is a :data:`~mcp_workbench.platform.timeouts.CommitHook` (the server's seam,
passed to ``build_server(..., commit_hook=...)``). At the chosen stage of the first write it
ends that call's budget (:meth:`CallBudget.expire`, what the budget's timer calls) and holds
the write there until the budget has decided — ``abandoned`` or ``late`` — so the order of
events is fixed and no test waits on a clock.

- ``reached``: the budget ends before the commit point: TIMEOUT, nothing kept;
- ``committing``: it ends after the point, before the COMMIT / rename runs: the real result;
- ``committed``: it ends after the commit, before the answer: the real result.

With ``expire=False`` it only holds the write at the stage until the budget decides, so a
budget from the settings (or the client's cancellation) is what ends the call. With ``until``
it holds the write there until the test sets that event instead.
"""

from __future__ import annotations

import asyncio

from mcp_workbench.platform.timeouts import CallBudget, Stage

BEFORE, DURING, AFTER = "reached", "committing", "committed"
STAGES = [BEFORE, DURING, AFTER]


class BudgetAt:
    def __init__(self, stage: Stage, *, expire: bool = True, until: asyncio.Event | None = None) -> None:
        self.stage = stage
        self.expire = expire
        self.until = until
        self.seen: list[Stage] = []
        self.held = asyncio.Event()
        self.decided = asyncio.Event()
        self.committed = asyncio.Event()
        self.decision: Stage | None = None
        self._used = False

    async def __call__(self, stage: Stage, budget: CallBudget) -> None:
        self.seen.append(stage)
        if stage in ("late", "abandoned"):
            self.decision = stage
            self.decided.set()
            return
        if stage == "committed":
            self.committed.set()
        if stage == self.stage and not self._used:
            self._used = True
            self.held.set()
            if self.expire:
                budget.expire()
            await (self.until or self.decided).wait()

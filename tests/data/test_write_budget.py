"""A write whose time budget runs out answers its real result or TIMEOUT, never TIMEOUT and keeps it.

Every write operation, on SQLite and on a real PostgreSQL, with the budget landing before the
commit point (TIMEOUT; the database is read directly afterwards and is as it was), during the
commit (the real result, late; the change is there whole) and after it (the same). The budget
is landed by the server's commit seam (tests/support/commits.py), not by timing. Then the same
with a short budget from the settings, and with a client that cancels.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import asyncpg
import pytest
from fastmcp import Client

from mcp_workbench.platform.timeouts import CommitHook
from mcp_workbench.server import build_server
from mcp_workbench.settings import Settings
from tests.support.commits import AFTER, BEFORE, DURING, STAGES, BudgetAt
from tests.support.session import Session

pytestmark = pytest.mark.anyio

ROWS = 300
Snapshot = dict[str, Any]

# operation arguments, the database as it must look after the operation, and its "affected"
OPERATIONS: dict[str, tuple[dict[str, Any], Callable[[Snapshot], Snapshot], int]] = {
    "insert": (
        {"operation": "insert", "table": "t", "rows": [{"id": ROWS + i, "batch": "new"} for i in range(400)]},
        lambda s: {**s, "rows": s["rows"] + 400, "batches": ["new", "old"]},
        400,
    ),
    "update": (
        {"operation": "update", "table": "t", "values": {"batch": "updated"}, "all_rows": True},
        lambda s: {**s, "batches": ["updated"]},
        ROWS,
    ),
    "delete": (
        {"operation": "delete", "table": "t", "where": [{"column": "id", "op": "<", "value": 150}]},
        lambda s: {**s, "rows": s["rows"] - 150},
        150,
    ),
    "create_table": (
        {
            "operation": "create_table",
            "table": "fresh",
            "columns": [{"name": "id", "type": "integer", "primary_key": True}, {"name": "note", "type": "text"}],
        },
        lambda s: {**s, "tables": sorted([*s["tables"], "fresh"])},
        0,
    ),
    "drop_table": (
        {"operation": "drop_table", "table": "t"},
        lambda s: {"tables": [], "rows": None, "batches": None},
        ROWS,
    ),
}


async def snapshot(engine: str, url: str) -> Snapshot:
    """The workspace as its database shows it to another connection."""
    if engine == "postgresql":
        conn = await asyncpg.connect(url)
        try:
            tables = sorted(
                r[0] for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            )
            if "t" not in tables:
                return {"tables": tables, "rows": None, "batches": None}
            rows = int(await conn.fetchval("SELECT count(*) FROM t"))
            batches = sorted(r[0] for r in await conn.fetch("SELECT DISTINCT batch FROM t"))
        finally:
            await conn.close()
        return {"tables": tables, "rows": rows, "batches": batches}
    db = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        tables = sorted(r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'"))
        if "t" not in tables:
            return {"tables": tables, "rows": None, "batches": None}
        rows = db.execute("SELECT count(*) FROM t").fetchone()[0]
        batches = sorted(r[0] for r in db.execute("SELECT DISTINCT batch FROM t"))
    finally:
        db.close()
    return {"tables": tables, "rows": rows, "batches": batches}


@asynccontextmanager
async def server(settings: Settings, hook: CommitHook | None, era: str) -> AsyncIterator[Session]:
    async with Client(build_server(settings, commit_hook=hook), mode=era) as client:
        yield Session(client)


async def make_table(session: Session) -> None:
    columns = [{"name": "id", "type": "integer", "primary_key": True}, {"name": "batch", "type": "text"}]
    await session.ok("data_write", operation="create_table", table="t", columns=columns)
    await session.ok("data_write", operation="insert", table="t", rows=[{"id": i, "batch": "old"} for i in range(ROWS)])


async def still_works(session: Session) -> None:
    """Once the abandoned call has unwound (a write waits for its locks), the source writes again."""
    await session.ok("data_write", operation="create_table", table="probe", columns=[{"name": "id", "type": "integer"}])
    await session.ok("data_write", operation="drop_table", table="probe")


@pytest.mark.parametrize("operation", list(OPERATIONS))
@pytest.mark.parametrize("stage", STAGES)
async def test_a_budget_landing_at_each_stage_of_a_write_answers_timeout_and_keeps_nothing_or_answers_the_result(
    data_settings: Callable[..., Settings], engine: str, workspace_url: str, operation: str, stage: str
) -> None:
    arguments, changed, affected = OPERATIONS[operation]
    budget = BudgetAt(stage)  # type: ignore[arg-type]
    async with server(data_settings(), None, "legacy") as setup:
        await make_table(setup)
    before = await snapshot(engine, workspace_url)
    async with server(data_settings(), budget, "legacy") as session:
        outcome = await session.call("data_write", **arguments)
        assert budget.held.is_set(), f"the {operation} never reached its commit point: {outcome.text}"
        with anyio.fail_after(30):
            await budget.decided.wait()
        if stage == BEFORE:
            assert outcome.code == "TIMEOUT", outcome.text
            assert budget.decision == "abandoned"
            await still_works(session)
            assert await snapshot(engine, workspace_url) == before, "a write that answered TIMEOUT was kept"
        else:
            assert not outcome.is_error, f"a write past its commit point answered {outcome.text}"
            assert outcome.data["affected"] == affected and outcome.data["dry_run"] is False
            assert budget.decision == "late"
            assert await snapshot(engine, workspace_url) == changed(before)
            await still_works(session)


@pytest.mark.parametrize("stage", [BEFORE, DURING])
async def test_both_eras_get_the_same_answer(
    data_settings: Callable[..., Settings], engine: str, workspace_url: str, era: str, stage: str
) -> None:
    arguments, changed, _ = OPERATIONS["insert"]
    budget = BudgetAt(stage)  # type: ignore[arg-type]
    async with server(data_settings(), None, era) as setup:
        await make_table(setup)
    before = await snapshot(engine, workspace_url)
    async with server(data_settings(), budget, era) as session:
        outcome = await session.call("data_write", **arguments)
        expected = before if stage == BEFORE else changed(before)
        assert (outcome.code == "TIMEOUT") is (stage == BEFORE), outcome.text
        await still_works(session)
    assert await snapshot(engine, workspace_url) == expected


async def test_a_short_budget_from_the_settings_that_ends_before_the_commit_keeps_nothing(
    data_settings: Callable[..., Settings], make_settings: Callable[..., Settings], engine: str, workspace_url: str
) -> None:
    """The budget's own timer, not the seam, ends the call: on its way to its commit point or
    waiting there (the seam holds it until the budget has decided)."""
    arguments, _, _ = OPERATIONS["insert"]
    async with server(data_settings(), None, "legacy") as setup:
        await make_table(setup)
    before = await snapshot(engine, workspace_url)
    settings = data_settings()
    settings.timeouts.tools["data_write"] = 0.05
    budget = BudgetAt(BEFORE, expire=False)
    async with server(settings, budget, "legacy") as session:
        error = await session.error("data_write", "TIMEOUT", **arguments)
        assert error["details"] == {"tool": "data_write", "timeout_s": 0.05}
    with anyio.fail_after(30):  # wherever the timer landed, the write never passed its commit point
        await budget.decided.wait()
    assert budget.decision == "abandoned"
    assert await snapshot(engine, workspace_url) == before


@pytest.mark.parametrize("stage", [BEFORE, DURING, AFTER])
async def test_a_client_that_cancels_leaves_nothing_before_the_commit_point_and_a_whole_commit_after_it(
    data_settings: Callable[..., Settings], engine: str, workspace_url: str, era: str, stage: str
) -> None:
    """A cancelled call is never answered; what it leaves follows the same rule as a TIMEOUT."""
    arguments, changed, _ = OPERATIONS["insert"]
    budget = BudgetAt(stage, expire=False)  # type: ignore[arg-type]
    async with server(data_settings(), None, era) as setup:
        await make_table(setup)
    before = await snapshot(engine, workspace_url)
    async with server(data_settings(), budget, era) as session:
        answered: list[Any] = []
        async with anyio.create_task_group() as tasks:
            call = anyio.CancelScope()

            async def insert() -> None:
                with call:
                    answered.append(await session.client.call_tool_mcp("data_write", arguments))

            tasks.start_soon(insert)
            await budget.held.wait()
            call.cancel()
        with anyio.fail_after(30):
            await budget.decided.wait()
            if stage != BEFORE:  # the commit finishes although nobody waits for it
                await budget.committed.wait()
        await still_works(session)
        assert answered == [], "a cancelled call was answered"
    assert budget.decision == ("abandoned" if stage == BEFORE else "late")
    assert await snapshot(engine, workspace_url) == (before if stage == BEFORE else changed(before))

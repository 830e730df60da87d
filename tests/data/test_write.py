"""data_write on both engines and both eras: each operation, transactions, dry runs, read-only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from mcp_workbench.settings import Settings
from tests.support.data_source import fingerprint, make_notes
from tests.support.session import Session

pytestmark = pytest.mark.anyio


async def ids(session: Session, table: str = "notes") -> list[int]:
    data = await session.ok("data_read", operation="select", table=table, columns=["id"])
    return [row[0] for row in data["rows"]]


async def test_create_table_then_insert_one_row_returns_its_key(db: Session) -> None:
    created = await db.ok(
        "data_write",
        operation="create_table",
        table="items",
        columns=[
            {"name": "id", "type": "integer", "primary_key": True},
            {"name": "name", "type": "text", "nullable": False},
        ],
    )
    assert created["created"] is True and "CREATE TABLE" in created["ddl"]
    inserted = await db.ok("data_write", operation="insert", table="items", rows=[{"name": "first"}])
    assert inserted["affected"] == 1 and inserted["inserted_keys"] == [1]
    assert (await db.ok("data_read", operation="select", table="items"))["rows"] == [[1, "first"]]


async def test_insert_many_rows_with_different_columns_uses_defaults_for_the_rest(db: Session) -> None:
    await db.ok(
        "data_write",
        operation="create_table",
        table="t",
        columns=[
            {"name": "id", "type": "integer", "primary_key": True},
            {"name": "status", "type": "text", "default": "new"},
            {"name": "n", "type": "integer", "default": 7},
        ],
    )
    result = await db.ok(
        "data_write", operation="insert", table="t", rows=[{"id": 1}, {"id": 2, "status": "done"}, {"id": 3, "n": 1}]
    )
    assert result["inserted"] == 3 and sorted(result["inserted_keys"]) == [1, 2, 3]
    rows = (await db.ok("data_read", operation="select", table="t"))["rows"]
    assert rows == [[1, "new", 7], [2, "done", 7], [3, "new", 1]]


async def test_update_changes_only_matching_rows(db: Session) -> None:
    await make_notes(db)
    result = await db.ok(
        "data_write",
        operation="update",
        table="notes",
        values={"score": 99},
        where=[{"column": "id", "op": "in", "value": [1, 2]}],
    )
    assert result["updated"] == 2
    data = await db.ok("data_read", operation="select", table="notes", columns=["id", "score"])
    assert data["rows"] == [[1, 99], [2, 99], [3, 30], [4, None]]


async def test_delete_removes_only_matching_rows(db: Session) -> None:
    await make_notes(db)
    result = await db.ok("data_write", operation="delete", table="notes", where=[{"column": "score", "op": "is_null"}])
    assert result["deleted"] == 1
    assert await ids(db) == [1, 2, 3]


@pytest.mark.parametrize("operation", ["update", "delete"])
async def test_touching_every_row_needs_all_rows_true(db: Session, operation: str) -> None:
    await make_notes(db)
    extra: dict[str, Any] = {"values": {"score": 0}} if operation == "update" else {}
    refused = await db.error("data_write", "VALIDATION_ERROR", operation=operation, table="notes", **extra)
    assert any("all_rows" in step for step in refused["recovery_steps"])
    assert await ids(db) == [1, 2, 3, 4]
    done = await db.ok("data_write", operation=operation, table="notes", all_rows=True, **extra)
    assert done["affected"] == 4


async def test_dry_runs_report_and_change_nothing(db: Session) -> None:
    await make_notes(db)
    before = await fingerprint(db)
    update = await db.ok(
        "data_write",
        operation="update",
        table="notes",
        values={"score": 1},
        where=[{"column": "id", "op": "<", "value": 3}],
        dry_run=True,
    )
    assert update["dry_run"] is True and update["would_update"] == 2 and len(update["sample_before"]) == 2
    delete = await db.ok("data_write", operation="delete", table="notes", all_rows=True, dry_run=True)
    assert delete["would_delete"] == 4
    insert = await db.ok("data_write", operation="insert", table="notes", rows=[{"id": 9, "title": "x"}], dry_run=True)
    assert insert["would_insert"] == 1
    create = await db.ok(
        "data_write", operation="create_table", table="other", columns=[{"name": "a", "type": "text"}], dry_run=True
    )
    assert create["would_create"] is True and "CREATE TABLE other" in create["ddl"]
    drop = await db.ok("data_write", operation="drop_table", table="notes", dry_run=True)
    assert drop["rows_lost"] == 4
    assert await fingerprint(db) == before


async def test_drop_table_removes_it(db: Session) -> None:
    await make_notes(db)
    result = await db.ok("data_write", operation="drop_table", table="notes")
    assert result["dropped"] is True and result["rows_lost"] == 4
    assert (await db.ok("data_read", operation="tables"))["tables"] == []
    await db.error("data_read", "NOT_FOUND", operation="select", table="notes")


async def test_if_exists_and_if_not_exists_make_ddl_idempotent(db: Session) -> None:
    await make_notes(db)
    again = await db.ok(
        "data_write",
        operation="create_table",
        table="notes",
        columns=[{"name": "a", "type": "text"}],
        if_not_exists=True,
    )
    assert again["created"] is False
    await db.error(
        "data_write", "CONFLICT", operation="create_table", table="notes", columns=[{"name": "a", "type": "text"}]
    )
    gone = await db.ok("data_write", operation="drop_table", table="missing", if_exists=True)
    assert gone["dropped"] is False


async def test_a_failing_row_rolls_back_the_whole_insert(db: Session) -> None:
    await make_notes(db)
    before = await fingerprint(db)
    await db.error(
        "data_write",
        "CONFLICT",
        operation="insert",
        table="notes",
        rows=[{"id": 10, "title": "new"}, {"id": 1, "title": "dup"}],
    )
    await db.error("data_write", "CONFLICT", operation="insert", table="notes", rows=[{"id": 11, "title": None}])
    assert await fingerprint(db) == before


async def test_writes_to_a_read_only_source_are_refused(
    connect: Callable[[Settings], Any], data_settings: Callable[..., Settings], workspace_url: str
) -> None:
    async with connect(data_settings()) as writer:
        await make_notes(writer)
    settings = data_settings(sources={"archive": {"url": workspace_url, "read_only": True}})
    async with connect(settings) as session:
        listed = {s["name"]: s["read_only"] for s in (await session.ok("data_read", operation="sources"))["sources"]}
        assert listed == {"workspace": False, "archive": True}
        before = await fingerprint(session, "archive")
        await session.error(
            "data_write", "READ_ONLY", operation="delete", source="archive", table="notes", all_rows=True
        )
        await session.error("data_write", "READ_ONLY", operation="drop_table", source="archive", table="notes")
        await session.error(
            "data_write", "READ_ONLY", operation="insert", source="archive", table="notes", rows=[{"title": "x"}]
        )
        assert (await session.ok("data_read", operation="count", source="archive", table="notes"))["count"] == 4
        assert await fingerprint(session, "archive") == before


async def test_data_write_is_not_offered_when_every_source_is_read_only(
    connect: Callable[[Settings], Any], make_settings: Callable[..., Settings], tmp_path
) -> None:
    import sqlite3

    path = tmp_path / "ro.db"
    sqlite3.connect(path).close()
    settings = make_settings(data={"sources": {"workspace": {"url": f"sqlite:///{path}", "read_only": True}}})
    async with connect(settings) as session:
        names = {tool.name for tool in await session.client.list_tools()}
        assert "data_read" in names and "data_write" not in names


async def test_the_workspace_database_is_created_on_first_use(
    connect: Callable[[Settings], Any], make_settings: Callable[..., Settings], tmp_path
) -> None:
    settings = make_settings(data_dir=tmp_path / "fresh")
    assert not (tmp_path / "fresh").exists()
    async with connect(settings) as session:
        assert not (tmp_path / "fresh").exists()  # nothing touched until a call needs it
        await session.ok("data_read", operation="tables")
    assert (tmp_path / "fresh" / "workspace.db").is_file()

"""Hostile and malformed input: every case gets a clear error code and the database stays
exactly as it was (checked by a fingerprint of every table, and for SQLite the file bytes)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from mcp_workbench.data.sources import SourceRegistry
from mcp_workbench.platform.errors import ReadOnly
from mcp_workbench.settings import Settings
from tests.support.data_source import fingerprint, make_notes
from tests.support.session import Session

pytestmark = pytest.mark.anyio


def _file_digest(url: str) -> str:
    digest = hashlib.sha256()
    path = Path(url.removeprefix("sqlite:///"))
    for candidate in (path, path.with_name(path.name + "-wal")):
        if candidate.exists():
            digest.update(candidate.read_bytes())
    return digest.hexdigest()


@pytest.fixture
async def guarded(db: Session, engine: str, workspace_url: str) -> AsyncIterator[Session]:
    """A database with data; after the test, it must be unchanged in every table (and byte)."""
    await make_notes(db)
    before = await fingerprint(db)
    file_before = _file_digest(workspace_url) if engine == "sqlite" else None
    yield db
    assert await fingerprint(db) == before, "the database changed"
    if file_before is not None:
        assert _file_digest(workspace_url) == file_before, "the SQLite file changed"


HOSTILE_SQL = [
    ("SELECT 1; DROP TABLE notes", "PERMISSION_DENIED"),
    ("SELECT * FROM notes; DELETE FROM notes", "PERMISSION_DENIED"),
    ("DELETE FROM notes", "PERMISSION_DENIED"),
    ("UPDATE notes SET score = 0", "PERMISSION_DENIED"),
    ("INSERT INTO notes (title) VALUES ('x')", "PERMISSION_DENIED"),
    ("DROP TABLE notes", "PERMISSION_DENIED"),
    ("ALTER TABLE notes ADD COLUMN x int", "PERMISSION_DENIED"),
    ("CREATE TABLE evil (a int)", "PERMISSION_DENIED"),
    ("PRAGMA writable_schema = 1", "PERMISSION_DENIED"),
    ("ATTACH DATABASE '/tmp/evil.db' AS evil", "PERMISSION_DENIED"),
    ("COPY notes TO '/tmp/notes.csv'", "PERMISSION_DENIED"),
    ("SELECT pg_read_file('/etc/passwd')", "PERMISSION_DENIED"),
    ("SELECT load_extension('/tmp/evil.so')", "PERMISSION_DENIED"),
    ("SELECT set_config('default_transaction_read_only', 'off', false)", "PERMISSION_DENIED"),
    ("SELECT * INTO stolen FROM notes", "PERMISSION_DENIED"),
    ("SELECT * FROM notes FOR UPDATE", "PERMISSION_DENIED"),
    ("EXPLAIN ANALYZE DELETE FROM notes", "PERMISSION_DENIED"),
    ("BEGIN; DELETE FROM notes; COMMIT", "PERMISSION_DENIED"),
    ("VACUUM", "PERMISSION_DENIED"),
    ("SELECT query_to_xml('delete from notes', true, true, '')", "PERMISSION_DENIED"),
    ("SELEC * FROM notes", "VALIDATION_ERROR"),
    ("", "VALIDATION_ERROR"),
    ("   ;  ", "VALIDATION_ERROR"),
]


@pytest.mark.parametrize(("sql", "code"), HOSTILE_SQL, ids=[sql[:40] or "empty" for sql, _ in HOSTILE_SQL])
async def test_sql_that_could_write_or_escape_is_refused(guarded: Session, sql: str, code: str) -> None:
    error = await guarded.error("data_read", code, operation="sql", sql=sql)
    assert error["recovery_steps"], "every refusal says what to do instead"


async def test_a_write_hidden_in_a_cte_is_refused(guarded: Session, engine: str) -> None:
    sql = "WITH gone AS (DELETE FROM notes RETURNING *) SELECT * FROM gone"
    outcome = await guarded.call("data_read", operation="sql", sql=sql)
    assert outcome.is_error and outcome.code in {"PERMISSION_DENIED", "VALIDATION_ERROR"}


async def test_the_engine_refuses_writes_on_read_connections_even_without_the_parser(
    data_settings: Callable[..., Settings], guarded: Session
) -> None:
    """Second layer: a statement the parser would have missed still cannot write."""
    registry = SourceRegistry(data_settings().data_section())
    source = registry.get("workspace")
    try:
        for statement in ("DELETE FROM notes", "CREATE TABLE sneaky (a int)", "UPDATE notes SET score = 0"):
            with pytest.raises(ReadOnly):
                async with source.reading() as conn:
                    await conn.exec_driver_sql(statement)
            with pytest.raises(ReadOnly):  # the one-trip read path runs on the same guarded connections
                await source.fetch(statement, [], 10, bounded=False)  # unwrapped: the statement reaches the engine
    finally:
        await registry.aclose()


async def test_a_read_connection_closed_under_the_pool_is_replaced(
    data_settings: Callable[..., Settings], guarded: Session, engine: str
) -> None:
    """A cancelled call can leave a closed connection in the pool; the next read gets a fresh one.

    SQLite's read pool checks at checkout without a round trip; PostgreSQL's pool pings.
    """
    registry = SourceRegistry(data_settings(pool_size=1).data_section())
    source = registry.get("workspace")
    try:
        assert (await source.fetch("SELECT count(*) FROM notes", [], 1))[1] == [(4,)]
        async with source.reading() as conn:
            driver = (await conn.get_raw_connection()).driver_connection
        await driver.close()  # now closed, and back in the pool
        assert (await source.fetch("SELECT count(*) FROM notes", [], 1))[1] == [(4,)]
        async with source.reading() as conn:
            assert (await conn.exec_driver_sql("SELECT count(*) FROM notes")).scalar_one() == 4
    finally:
        await registry.aclose()


IDENTIFIER_ATTACKS = [
    {"operation": "select", "table": "notes; DROP TABLE notes"},
    {"operation": "select", "table": 'notes" --'},
    {"operation": "select", "table": "notes", "columns": ["id) FROM notes; DROP TABLE notes; --"]},
    {"operation": "select", "table": "notes", "where": [{"column": "1=1 OR id", "op": "=", "value": 1}]},
    {"operation": "select", "table": "notes", "order_by": [{"column": "(SELECT 1)"}]},
    {"operation": "count", "table": "sqlite_master"},
    {"operation": "describe", "table": "pg_catalog.pg_authid"},
    {"operation": "search", "query": "x", "table": "../../etc/passwd"},
]


@pytest.mark.parametrize("arguments", IDENTIFIER_ATTACKS, ids=lambda a: str(a)[:60])
async def test_identifiers_that_are_not_in_the_schema_are_not_found(
    guarded: Session, arguments: dict[str, Any]
) -> None:
    await guarded.error("data_read", "NOT_FOUND", **arguments)


async def test_injection_in_values_is_just_data(guarded: Session) -> None:
    data = await guarded.ok(
        "data_read", operation="select", table="notes", where=[{"column": "title", "value": "x' OR '1'='1"}]
    )
    assert data["rows"] == []
    data = await guarded.ok(
        "data_read", operation="sql", sql="SELECT id FROM notes WHERE title = ?", params=["'; DROP TABLE notes; --"]
    )
    assert data["rows"] == []


async def test_injection_in_write_values_is_stored_verbatim(db: Session) -> None:
    await make_notes(db)
    payload = "'); DROP TABLE notes; --"
    await db.ok("data_write", operation="insert", table="notes", rows=[{"id": 50, "title": payload}])
    data = await db.ok(
        "data_read", operation="select", table="notes", columns=["title"], where=[{"column": "id", "value": 50}]
    )
    assert data["rows"] == [[payload]]
    assert (await db.ok("data_read", operation="count", table="notes"))["count"] == 5


MALFORMED_READS = [
    {"operation": "select", "table": "notes", "limit": "ten"},
    {"operation": "select", "table": "notes", "limit": 0},
    {"operation": "select", "table": "notes", "limit": 5000},  # above max_rows
    {"operation": "select", "table": "notes", "offset": -1},
    {"operation": "select", "table": "notes", "where": "id = 1"},
    {"operation": "select", "table": "notes", "where": [{"column": "id", "op": "~~", "value": 1}]},
    {"operation": "select", "table": "notes", "where": [{"column": "id", "op": "in", "value": []}]},
    {"operation": "select", "table": "notes", "where": [{"column": "id", "op": "in", "value": 3}]},
    {"operation": "select", "table": "notes", "where": [{"column": "id", "op": "is_null", "value": 3}]},
    {"operation": "select", "table": "notes", "where": [{"column": "id", "op": "="}]},
    {"operation": "select", "table": "notes", "where": [{"column": "title", "op": "like", "value": 5}]},
    {"operation": "select", "table": "notes", "where": [{"column": "id", "value": {"nested": True}}]},
    {"operation": "select", "table": "notes", "where": [{"column": "id", "value": 1}] * 51},
    {"operation": "select", "table": "notes", "where": [{"column": "id", "value": "abc"}]},
    {"operation": "select", "table": "notes", "where": [{"column": "day", "value": "yesterday"}]},
    {"operation": "select", "table": "x" * 200},
    {"operation": "select"},
    {"operation": "select", "table": "notes", "unexpected": 1},
    {"operation": "drop_everything"},
    {"table": "notes"},
    {"operation": "search", "query": ""},
    {"operation": "search", "query": "q" * 501},
    {"operation": "sql", "sql": "SELECT 1 " + " " * 100_000},
    {"operation": "sql", "sql": "SELECT ?", "params": []},
    {"operation": "sql", "sql": "SELECT 1", "params": [1]},
    {"operation": "sql", "sql": "SELECT ?", "params": [[1, 2]]},
]


@pytest.mark.parametrize("arguments", MALFORMED_READS, ids=lambda a: str(a)[:60])
async def test_malformed_reads_are_validation_errors(guarded: Session, arguments: dict[str, Any]) -> None:
    error = await guarded.error("data_read", "VALIDATION_ERROR", **arguments)
    assert error["error"] and error["recovery_steps"] and error["correlation_id"]


MALFORMED_WRITES = [
    {"operation": "insert", "table": "notes", "rows": []},
    {"operation": "insert", "table": "notes", "rows": [{}]},
    {"operation": "insert", "table": "notes", "rows": [{"title": "ok", "score": "high"}]},
    {"operation": "insert", "table": "notes", "rows": [{"title": "ok", "day": "not a date"}]},
    {"operation": "insert", "table": "notes", "rows": [{"title": "x" * 1_000_001}]},
    {"operation": "insert", "table": "notes", "rows": [{"title": f"r{i}"} for i in range(1001)]},  # > max_write_rows
    {"operation": "insert", "table": "notes", "rows": "title=x"},
    {"operation": "update", "table": "notes", "values": {}, "where": [{"column": "id", "value": 1}]},
    {"operation": "update", "table": "notes", "values": {"score": "x"}, "where": [{"column": "id", "value": 1}]},
    {"operation": "update", "table": "notes", "values": {"score": 1}},
    {"operation": "delete", "table": "notes"},
    {"operation": "delete", "table": "notes", "all_rows": "yes please"},
    {"operation": "create_table", "table": "bad name", "columns": [{"name": "a", "type": "text"}]},
    {"operation": "create_table", "table": "t1; DROP TABLE notes", "columns": [{"name": "a", "type": "text"}]},
    {"operation": "create_table", "table": "t2", "columns": [{"name": "a", "type": "text); DROP TABLE notes; --"}]},
    {"operation": "create_table", "table": "t3", "columns": [{"name": "a b", "type": "text"}]},
    {
        "operation": "create_table",
        "table": "t4",
        "columns": [{"name": "a", "type": "text"}, {"name": "A", "type": "text"}],
    },
    {"operation": "create_table", "table": "t5", "columns": []},
    {"operation": "select", "table": "notes"},  # a read operation sent to the write tool
]


@pytest.mark.parametrize("arguments", MALFORMED_WRITES, ids=lambda a: str(a)[:60])
async def test_malformed_writes_are_validation_errors_and_write_nothing(
    guarded: Session, arguments: dict[str, Any]
) -> None:
    await guarded.error("data_write", "VALIDATION_ERROR", **arguments)


WRONG_NAMES = [
    {"operation": "insert", "table": "missing", "rows": [{"a": 1}]},
    {"operation": "insert", "table": "notes", "rows": [{"title": "ok"}, {"nope": 1}]},
    {"operation": "update", "table": "notes", "values": {"nope": 1}, "where": [{"column": "id", "value": 1}]},
    {"operation": "delete", "table": "notes", "where": [{"column": "nope", "value": 1}]},
    {"operation": "drop_table", "table": "missing"},
    {"operation": "insert", "source": "elsewhere", "table": "notes", "rows": [{"title": "x"}]},
]


@pytest.mark.parametrize("arguments", WRONG_NAMES, ids=lambda a: str(a)[:60])
async def test_writes_naming_things_that_do_not_exist_are_not_found(
    guarded: Session, arguments: dict[str, Any]
) -> None:
    error = await guarded.error("data_write", "NOT_FOUND", **arguments)
    assert error["recovery_steps"]


async def test_a_slow_statement_is_stopped_by_the_time_budget(
    connect: Callable[[Settings], Any], data_settings: Callable[..., Settings], engine: str
) -> None:
    async with connect(data_settings(statement_timeout_s=0.3)) as session:
        await make_notes(session)
        # A recursive CTE that would run for a very long time, on either engine.
        sql = (
            "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 1000000000) "
            "SELECT count(*) FROM c"
        )
        error = await session.error("data_read", "TIMEOUT", operation="sql", sql=sql)
        assert error["retryable"] is True and error["details"]["timeout_s"] == 0.3
        # the server and the source keep serving
        assert (await session.ok("data_read", operation="count", table="notes"))["count"] == 4


@pytest.mark.parametrize(
    ("sql", "near", "hint"),
    [
        ("SELEC * FROM books", "FROM", "did you mean SELECT?"),
        ("selct title FROM books", "FROM", "did you mean SELECT?"),
        ("SELECT * FROM books WHERE", "WHERE", "Fix the SQL"),
        ("SELECT 1 +", "+", "Fix the SQL"),
        ("SELECT * FORM books", "books", "Fix the SQL"),
        ("SELECT (1", "1", "Fix the SQL"),
    ],
)
async def test_a_parse_error_says_where_and_how_in_sql_words(db: Session, sql: str, near: str, hint: str) -> None:
    error = await db.error("data_read", "VALIDATION_ERROR", operation="sql", sql=sql)
    assert f"near '{near}'" in error["error"] and "line 1, column" in error["error"]
    assert error["details"]["near"] == near and isinstance(error["details"]["column"], int)
    assert any(hint in step for step in error["recovery_steps"]), error["recovery_steps"]
    assert (
        "sqlglot" not in error["error"] and "<class" not in error["error"] and "Required keyword" not in error["error"]
    )

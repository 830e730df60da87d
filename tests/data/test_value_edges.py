"""Values at the edges of what the engines hold, and names and defaults that must reach SQL
exactly: integers beyond 64 bits on every path a value takes, full-text tables whose names
need quoting, column defaults that look like bind parameters or are not finite numbers."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from mcp_workbench.data.models import CreateTableArgs
from mcp_workbench.data.service import DataService
from mcp_workbench.platform.errors import InvalidInput
from mcp_workbench.settings import Settings
from tests.support.data_source import fingerprint
from tests.support.session import Session

pytestmark = pytest.mark.anyio

BEYOND_64_BITS = [2**63, -(2**63) - 1, 10**30]


async def _make_numbers(db: Session) -> None:
    await db.ok(
        "data_write",
        operation="create_table",
        table="nums",
        columns=[
            {"name": "id", "type": "integer", "primary_key": True},
            {"name": "n", "type": "integer"},
            {"name": "b", "type": "bigint"},
            {"name": "label", "type": "text"},
            {"name": "x", "type": "numeric"},
        ],
    )
    await db.ok("data_write", operation="insert", table="nums", rows=[{"id": 1, "n": 1, "b": 1, "label": "one"}])


class TestIntegersBeyond64Bits:
    async def test_every_path_a_value_takes_answers_validation_error_and_changes_nothing(self, db: Session) -> None:
        await _make_numbers(db)
        before = await fingerprint(db)
        for big in BEYOND_64_BITS:
            is_big = [{"column": "b", "value": big}]
            id_one = [{"column": "id", "value": 1}]
            in_big = [{"column": "n", "op": "in", "value": [1, big]}]
            below_big = [{"column": "n", "op": "<", "value": big}]
            calls: list[tuple[str, dict[str, Any]]] = [
                ("data_write", {"operation": "insert", "table": "nums", "rows": [{"id": 2, "b": big}]}),
                ("data_write", {"operation": "insert", "table": "nums", "rows": [{"id": 2, "n": big}]}),
                ("data_write", {"operation": "insert", "table": "nums", "rows": [{"id": big}]}),
                ("data_write", {"operation": "update", "table": "nums", "values": {"b": big}, "where": id_one}),
                ("data_write", {"operation": "update", "table": "nums", "values": {"n": 2}, "where": is_big}),
                ("data_write", {"operation": "delete", "table": "nums", "where": is_big}),
                ("data_read", {"operation": "select", "table": "nums", "where": is_big}),
                ("data_read", {"operation": "select", "table": "nums", "where": in_big}),
                ("data_read", {"operation": "count", "table": "nums", "where": below_big}),
                ("data_read", {"operation": "sql", "sql": "SELECT id FROM nums WHERE b = ?", "params": [big]}),
                ("data_read", {"operation": "sql", "sql": "SELECT id FROM nums WHERE n > ?", "params": [big]}),
            ]
            for tool, arguments in calls:
                outcome = await db.call(tool, **arguments)
                assert outcome.is_error and outcome.code == "VALIDATION_ERROR", f"{big} {arguments}: {outcome.text}"
                assert outcome.data["recovery_steps"]
        assert await fingerprint(db) == before

    async def test_a_bare_sql_parameter_beyond_64_bits_is_a_validation_error(self, db: Session) -> None:
        for big in BEYOND_64_BITS:
            await db.error("data_read", "VALIDATION_ERROR", operation="sql", sql="SELECT ? AS v", params=[big])

    async def test_the_64_bit_edges_and_large_numbers_in_other_types_still_work(self, db: Session) -> None:
        await _make_numbers(db)
        edges = [{"id": 2, "b": 2**63 - 1}, {"id": 3, "b": -(2**63)}]
        await db.ok("data_write", operation="insert", table="nums", rows=edges)
        await db.ok("data_write", operation="insert", table="nums", rows=[{"id": 4, "label": 10**30, "x": 10**30}])
        page = await db.ok(
            "data_read", operation="select", table="nums", columns=["id", "b"], order_by=[{"column": "id"}]
        )
        assert page["rows"][1:3] == [[2, 2**63 - 1], [3, -(2**63)]]
        found = await db.ok("data_read", operation="search", query=str(10**30), table="nums")
        assert [hit["row"]["id"] for hit in found["hits"]] == [4]


FTS_NAMES = ['we"ird', "it's", "a b", "select", "Mixed", "x]y", "back`tick", 'q"; DROP TABLE plain; --']


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class TestFullTextTableNames:
    @pytest.fixture
    async def fts(
        self, connect: Callable[[Settings], Any], make_settings: Callable[..., Settings], tmp_path: Path
    ) -> AsyncIterator[Session]:
        path = tmp_path / "fts.db"
        conn = sqlite3.connect(path)
        conn.execute("CREATE TABLE plain (id INTEGER PRIMARY KEY, body TEXT)")
        conn.execute("INSERT INTO plain (body) VALUES ('needle in plain')")
        for name in FTS_NAMES:
            conn.execute(f"CREATE VIRTUAL TABLE {_quote(name)} USING fts5(body)")
            conn.execute(f"INSERT INTO {_quote(name)} (body) VALUES (?)", (f"needle in {name}",))
        # not FTS5, though its definition contains the words: it must not be searched as one
        conn.execute('CREATE VIRTUAL TABLE "a USING fts5 b" USING fts4(body)')
        conn.execute("INSERT INTO \"a USING fts5 b\" (body) VALUES ('needle in fts4')")
        conn.commit()
        conn.close()
        async with connect(make_settings(data={"sources": {"workspace": {"url": f"sqlite:///{path}"}}})) as session:
            yield session

    async def test_searching_the_whole_source_uses_every_full_text_table(self, fts: Session) -> None:
        found = await fts.ok("data_read", operation="search", query="needle", limit=100)
        assert {hit["table"] for hit in found["hits"]} >= {"plain", *FTS_NAMES}
        assert {found["methods"][name] for name in FTS_NAMES} == {"fts5"}
        assert found["methods"].get("a USING fts5 b") != "fts5"
        tables = await fts.ok("data_read", operation="tables")
        assert "plain" in [t["name"] for t in tables["tables"]]

    async def test_searching_one_oddly_named_table_finds_its_rows(self, fts: Session) -> None:
        for name in FTS_NAMES:
            found = await fts.ok("data_read", operation="search", query="needle", table=name)
            assert [hit["row"]["body"] for hit in found["hits"]] == [f"needle in {name}"], name


DEFAULT_TEXTS = [
    "ratio :x",
    ":x",
    "a :b :c",
    "%s %(x)s %%",
    "$1 ? ?1 @p",
    "it's :x",
    "back\\slash :x \\n",
    "::text",
    "'); DROP TABLE notes; --",
    "",
]


UNFIT_DEFAULTS = [
    ("real", "NaN"),
    ("real", "nan"),
    ("real", "Infinity"),
    ("real", "-Infinity"),
    ("real", "inf"),
    ("numeric", "NaN"),
    ("numeric", "Infinity"),
    ("numeric", "-inf"),
    ("integer", "NaN"),
    ("integer", 2**63),
    ("bigint", -(2**63) - 1),
    ("date", "not a date"),
]


class TestColumnDefaults:
    async def test_text_defaults_reach_the_database_literally(self, db: Session) -> None:
        columns = [{"name": "id", "type": "integer", "primary_key": True}]
        columns += [{"name": f"c{i}", "type": "text", "default": text} for i, text in enumerate(DEFAULT_TEXTS)]
        await db.ok("data_write", operation="create_table", table="defaults", columns=columns)
        await db.ok("data_write", operation="insert", table="defaults", rows=[{"id": 1}])
        page = await db.ok("data_read", operation="select", table="defaults")
        assert page["rows"] == [[1, *DEFAULT_TEXTS]]

    async def test_defaults_the_column_cannot_hold_are_refused_and_create_nothing(self, db: Session) -> None:
        for column_type, default in UNFIT_DEFAULTS:
            columns = [
                {"name": "id", "type": "integer", "primary_key": True},
                {"name": "v", "type": column_type, "default": default},
            ]
            outcome = await db.call("data_write", operation="create_table", table="bad", columns=columns)
            assert outcome.is_error and outcome.code == "VALIDATION_ERROR", f"{column_type} {default!r}: {outcome.text}"
        tables = await db.ok("data_read", operation="tables")
        assert "bad" not in [t["name"] for t in tables["tables"]]

    @pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
    async def test_non_finite_float_defaults_are_refused(
        self, data_settings: Callable[..., Settings], value: float
    ) -> None:
        """JSON clients cannot always send NaN; a decoded request can still carry one."""
        service = DataService(data_settings().data_section())
        try:
            for column_type in ("real", "numeric", "text"):
                args = CreateTableArgs(
                    operation="create_table",
                    table="bad",
                    columns=[{"name": "v", "type": column_type, "default": value}],
                )
                with pytest.raises(InvalidInput):
                    await service.create_table(args)
        finally:
            await service.aclose()

"""What the fuzzers found, kept as plain examples: fast, deterministic, and readable as a spec."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastmcp import Client

from mcp_workbench.server import build_server
from mcp_workbench.settings import Settings

pytestmark = pytest.mark.anyio


def _payload(result: Any) -> dict[str, Any]:
    return json.loads(result.content[0].text) if result.is_error else (result.structured_content or {})


@pytest.mark.parametrize("operation", [[], ["select"], {}, {"op": "select"}, 1.5, True])
async def test_an_operation_that_is_not_a_string_is_a_validation_error(
    make_settings: Callable[..., Settings], era: str, operation: Any
) -> None:
    """Found by the tool fuzzer: ``{"operation": []}`` was an INTERNAL_ERROR (an unhashable value
    looked up in the operations table)."""
    async with Client(build_server(make_settings()), mode=era) as client:
        result = await client.call_tool_mcp("data_read", {"operation": operation})
    assert result.is_error and _payload(result)["error_code"] == "VALIDATION_ERROR", _payload(result)


LOOSE = {
    "day": ("DATE", "not a date"),
    "at": ("DATETIME", "yesterday"),
    "noon": ("TIME", "noon"),
    "doc": ("JSON", "{oops"),
    "amount": ("NUMERIC", "abc"),
}


@pytest.fixture
def loose_sqlite(tmp_path: Path) -> Path:
    """A SQLite table whose values do not all parse as their declared types — which SQLite allows
    and real files hold (dates typed by hand, JSON cut short, numbers with units)."""
    path = tmp_path / "data" / "workspace.db"
    path.parent.mkdir(parents=True)
    columns = ", ".join(f"{name} {kind}" for name, (kind, _) in LOOSE.items())
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute(f"CREATE TABLE loose (id INTEGER PRIMARY KEY, {columns})")
        db.execute(f"INSERT INTO loose VALUES (1, {', '.join('?' * len(LOOSE))})", [v for _, v in LOOSE.values()])
        db.execute(
            f"INSERT INTO loose VALUES (2, {', '.join('?' * len(LOOSE))})",
            ["2024-01-05", "2024-01-05 10:00:00", "12:00:00", '{"a": 1}', 1.5],
        )
        db.commit()
    return path


@pytest.mark.parametrize("column", list(LOOSE))
async def test_sqlite_values_that_do_not_parse_as_their_declared_type_are_read_as_stored(
    make_settings: Callable[..., Settings], loose_sqlite: Path, era: str, column: str
) -> None:
    """Found by the tool fuzzer: a select over a SQLite row whose DATE column holds 'not a date'
    (or a JSON column '{oops', a NUMERIC column 'abc', ...) was an INTERNAL_ERROR: the declared
    type's converter raised while reading, and the whole page was lost."""
    async with Client(build_server(make_settings()), mode=era) as client:
        selected = await client.call_tool_mcp(
            "data_read", {"operation": "select", "table": "loose", "columns": [column]}
        )
        assert not selected.is_error, _payload(selected)
        assert _payload(selected)["rows"][0] == [LOOSE[column][1]]  # as stored
        assert _payload(selected)["row_count"] == 2
        whole = await client.call_tool_mcp("data_read", {"operation": "select", "table": "loose"})
        assert not whole.is_error, _payload(whole)

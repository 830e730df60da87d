"""Concurrent calls on one SQLite source, in-process: each write is its own transaction, committed
whole, and a write the server acknowledged is in the file afterwards. (Found by the SIGTERM test:
acknowledged SQLite writes were missing after a clean shutdown, and others failed with "cannot
start a transaction within a transaction".)"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable
from pathlib import Path

import anyio
import pytest
from fastmcp import Client

from mcp_workbench.server import build_server
from mcp_workbench.settings import Settings
from tests.support.session import tool_payload
from tests.support.timeouts import SUBPROCESSES

pytestmark = [pytest.mark.anyio, SUBPROCESSES]

WRITERS = 3
BATCHES = 10
ROWS = 5
COLUMNS = [{"name": "batch", "type": "text"}, {"name": "seq", "type": "integer"}]


async def test_concurrent_writes_to_sqlite_are_each_committed_whole_and_none_acknowledged_is_lost(
    make_settings: Callable[..., Settings], tmp_path: Path, era: str
) -> None:
    settings = make_settings(limits={"default": "100000/minute"})
    acknowledged: list[str] = []
    refused: list[str] = []
    async with Client(build_server(settings), mode=era) as client:
        made = await client.call_tool_mcp("data_write", {"operation": "create_table", "table": "w", "columns": COLUMNS})
        assert not made.is_error, tool_payload(made)

        async def writer(name: str) -> None:
            for i in range(BATCHES):
                batch = f"{name}-{i}"
                rows = [{"batch": batch, "seq": j} for j in range(ROWS)]
                result = await client.call_tool_mcp("data_write", {"operation": "insert", "table": "w", "rows": rows})
                if result.is_error:
                    refused.append(tool_payload(result)["error"])
                else:
                    acknowledged.append(batch)

        async def reader() -> None:
            for _ in range(BATCHES):
                counted = await client.call_tool_mcp("data_read", {"operation": "count", "table": "w"})
                assert not counted.is_error, tool_payload(counted)

        with anyio.fail_after(120):
            async with anyio.create_task_group() as tasks:
                for k in range(WRITERS):
                    tasks.start_soon(writer, f"w{k}")
                tasks.start_soon(reader)
        assert not refused, f"concurrent writes were refused: {refused[:3]}"
        seen = tool_payload(await client.call_tool_mcp("data_read", {"operation": "count", "table": "w"}))["count"]
        assert seen == ROWS * WRITERS * BATCHES, "the server's own count misses acknowledged rows"
    with contextlib.closing(sqlite3.connect(tmp_path / "data" / "workspace.db")) as db:
        counts = dict(db.execute("SELECT batch, count(*) FROM w GROUP BY batch").fetchall())
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    missing = sorted(b for b in acknowledged if counts.get(b) != ROWS)
    assert not missing, f"acknowledged batches missing from the file: {missing}"

"""SIGTERM arrives while clients stream writes into SQLite and PostgreSQL: every write ends up
committed whole or not at all (each insert carries a batch id; a batch has 0 or all of its rows,
and every acknowledged batch has all), the server exits 0, and both databases open cleanly.

One insert is held up by a lock this test takes from its own PostgreSQL connection, so at least
one write is certainly in flight when the signal comes; the shutdown grace is short, so that
write is cancelled by the shutdown rather than finished.
"""

from __future__ import annotations

import contextlib
import signal
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import asyncpg
import pytest
from fastmcp import Client

from tests.fuzz.wire import MODERN, HttpPeer
from tests.support.config_file import write_config
from tests.support.pg_activity import busy_backends, lock_waiters
from tests.support.session import tool_payload
from tests.support.timeouts import SUBPROCESSES
from tests.support.waiting import eventually

pytestmark = [pytest.mark.anyio, SUBPROCESSES]

WRITERS = [("legacy", "workspace"), ("legacy", "pg"), (MODERN, "workspace"), (MODERN, "pg")]
ACKED_BEFORE_SIGTERM = 40
MAX_CALLS_PER_WRITER = 400
COLUMNS = [{"name": "batch", "type": "text"}, {"name": "seq", "type": "integer"}, {"name": "pad", "type": "text"}]


@dataclass
class Ledger:
    """What the clients sent, and what they were told."""

    sizes: dict[str, tuple[str, int]] = field(default_factory=dict)  # batch -> (source, rows)
    acked: set[str] = field(default_factory=set)
    enough: anyio.Event = field(default_factory=anyio.Event)


def _rows(batch: str, size: int) -> list[dict[str, object]]:
    return [{"batch": batch, "seq": i, "pad": "x" * 200} for i in range(size)]


async def _writer(url: str, era: str, source: str, name: str, ledger: Ledger) -> None:
    with contextlib.suppress(Exception):  # the server goes away under it; that is the point
        async with Client(url, mode=era, timeout=60) as client:
            for i in range(MAX_CALLS_PER_WRITER):
                batch, size = f"{name}-{i}", 1 if i % 2 else 50
                ledger.sizes[batch] = (source, size)
                result = await client.call_tool_mcp(
                    "data_write", {"operation": "insert", "source": source, "table": "w", "rows": _rows(batch, size)}
                )
                if result.is_error:
                    continue  # refused (e.g. shutting down): must have left nothing
                ledger.acked.add(batch)
                if len(ledger.acked) >= ACKED_BEFORE_SIGTERM:
                    ledger.enough.set()


async def _counts_pg(url: str) -> dict[str, int]:
    conn = await asyncpg.connect(url)
    try:
        return {r["batch"]: r["n"] for r in await conn.fetch("SELECT batch, count(*) AS n FROM w GROUP BY batch")}
    finally:
        await conn.close()


def _counts_sqlite(path: Path) -> tuple[str, dict[str, int]]:
    with contextlib.closing(sqlite3.connect(path)) as db:
        integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
        return integrity, dict(db.execute("SELECT batch, count(*) FROM w GROUP BY batch").fetchall())


def _check(ledger: Ledger, source: str, counts: dict[str, int]) -> None:
    mine = {batch: size for batch, (where, size) in ledger.sizes.items() if where == source}
    assert set(counts) <= set(mine), f"{source}: rows of batches nobody sent: {set(counts) - set(mine)}"
    partial = {b: (counts[b], mine[b]) for b in counts if counts[b] != mine[b]}
    assert not partial, f"{source}: batches kept in part (rows, of): {partial}"
    lost = sorted(b for b in ledger.acked if mine.get(b) and counts.get(b, 0) != mine[b])
    assert not lost, f"{source}: acknowledged batches missing: {lost}"


async def test_sigterm_during_a_stream_of_writes_keeps_every_write_whole_and_exits_0(
    tmp_path: Path, postgres_db_url: str
) -> None:
    conn = await asyncpg.connect(postgres_db_url)
    try:  # sessions of a client that is gone end at once, even while waiting for a lock
        name = await conn.fetchval("SELECT current_database()")
        await conn.execute(f'ALTER DATABASE "{name}" SET client_connection_check_interval = 50')
        await conn.execute("CREATE TABLE held (id int PRIMARY KEY)")
    finally:
        await conn.close()
    config = write_config(
        tmp_path / "w.toml",
        {
            "http": {"shutdown_grace_s": 1.0},
            "data": {"statement_timeout_s": 120, "sources": {"pg": {"url": postgres_db_url}}},
            "timeouts": {"default_s": 300},
        },
    )
    server = HttpPeer("legacy", tmp_path / "data", args=["--config", str(config)], log_dir=tmp_path / "logs").start()
    url = f"{server.base}/mcp"
    ledger = Ledger()
    blocker = await asyncpg.connect(postgres_db_url)
    try:
        async with Client(url) as setup:
            for source in ("workspace", "pg"):
                made = await setup.call_tool_mcp(
                    "data_write", {"operation": "create_table", "source": source, "table": "w", "columns": COLUMNS}
                )
                assert not made.is_error, tool_payload(made)
        lock = blocker.transaction()
        await lock.start()
        await blocker.execute("LOCK TABLE held IN ACCESS EXCLUSIVE MODE")

        async def held_write() -> None:
            with contextlib.suppress(Exception):
                async with Client(url, timeout=120) as client:
                    rows = [{"id": i} for i in range(20)]
                    await client.call_tool_mcp(
                        "data_write", {"operation": "insert", "source": "pg", "table": "held", "rows": rows}
                    )

        with anyio.fail_after(180):
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(held_write)
                for index, (era, source) in enumerate(WRITERS):
                    tasks.start_soon(_writer, url, era, source, f"w{index}", ledger)

                async def held() -> bool:
                    return await lock_waiters(postgres_db_url) == 1

                await eventually(held, "the held insert waits for its lock")
                await ledger.enough.wait()
                assert server.proc is not None
                server.proc.send_signal(signal.SIGTERM)
            code = await anyio.to_thread.run_sync(server.proc.wait, 60)
        assert code == 0, server.stderr_text()[-3000:]
        assert server.stdout_bytes() == b""
    finally:
        with contextlib.suppress(Exception):
            await blocker.close()  # releases the lock (rolls back its transaction)
        if server.proc is not None and server.proc.poll() is None:
            server.stop()

    async def settled() -> bool:
        return await busy_backends(postgres_db_url) == 0

    await eventually(settled, "no session of the stopped server is left working")
    integrity, sqlite_counts = _counts_sqlite(tmp_path / "data" / "workspace.db")
    assert integrity == "ok"
    _check(ledger, "workspace", sqlite_counts)
    _check(ledger, "pg", await _counts_pg(postgres_db_url))
    conn = await asyncpg.connect(postgres_db_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM held") == 0, "the write cut off by the shutdown was kept"
    finally:
        await conn.close()
    assert len(ledger.acked) >= ACKED_BEFORE_SIGTERM

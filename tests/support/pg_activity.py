"""PostgreSQL's view of what the server's connections are doing (``pg_stat_activity``), for tests
that wait until a statement holds or waits for a lock, or until every session has settled."""

from __future__ import annotations

from typing import Any

import asyncpg

APP = "mcp-workbench"  # the application_name the server's PostgreSQL connections carry


async def server_backends(url: str) -> list[dict[str, Any]]:
    """The server's PostgreSQL sessions: state, what they wait for, their query."""
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT pid, state, wait_event_type, query FROM pg_stat_activity "
            "WHERE application_name = $1 AND datname = current_database()",
            APP,
        )
        return [dict(row) for row in rows]
    finally:
        await conn.close()


async def lock_waiters(url: str) -> int:
    return sum(1 for b in await server_backends(url) if b["wait_event_type"] == "Lock")


async def busy_backends(url: str) -> int:
    """Sessions of the server inside a statement or a transaction (not idle in the pool)."""
    return sum(1 for b in await server_backends(url) if b["state"] not in ("idle", None))

"""Helpers for the fault tests: waits that poll against a deadline, PostgreSQL's view of what the
server's connections are doing, and config files for server subprocesses.

Deadlines are generous (a loaded 2-core machine); nothing here asserts on speed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import asyncpg

DEADLINE_S = 60.0
POLL_S = 0.05
APP = "mcp-workbench"  # the application_name the server's PostgreSQL connections carry


async def wait_until(
    check: Callable[[], Awaitable[bool]],
    what: str,
    deadline_s: float = DEADLINE_S,
    explain: Callable[[], Awaitable[Any]] | None = None,
) -> None:
    """Poll ``check`` until it holds; fail naming ``what`` (and ``explain()``) past the deadline."""
    deadline = time.monotonic() + deadline_s
    while not await check():
        if time.monotonic() > deadline:
            detail = f": {await explain()}" if explain else ""
            raise AssertionError(f"timed out after {deadline_s} s waiting until {what}{detail}")
        await anyio.sleep(POLL_S)


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


def write_config(path: Path, data: dict[str, Any]) -> Path:
    """A TOML config file from nested dicts of strings, numbers and booleans."""
    lines: list[str] = []

    def emit(prefix: str, table: dict[str, Any]) -> None:
        scalars = {k: v for k, v in table.items() if not isinstance(v, dict)}
        if prefix and scalars:
            lines.append(f"[{prefix}]")
        for key, value in scalars.items():
            lines.append(f"{key} = {json.dumps(value)}")
        for key, value in table.items():
            if isinstance(value, dict):
                emit(f"{prefix}.{key}" if prefix else key, value)

    emit("", data)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def tool_payload(result: Any) -> dict[str, Any]:
    """The structured result, or the error object of an isError result."""
    if result.is_error:
        return json.loads(result.content[0].text)
    return result.structured_content or {}

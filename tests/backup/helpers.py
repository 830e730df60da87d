"""Helpers of the backup tests: the real CLI as a subprocess, and a workspace filled through
the real server."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

from fastmcp import Client

from mcp_workbench.server import build_server
from mcp_workbench.settings import Settings
from tests.support.servers import clean_env

CLI = [sys.executable, "-m", "mcp_workbench"]


def cli(
    *args: str | Path, data_dir: Path, env: dict[str, str] | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """``mcp-workbench ARGS`` as a user runs it, with ``data_dir`` as its data directory."""
    return subprocess.run(
        [*CLI, *map(str, args)],
        env=clean_env(data_dir, env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def backup(data_dir: Path, *args: str | Path, env: dict[str, str] | None = None) -> Path:
    """Run ``mcp-workbench backup`` and return the archive it wrote (the last line of stdout)."""
    done = cli("backup", *args, data_dir=data_dir, env=env)
    assert done.returncode == 0, done.stderr
    return Path(done.stdout.strip().splitlines()[-1])


async def fill(settings: Settings, rows: int, table: str = "notes", source: str = "workspace") -> None:
    """Create ``table`` and insert ``rows`` rows through the real server's data_write tool."""
    async with Client(build_server(settings)) as client:
        made = await client.call_tool_mcp(
            "data_write",
            {"operation": "create_table", "source": source, "table": table, "columns": [
                {"name": "id", "type": "integer", "primary_key": True},
                {"name": "body", "type": "text", "nullable": False}]},
        )  # fmt: skip
        assert not made.is_error, made.content
        for start in range(0, rows, 500):
            batch = [{"id": i, "body": f"row {i} " + "x" * 100} for i in range(start, min(rows, start + 500))]
            done = await client.call_tool_mcp(
                "data_write", {"operation": "insert", "source": source, "table": table, "rows": batch}
            )
            assert not done.is_error, done.content


def rows_of(db: Path, table: str = "notes") -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True)
    try:
        return conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
    finally:
        conn.close()


def pragma(db: Path, name: str) -> Any:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(f"PRAGMA {name}").fetchone()[0]
    finally:
        conn.close()


def member_offsets(archive: Path) -> dict[str, tuple[int, int, int]]:
    """Each member's (header offset, data offset, size) in the tar."""
    with tarfile.open(archive) as tar:
        return {m.name: (m.offset, m.offset_data, m.size) for m in tar.getmembers()}


def flip_byte(path: Path, offset: int) -> None:
    with path.open("r+b") as handle:
        handle.seek(offset)
        byte = handle.read(1)
        handle.seek(offset)
        handle.write(bytes([byte[0] ^ 0xFF]))

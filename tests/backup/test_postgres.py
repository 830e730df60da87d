"""PostgreSQL sources round-trip through pg_dump -Fc and pg_restore on the test cluster; a pg_dump
that is missing or older than the server skips the source with the reason; a restore waits for
the servers connected to the database to stop."""

from __future__ import annotations

import asyncio
import json
import stat
import tarfile
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from fastmcp import Client

from mcp_workbench.server import build_server
from mcp_workbench.settings import load_settings
from tests.backup.helpers import backup, cli, fill
from tests.support.postgres import PostgresServer

pytestmark = pytest.mark.anyio


def write_config(path: Path, url: str, bin_dir: Path) -> Path:
    path.write_text(f'[data.sources.pg]\nurl = "{url}"\n[backup]\npg_bin_dir = "{bin_dir}"\n', encoding="utf-8")
    return path


async def table(url: str, name: str = "notes") -> list[tuple[Any, ...]]:
    conn = await asyncpg.connect(url)
    try:
        return [tuple(r) for r in await conn.fetch(f"SELECT * FROM {name} ORDER BY 1")]
    finally:
        await conn.close()


async def execute(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def manifest_of(archive: Path) -> dict[str, Any]:
    with tarfile.open(archive) as tar:
        handle = tar.extractfile("manifest.json")
        assert handle is not None
        return json.loads(handle.read())


async def test_a_postgresql_source_round_trips(
    tmp_path: Path, postgres_db_url: str, postgres_server: PostgresServer
) -> None:
    data = tmp_path / "data"
    config = write_config(tmp_path / "c.toml", postgres_db_url, postgres_server.binaries.bindir)
    await fill(load_settings(config, data_dir=data), 300, source="pg")
    expected = await table(postgres_db_url)

    archive = await asyncio.to_thread(backup, data, "--config", config)
    pg = next(m for m in manifest_of(archive)["members"] if m["name"] == "sources/pg.pgdump")
    assert pg["info"]["server_major"] == pg["info"]["pg_dump_major"] == 15 and pg["source"] == "pg"
    verified = await asyncio.to_thread(cli, "backup", "verify", archive, "--config", config, data_dir=data)
    assert "ok  sources/pg.pgdump  (pg_restore 15 --list ok)" in verified.stdout, verified.stderr

    await execute(postgres_db_url, "DELETE FROM notes WHERE id < 100; UPDATE notes SET body = 'changed'")
    done = await asyncio.to_thread(cli, "restore", archive, "--source", "pg", "--config", config, data_dir=data)

    assert done.returncode == 0, done.stderr
    assert await table(postgres_db_url) == expected
    safety = Path(next(line for line in done.stdout.splitlines() if "safety copy:" in line).split(": ", 1)[1])
    mode, head = await asyncio.to_thread(lambda: (stat.S_IMODE(safety.stat().st_mode), safety.read_bytes()[:5]))
    assert safety.name.endswith("-pg.pgdump") and mode == 0o600
    assert head == b"PGDMP"  # a custom-format dump of the database as it was before the restore


@pytest.mark.parametrize("tools", ["missing", "older"])
async def test_a_pg_dump_missing_or_older_than_the_server_skips_the_source_with_the_reason(
    tmp_path: Path, postgres_db_url: str, tools: str
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    if tools == "older":  # an old client installation: only its version answer matters here
        for name in ("pg_dump", "pg_restore"):
            (bin_dir / name).write_text(f"#!/bin/sh\necho '{name} (PostgreSQL) 9.6.24'\n", encoding="utf-8")
            (bin_dir / name).chmod(0o755)
    data = tmp_path / "data"
    config = write_config(tmp_path / "c.toml", postgres_db_url, bin_dir)
    await fill(load_settings(config, data_dir=data), 10)

    done = await asyncio.to_thread(cli, "backup", "--config", config, data_dir=data)

    assert done.returncode == 0, done.stderr
    archive = Path(done.stdout.strip().splitlines()[-1])
    manifest = manifest_of(archive)
    reason = {s["name"]: s["reason"] for s in manifest["skipped"]}["sources/pg.pgdump"]
    expected = "pg_dump is not installed" if tools == "missing" else "pg_dump 9 "
    assert expected in reason and "PostgreSQL 15 client tools" in reason
    assert f"skipped sources/pg.pgdump: {reason}" in done.stderr
    assert "sources/workspace.sqlite.gz" in [m["name"] for m in manifest["members"]]


async def test_restore_is_refused_while_a_server_is_connected_to_the_database(
    tmp_path: Path, postgres_db_url: str, postgres_server: PostgresServer
) -> None:
    data = tmp_path / "data"
    config = write_config(tmp_path / "c.toml", postgres_db_url, postgres_server.binaries.bindir)
    settings = load_settings(config, data_dir=data)
    await fill(settings, 20, source="pg")
    archive = await asyncio.to_thread(backup, data, "--config", config, "--source", "pg")
    async with Client(build_server(settings)) as client:  # its pool keeps a connection open
        assert not (
            await client.call_tool_mcp("data_read", {"operation": "count", "source": "pg", "table": "notes"})
        ).is_error
        conn = await asyncpg.connect(postgres_db_url)
        try:
            backends = {r["pid"] for r in await conn.fetch(
                "SELECT pid FROM pg_stat_activity WHERE application_name = 'mcp-workbench'")}  # fmt: skip
        finally:
            await conn.close()

        refused = await asyncio.to_thread(cli, "restore", archive, "--source", "pg", "--config", config, data_dir=data)

    assert refused.returncode == 1
    assert "running mcp-workbench servers are connected to" in refused.stderr
    assert any(f"PostgreSQL backend pid {pid} " in refused.stderr for pid in backends), refused.stderr
    done = await asyncio.to_thread(cli, "restore", archive, "--source", "pg", "--config", config, data_dir=data)
    assert done.returncode == 0, done.stderr

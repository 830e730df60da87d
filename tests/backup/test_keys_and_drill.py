"""The key store round-trips through a real authenticated HTTP server, and the restore drill the
README describes (backup, destroy, restore, compare) works as written."""

from __future__ import annotations

import asyncio
import json
import shutil
import stat
from pathlib import Path

import pytest
from fastmcp import Client

from mcp_workbench.backup.sqlite import integrity_problems
from mcp_workbench.settings import load_settings
from tests.backup.helpers import backup, cli, fill, rows_of
from tests.support.servers import HttpServer, create_key, request

pytestmark = pytest.mark.anyio

INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}},
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


@pytest.mark.parametrize("era", ["auto"])  # the key store does not depend on the era
async def test_a_key_created_before_the_backup_works_after_the_restore(tmp_path: Path, era: str) -> None:
    data, archives = tmp_path / "data", tmp_path / "archives"
    key = await asyncio.to_thread(create_key, data, "data:read", "before")
    archive = await asyncio.to_thread(backup, data, "--output", archives)
    later = await asyncio.to_thread(create_key, data, "data:read", "after")
    shutil.rmtree(data)  # the machine's disk is gone; the archives were kept elsewhere

    done = await asyncio.to_thread(cli, "restore", archive, data_dir=data)
    assert done.returncode == 0, done.stderr
    store = data / "api_keys.json"
    assert stat.S_IMODE(store.stat().st_mode) == 0o600

    server = HttpServer([], data).start()  # auth on: API keys from the restored store
    try:
        async with Client(server.url, mode=era, auth=key) as client:
            assert [t.name for t in await client.list_tools()] == ["data_read"]
            assert not (await client.call_tool_mcp("data_read", {"operation": "sources"})).is_error
        for presented, status in ((key, 200), (later, 401)):  # made after the backup: not in it
            headers = {**MCP_HEADERS, "Authorization": f"Bearer {presented}"}
            assert (await asyncio.to_thread(request, "POST", server.url, INIT, headers))[0] == status
    finally:
        server.stop()


def test_the_restore_drill_backup_destroy_restore_compare(tmp_path: Path) -> None:
    """The README's drill, command for command."""
    data, archives = tmp_path / "data", tmp_path / "archives"
    asyncio.run(fill(load_settings(None, data_dir=data), 2000))
    create_key(data, "*", "drill")
    before_rows = rows_of(data / "workspace.db")
    before_keys = json.loads(cli("keys", "list", data_dir=data).stdout)

    archive = backup(data, "--output", archives)  # 1. backup
    assert cli("backup", "verify", archive, data_dir=data).returncode == 0

    drill = tmp_path / "drill-data"  # the README's drill, on a scratch data directory
    scratch = cli("restore", archive, "--data-dir", drill, "--source", "workspace", "--keys", data_dir=data)
    assert scratch.returncode == 0, scratch.stderr
    assert rows_of(drill / "workspace.db") == before_rows
    assert json.loads(cli("keys", "list", "--data-dir", drill, data_dir=data).stdout) == before_keys

    shutil.rmtree(data)  # 2. destroy
    restored = cli("restore", archive, data_dir=data)  # 3. restore
    assert restored.returncode == 0, restored.stderr

    assert rows_of(data / "workspace.db") == before_rows  # 4. compare
    assert integrity_problems(data / "workspace.db") == []
    assert json.loads(cli("keys", "list", data_dir=data).stdout) == before_keys

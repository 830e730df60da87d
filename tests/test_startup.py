"""What starting costs: a server that has only answered the listings has imported no engine
library; the first call that needs one imports it. Checked in a fresh interpreter, since this
test process has imported everything long ago."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from fastmcp import Client

from tests.support.servers import HttpServer, clean_env, get
from tests.support.timeouts import SUBPROCESSES

pytestmark = [pytest.mark.anyio, SUBPROCESSES]

ENGINES = [
    "sqlalchemy",
    "sqlglot",
    "aiosqlite",
    "asyncpg",
    "sqlite3",
    "charset_normalizer",
    "trafilatura",
    "lxml",
    "hishel",
    "httpcore2",
    "protego",
    "redis",
    "limits",  # in-memory rate limits need no library; Redis ones load it
    "mcp_workbench.data.service",
    "mcp_workbench.files.service",
    "mcp_workbench.web.service",
]

PROBE = """
import asyncio, json, sys
from pathlib import Path

from fastmcp import Client

import mcp_workbench.cli.main, mcp_workbench.cli.serve  # the modules `serve` starts with
from mcp_workbench.server import build_server
from mcp_workbench.settings import load_settings

ENGINES = json.loads(sys.argv[3])


def loaded():
    return [name for name in ENGINES if name in sys.modules]


async def main():
    settings = load_settings(
        None,
        data_dir=Path(sys.argv[1]),
        files={"roots": {"tree": {"path": Path(sys.argv[2])}}},
        web={"allow_hosts": ["127.0.0.1"]},
    )
    async with Client(build_server(settings)) as client:
        await client.list_tools()
        await client.list_resources()
        await client.list_resource_templates()
        await client.list_prompts()
        at_start = loaded()
        await client.call_tool("data_read", {"operation": "tables"})
        await client.call_tool("files_read", {"operation": "roots"})
        after_calls = loaded()
    print(json.dumps({"at_start": at_start, "after_calls": after_calls}))


asyncio.run(main())
"""


def test_listing_everything_imports_no_engine_library_and_the_first_calls_do(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path / "data"), str(tree), json.dumps(ENGINES)],
        env=clean_env(tmp_path / "data"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout.strip().splitlines()[-1])
    assert found["at_start"] == [], "imported at start-up; import it where it is first used"
    assert {"sqlalchemy", "sqlglot", "mcp_workbench.data.service", "mcp_workbench.files.service"} <= set(
        found["after_calls"]
    ), "the probe no longer sees the engines a call imports, so it proves nothing about start-up"


def test_a_source_url_sqlalchemy_cannot_parse_stops_start_up_with_a_config_error(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[data.sources.pg]\nurl = "postgresql://user@db.example:port/app"\n', encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "mcp_workbench", "serve", "--config", str(config)],
        env=clean_env(tmp_path / "data"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 2, proc.stderr
    assert "data.sources.pg.url" in proc.stderr and "port must be a number" in proc.stderr
    assert "Traceback" not in proc.stderr


def _series(metrics_text: str, *families: str) -> set[str]:
    """The series (name and labels, not values) of the given families."""
    return {line.rsplit(" ", 1)[0] for line in metrics_text.splitlines() if line.startswith(families)}


async def test_metrics_show_the_same_capability_series_before_and_after_first_use(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    config = tmp_path / "c.toml"
    config.write_text('[web]\nallow_hosts = ["127.0.0.1"]\n', encoding="utf-8")
    server = HttpServer(["--no-auth", "--config", str(config), "--root", str(tree)], tmp_path / "data").start()
    families = ("workbench_db_pool_connections", "workbench_web_cache_requests")
    try:
        status, _, body = get(f"{server.base}/metrics")
        assert status == 200
        before = _series(body.decode(), *families)
        async with Client(server.url) as client:
            assert not (await client.call_tool_mcp("data_read", {"operation": "tables"})).is_error
            fetched = await client.call_tool_mcp("web_fetch", {"url": f"{server.base}/livez", "format": "raw"})
            assert not fetched.is_error, fetched.content
        after = _series(get(f"{server.base}/metrics")[2].decode(), *families)
    finally:
        server.stop()
    assert before == after
    assert 'workbench_db_pool_connections{source="workspace",state="idle"}' in before
    assert 'workbench_web_cache_requests_total{outcome="miss"}' in before

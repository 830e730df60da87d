"""The series the alerts are built on behave as the rules assume: the pool usage ratio reaches 1
when a pool is full, and ``workbench_ready`` follows ``/readyz``."""

from __future__ import annotations

import sqlite3
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from mcp_workbench.data.settings import DataSettings, SourceSettings
from mcp_workbench.data.sources import Source
from tests.support.servers import HttpServer, get, wait_until

pytestmark = pytest.mark.anyio


async def test_the_pool_usage_ratio_reaches_one_when_every_connection_is_taken(tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    sqlite3.connect(db).execute("CREATE TABLE t (a)").connection.close()
    limits = DataSettings(pool_size=1)  # one connection, one more as overflow: 2 per engine
    source = Source("w", SourceSettings(url=f"sqlite:///{db}"), limits)
    try:
        assert source.pool_fill() == 0
        async with AsyncExitStack() as held:
            await held.enter_async_context(source.reading())
            assert source.pool_fill() == 0.5
            await held.enter_async_context(source.reading())
            assert source.pool_fill() == 1.0  # the next read waits for a connection
        assert source.pool_fill() == 0
    finally:
        await source.aclose()


def ready_of(base: str) -> float:
    status, _, body = get(f"{base}/metrics")
    assert status == 200
    families = {f.name: f for f in text_string_to_metric_families(body.decode())}
    return families["workbench_ready"].samples[0].value


def test_workbench_ready_follows_the_readiness_checks(tmp_path: Path) -> None:
    later = tmp_path / "later.db"
    config = tmp_path / "c.toml"
    config.write_text(f'[data.sources.later]\nurl = "sqlite:///{later}"\nread_only = true\n', encoding="utf-8")
    server = HttpServer(["--no-auth", "--config", str(config)], tmp_path / "data").start()
    try:
        assert get(f"{server.base}/readyz")[0] == 503
        assert ready_of(server.base) == 0  # its file does not exist
        sqlite3.connect(later).execute("CREATE TABLE t (a)").connection.close()
        wait_until(lambda: ready_of(server.base) == 1, "the source answers and the server is ready", timeout_s=60)
        assert get(f"{server.base}/readyz")[0] == 200
    finally:
        server.stop()

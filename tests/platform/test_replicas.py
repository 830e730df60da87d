"""Scale-out proof: two HTTP replicas behind no balancer at all — a client alternating
between them — share one Redis (rate limits) and one PostgreSQL (data), and both report
readiness honestly when either dependency goes away and comes back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastmcp import Client

from tests.support.servers import HttpServer, create_key, get, running
from tests.support.timeouts import SUBPROCESSES
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.anyio, SUBPROCESSES]


@pytest.fixture
def replicas(tmp_path: Path, redis_server, postgres_db_url: str) -> Iterator[list[HttpServer]]:
    config = tmp_path / "shared.toml"
    config.write_text(
        f'[limits]\nstorage = "{redis_server.url}"\n[limits.tools]\ndata_read = "5/minute"\n'
        f'[data.sources.workspace]\nurl = "{postgres_db_url}"\n',
        encoding="utf-8",
    )
    shared_dir = tmp_path / "shared"  # same key store for both, as a shared volume or secret would give
    servers = [HttpServer(["--config", str(config)], shared_dir) for _ in range(2)]
    with running(servers):
        yield servers
    assert [server.proc.returncode for server in servers if server.proc] == [0, 0]


def _ready(server: HttpServer) -> tuple[int, dict]:
    status, _, body = get(f"{server.base}/readyz")
    return status, json.loads(body)


async def test_two_replicas_share_rate_limits_and_data(replicas: list[HttpServer]) -> None:
    a, b = replicas
    key = create_key(a.data_dir, "*")
    async with Client(a.url, auth=key) as via_a, Client(b.url, mode="legacy", auth=key) as via_b:
        created = await via_a.call_tool_mcp(
            "data_write",
            {
                "operation": "create_table",
                "table": "notes",
                "columns": [{"name": "id", "type": "integer", "primary_key": True}],
            },
        )
        assert not created.is_error
        await via_a.call_tool_mcp("data_write", {"operation": "insert", "table": "notes", "rows": [{"id": 7}]})
        read = await via_b.call_tool_mcp("data_read", {"operation": "select", "table": "notes"})
        assert read.structured_content["rows"] == [[7]]  # written through A, read through B

        outcomes = []
        for client in (via_a, via_b, via_a, via_b, via_a):  # 1 read above + 5 here against "5/minute"
            outcomes.append((await client.call_tool_mcp("data_read", {"operation": "sources"})).is_error)
        assert outcomes == [False, False, False, False, True]


def test_readiness_follows_redis_and_postgresql(replicas: list[HttpServer], redis_server, postgres_server) -> None:
    assert all(_ready(server)[0] == 200 for server in replicas)

    redis_server.stop()
    try:
        for server in replicas:
            status, body = _ready(server)
            assert status == 503 and "rate_limit_storage" in body["failing"]
    finally:
        redis_server.start()
    wait_until(lambda: all(_ready(server)[0] == 200 for server in replicas), "both replicas are ready after Redis")

    postgres_server.stop_server()
    try:
        for server in replicas:
            status, body = _ready(server)
            assert status == 503 and "database:workspace" in body["failing"]
    finally:
        postgres_server.start_server()
    wait_until(lambda: all(_ready(server)[0] == 200 for server in replicas), "both replicas are ready after PostgreSQL")

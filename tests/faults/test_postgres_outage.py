"""PostgreSQL stops under a running HTTP server and comes back: calls fail cleanly while it is
gone, readiness says which database is missing, and the pool recovers by itself."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastmcp import Client

from tests.fuzz.wire import HttpPeer
from tests.support.config_file import write_config
from tests.support.postgres import PostgresServer
from tests.support.servers import get
from tests.support.session import tool_payload
from tests.support.timeouts import SUBPROCESSES
from tests.support.waiting import eventually

pytestmark = [pytest.mark.anyio, SUBPROCESSES]

ROWS = [{"id": i, "batch": "before"} for i in range(3)]
COLUMNS = [{"name": "id", "type": "integer", "primary_key": True}, {"name": "batch", "type": "text"}]


def _ready(server: HttpPeer) -> tuple[int, dict]:
    status, _, body = get(f"{server.base}/readyz")
    return status, json.loads(body)


async def test_postgresql_stopping_gives_upstream_errors_and_503_then_the_pool_recovers_without_a_restart(
    tmp_path: Path, postgres_server: PostgresServer, postgres_db_url: str
) -> None:
    config = write_config(
        tmp_path / "pg.toml", {"data": {"statement_timeout_s": 5, "sources": {"workspace": {"url": postgres_db_url}}}}
    )
    server = HttpPeer("legacy", tmp_path / "data", args=["--config", str(config)]).start()
    pid = server.proc.pid if server.proc else None
    try:
        async with Client(f"{server.base}/mcp", mode="legacy") as legacy, Client(f"{server.base}/mcp") as modern:
            created = await legacy.call_tool_mcp(
                "data_write", {"operation": "create_table", "table": "t", "columns": COLUMNS}
            )
            assert not created.is_error, created
            assert not (
                await legacy.call_tool_mcp("data_write", {"operation": "insert", "table": "t", "rows": ROWS})
            ).is_error
            assert _ready(server)[0] == 200

            postgres_server.stop_server()  # immediate: every pooled connection breaks under the server
            try:
                for client in (legacy, modern):
                    for tool, arguments in (
                        ("data_read", {"operation": "select", "table": "t"}),
                        ("data_read", {"operation": "count", "table": "t"}),
                        ("data_write", {"operation": "insert", "table": "t", "rows": [{"id": 9, "batch": "during"}]}),
                    ):
                        result = await client.call_tool_mcp(tool, arguments)
                        error = tool_payload(result)
                        assert result.is_error, f"{tool} {arguments} succeeded with PostgreSQL stopped"
                        assert error["error_code"] == "UPSTREAM_ERROR", error
                        assert error["retryable"] is True and error["recovery_steps"], error
                        assert error["details"].get("source") == "workspace", error
                status, body = _ready(server)
                assert status == 503 and "database:workspace" in body["failing"], body
            finally:
                postgres_server.start_server()

            async def ready() -> bool:
                return _ready(server)[0] == 200

            await eventually(ready, "/readyz says ready again")
            for client in (legacy, modern):  # the same server process, the same client sessions
                rows = tool_payload(await client.call_tool_mcp("data_read", {"operation": "select", "table": "t"}))
                assert rows["rows"] == [[r["id"], r["batch"]] for r in ROWS], rows
            after = await modern.call_tool_mcp(
                "data_write", {"operation": "insert", "table": "t", "rows": [{"id": 10}]}
            )
            assert not after.is_error, tool_payload(after)
            counted = tool_payload(await legacy.call_tool_mcp("data_read", {"operation": "count", "table": "t"}))
            assert counted["count"] == len(ROWS) + 1, "a write during the outage must not have been kept"
        assert server.proc is not None and server.proc.pid == pid and server.proc.poll() is None
    finally:
        assert server.stop() == 0, server.stderr_text()[-3000:]

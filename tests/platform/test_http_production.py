"""The production layer over real HTTP: auth, scopes, rate limits, health, metrics, shutdown."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastmcp import Client

from tests.support.servers import HttpServer, clean_env, create_key, get, request
from tests.support.timeouts import SUBPROCESSES

pytestmark = [pytest.mark.anyio, SUBPROCESSES]

INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}},
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def write_config(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def server(tmp_path: Path) -> Iterator[HttpServer]:
    data = tmp_path / "data"
    config = write_config(
        tmp_path / "c.toml",
        '[limits.tools]\ndata_read = "4/minute"\n[http]\nmetrics_token = "scrape-secret"\n',
    )
    running = HttpServer(["--config", str(config)], data).start()
    try:
        yield running
    finally:
        code, out, _ = running.stop()
        assert (code, out) == (0, ""), "graceful SIGTERM exits 0 and stdout stays empty"


def test_requests_without_credentials_get_401_with_www_authenticate(server: HttpServer) -> None:
    status, headers, _ = request("POST", server.url, INIT, MCP_HEADERS)
    assert status == 401
    assert headers["www-authenticate"].startswith("Bearer")
    status, _, _ = request("POST", server.url, INIT, {**MCP_HEADERS, "Authorization": "Bearer wbk_nope_nope"})
    assert status == 401


async def test_a_key_sees_and_calls_only_the_tools_its_scopes_allow(server: HttpServer, era: str) -> None:
    key = create_key(server.data_dir, "data:read")
    async with Client(server.url, mode=era, auth=key) as client:
        assert [t.name for t in await client.list_tools()] == ["data_read"]
        refused = await client.call_tool_mcp("data_write", {"operation": "drop_table", "table": "x"})
        payload = json.loads(refused.content[0].text)
        assert refused.is_error and payload["error_code"] == "NOT_FOUND"  # hidden: as if it did not exist
        assert payload["details"] == {"tool": "data_write", "did_you_mean": ["data_read"]}
        assert not (await client.call_tool_mcp("data_read", {"operation": "sources"})).is_error


def test_a_revoked_key_stops_working_without_a_restart(server: HttpServer) -> None:
    key = create_key(server.data_dir, "*")
    headers = {**MCP_HEADERS, "Authorization": f"Bearer {key}"}
    assert request("POST", server.url, INIT, headers)[0] == 200
    key_id = key.split("_")[1]
    subprocess.run(
        [sys.executable, "-m", "mcp_workbench", "keys", "revoke", key_id],
        env=clean_env(server.data_dir),
        check=True,
        capture_output=True,
        timeout=60,
    )
    assert request("POST", server.url, INIT, headers)[0] == 401


async def test_the_rate_limit_is_per_caller_and_answers_with_retry_after(server: HttpServer, era: str) -> None:
    first, second = create_key(server.data_dir, "*", "first"), create_key(server.data_dir, "*", "second")
    async with Client(server.url, mode=era, auth=first) as client:
        for _ in range(3):  # listing never spends budget
            await client.list_tools()
        outcomes = [await client.call_tool_mcp("data_read", {"operation": "sources"}) for _ in range(5)]
        assert [o.is_error for o in outcomes] == [False, False, False, False, True]
        limited = json.loads(outcomes[-1].content[0].text)
        assert limited["error_code"] == "RATE_LIMITED" and limited["retryable"] is True
        assert 0 < limited["details"]["retry_after_s"] <= 60
    async with Client(server.url, mode=era, auth=second) as other:
        assert not (await other.call_tool_mcp("data_read", {"operation": "sources"})).is_error


def test_health_routes_answer_without_mcp_auth_and_leak_nothing(server: HttpServer) -> None:
    assert get(f"{server.base}/livez")[0] == 200
    status, _, body = get(f"{server.base}/readyz")
    assert status == 200 and json.loads(body)["status"] == "ready"
    status, _, body = get(f"{server.base}/healthz")
    health = json.loads(body)
    assert status == 200 and health["version"] and health["uptime_s"] >= 0 and "data" in health["capabilities"]
    assert "scrape-secret" not in body.decode() and str(server.data_dir) not in body.decode()


async def test_metrics_count_calls_rejections_and_auth_failures(server: HttpServer) -> None:
    assert get(f"{server.base}/metrics")[0] == 401  # metrics_token configured
    key = create_key(server.data_dir, "*")
    request("POST", server.url, INIT, {**MCP_HEADERS, "Authorization": "Bearer wbk_bad_bad"})
    async with Client(server.url, auth=key) as client:
        await client.call_tool_mcp("data_read", {"operation": "tables"})
        await client.call_tool_mcp("data_read", {"operation": "nope"})
    status, headers, body = get(f"{server.base}/metrics", {"Authorization": "Bearer scrape-secret"})
    text = body.decode()
    assert status == 200 and headers["content-type"].startswith("text/plain")
    assert 'workbench_tool_calls_total{operation="tables",outcome="ok",tool="data_read"} 1.0' in text
    # a made-up operation is counted as "other": callers cannot add series
    assert 'workbench_tool_calls_total{operation="other",outcome="VALIDATION_ERROR",tool="data_read"} 1.0' in text
    assert 'workbench_auth_failures_total{reason="invalid_api_key"}' in text
    assert "workbench_tool_call_duration_seconds_bucket" in text
    assert 'workbench_db_pool_connections{source="workspace",state="idle"}' in text
    assert "workbench_build_info{" in text
    assert 'workbench_web_cache_requests_total{outcome="miss"} 0.0' in text


def test_no_auth_refuses_to_bind_beyond_loopback(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "mcp_workbench", "serve", "--transport", "http", "--no-auth", "--host", "0.0.0.0"],
        env=clean_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 2 and "loopback" in proc.stderr


async def test_jwt_bearer_tokens_with_scopes(tmp_path: Path, era: str) -> None:
    from fastmcp.server.auth.providers.jwt import RSAKeyPair

    pair = RSAKeyPair.generate()
    config = write_config(
        tmp_path / "jwt.toml",
        '[http]\nauth = "jwt"\n[http.jwt]\nissuer = "https://idp.test"\naudience = "workbench"\n'
        f"public_key = '''{pair.public_key}'''\n",
    )
    server = HttpServer(["--config", str(config)], tmp_path / "data").start()
    try:
        token = pair.create_token(subject="ann", issuer="https://idp.test", audience="workbench", scopes=["data:read"])
        async with Client(server.url, mode=era, auth=token) as client:
            assert [t.name for t in await client.list_tools()] == ["data_read"]
        wrong = pair.create_token(subject="ann", issuer="https://other.test", audience="workbench", scopes=["*"])
        assert request("POST", server.url, INIT, {**MCP_HEADERS, "Authorization": f"Bearer {wrong}"})[0] == 401
    finally:
        assert server.stop()[0] == 0


async def test_several_workers_serve_statelessly(tmp_path: Path, redis_server) -> None:
    config = write_config(tmp_path / "w.toml", f'[limits]\nstorage = "{redis_server.url}"\n')
    key = create_key(tmp_path / "data", "*")
    server = HttpServer(["--config", str(config), "--workers", "2"], tmp_path / "data").start()
    try:
        for era in ("legacy", "auto"):
            async with Client(server.url, mode=era, auth=key) as client:
                for _ in range(4):
                    assert not (await client.call_tool_mcp("data_read", {"operation": "sources"})).is_error
    finally:
        _, out, _ = server.stop()
        assert out == ""


@pytest.mark.parametrize("field", ["inputResponses", "requestState"])
def test_a_null_continuation_field_is_invalid_params(server: HttpServer, field: str) -> None:
    key = create_key(server.data_dir, "*")
    headers = {**MCP_HEADERS, "Authorization": f"Bearer {key}", "MCP-Protocol-Version": "2026-07-28"}
    call = {"jsonrpc": "2.0", "id": 9, "method": "tools/call",
            "params": {"name": "data_read", "arguments": {"operation": "sources"}, field: None}}  # fmt: skip
    status, _, body = request("POST", server.url, call, headers)
    answer = json.loads(body)
    assert status == 400 and answer["id"] == 9 and answer["error"]["code"] == -32602

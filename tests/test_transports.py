"""The real entry points: ``python -m mcp_workbench serve`` over stdio and over HTTP,
driven by real clients in both protocol eras."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastmcp import Client
from fastmcp.client.transports import StdioTransport

from tests.support.servers import HttpServer, create_key, request
from tests.support.timeouts import SUBPROCESSES

pytestmark = [pytest.mark.anyio, SUBPROCESSES]

SERVE = [sys.executable, "-m", "mcp_workbench", "serve"]


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
    env["WORKBENCH_DATA_DIR"] = str(tmp_path / "data")
    env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg")
    return env


async def _agent_session(client: Client) -> None:
    """What an agent does first: discover, create, write, read back, refuse a hostile call."""
    names = {tool.name for tool in await client.list_tools()}
    assert names == {"analyze", "data_read", "data_write", "research", "web_fetch"}
    created = await client.call_tool(
        "data_write",
        {
            "operation": "create_table",
            "table": "t",
            "columns": [{"name": "id", "type": "integer", "primary_key": True}],
        },
    )
    assert not created.is_error
    await client.call_tool("data_write", {"operation": "insert", "table": "t", "rows": [{"id": 1}, {"id": 2}]})
    selected = await client.call_tool("data_read", {"operation": "select", "table": "t"})
    assert selected.structured_content["rows"] == [[1], [2]]
    refused = await client.call_tool_mcp("data_read", {"operation": "sql", "sql": "DROP TABLE t"})
    assert refused.is_error and json.loads(refused.content[0].text)["error_code"] == "PERMISSION_DENIED"


async def test_stdio_server_serves_an_agent(era: str, tmp_path: Path) -> None:
    transport = StdioTransport(command=SERVE[0], args=SERVE[1:], env=_env(tmp_path))
    async with Client(transport, mode=era) as client:
        await _agent_session(client)
    assert (tmp_path / "data" / "workspace.db").is_file()


def test_stdout_carries_only_protocol_messages_and_logs_go_to_stderr(tmp_path: Path) -> None:
    requests = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "data_read", "arguments": {
            "operation": "tables"}}},
        {"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "data_read", "arguments": {
            "operation": "nope"}}},
    ]  # fmt: skip
    proc = subprocess.Popen(
        SERVE, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(tmp_path)
    )
    assert proc.stdin is not None and proc.stdout is not None
    lines: list[str] = []
    for message in requests:  # one at a time: each answer arrives before the next request
        proc.stdin.write(json.dumps(message) + "\n")
        proc.stdin.flush()
        if "id" in message:
            lines.append(proc.stdout.readline())
    rest, stderr = proc.communicate(timeout=30)  # closes stdin: the server must then exit by itself
    assert proc.returncode == 0, stderr
    messages = [json.loads(line) for line in [*lines, *rest.splitlines()] if line.strip()]
    assert all(m.get("jsonrpc") == "2.0" for m in messages)
    by_id = {m["id"]: m for m in messages if "id" in m}
    assert by_id[1]["result"]["serverInfo"]["name"] == "mcp-workbench"
    assert {t["name"] for t in by_id[2]["result"]["tools"]} == {
        "analyze",
        "data_read",
        "data_write",
        "research",
        "web_fetch",
    }
    assert by_id[3]["result"]["isError"] is False
    assert by_id[4]["result"]["isError"] is True
    log_lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    calls = [line for line in log_lines if line["msg"] == "tool call"]
    assert [c["outcome"] for c in calls] == ["ok", "error"]
    assert all(c["correlation_id"] for c in calls)


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A real HTTP server with API-key auth (the default) and a key allowed every tool."""
    key = create_key(tmp_path / "data", "*")
    server = HttpServer([], tmp_path / "data").start()
    try:
        yield server.url, key
    finally:
        code, out, _ = server.stop()
        assert out == "", "the HTTP server wrote to stdout"
        assert code == 0


async def test_http_server_serves_an_agent(era: str, http_server: tuple[str, str]) -> None:
    url, key = http_server
    async with Client(url, mode=era, auth=key) as client:
        await _agent_session(client)


def test_http_refuses_a_foreign_host_header(http_server: tuple[str, str]) -> None:
    url, key = http_server
    body = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    headers = {
        "Host": "evil.example",
        "Accept": "application/json, text/event-stream",
        "Content-Type": "application/json",
        "Authorization": f"Bearer {key}",
    }
    status, _, _ = request("POST", url, body, headers)
    assert status in (403, 421)


def test_stdio_server_exits_0_on_sigterm_while_the_client_keeps_stdin_open(tmp_path: Path) -> None:
    import signal

    proc = subprocess.Popen(
        SERVE, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(tmp_path)
    )
    assert proc.stdin is not None and proc.stdout is not None
    params = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": params}
    proc.stdin.write(json.dumps(init) + "\n")
    proc.stdin.flush()
    assert json.loads(proc.stdout.readline())["id"] == 1  # serving
    proc.send_signal(signal.SIGTERM)
    try:
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()
        proc.communicate()

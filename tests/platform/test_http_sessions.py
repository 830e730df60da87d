"""Sessions over real HTTP are limited per caller and in total, and one caller never locks out another."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastmcp import Client

from mcp_workbench.platform.keys import KeyStore
from tests.support.servers import HttpServer, request
from tests.support.waiting import wait_until

pytestmark = pytest.mark.anyio

PER_CALLER, TOTAL = 2, 4
HANDSHAKE = "2025-11-25"
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": HANDSHAKE, "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}},
}
PING = {"jsonrpc": "2.0", "id": 2, "method": "ping"}


def start(tmp_path: Path, extra: str = "") -> HttpServer:
    config = tmp_path / "sessions.toml"
    config.write_text(
        f"[http]\nmax_sessions = {TOTAL}\nmax_sessions_per_caller = {PER_CALLER}\n{extra}", encoding="utf-8"
    )
    return HttpServer(["--config", str(config)], tmp_path / "data").start()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[HttpServer]:
    running = start(tmp_path)
    yield running
    code, out, err = running.stop()
    assert (code, out) == (0, "")
    assert "Traceback" not in err, err[-3000:]


def create_key(data_dir: Path, scopes: str, name: str = "test") -> str:
    """A key in the store the server reads (the CLI's own path, without a process per key)."""
    return KeyStore.in_dir(data_dir).create(name, scopes.split(","))[1]


def auth(key: str, session: str | None = None) -> dict[str, str]:
    headers = {**MCP_HEADERS, "Authorization": f"Bearer {key}"}
    if session is not None:
        headers |= {"Mcp-Session-Id": session, "MCP-Protocol-Version": HANDSHAKE}
    return headers


def open_session(server: HttpServer, key: str) -> str:
    status, headers, body = request("POST", server.url, INIT, auth(key))
    assert status == 200, (status, body)
    session = headers["mcp-session-id"]
    initialized = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    assert request("POST", server.url, initialized, auth(key, session))[0] == 202
    return session


def alive(server: HttpServer, key: str, session: str) -> bool:
    status = request("POST", server.url, PING, auth(key, session))[0]
    assert status in (200, 404), status
    return status == 200


@contextmanager
def busy(server: HttpServer, key: str, session: str) -> Iterator[None]:
    """Keeps a GET stream open in ``session`` (a request in flight) until the block ends."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(
            (
                f"GET /mcp HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nAuthorization: Bearer {key}\r\n"
                f"Accept: text/event-stream\r\nMcp-Session-Id: {session}\r\nMCP-Protocol-Version: {HANDSHAKE}\r\n\r\n"
            ).encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(4096)
            assert chunk, "the server closed the stream"
            head += chunk
        assert head.startswith(b"HTTP/1.1 200"), head
        yield


def refusal(status_body: tuple[int, dict[str, str], bytes], status: int) -> dict:
    code, headers, body = status_body
    assert code == status, (code, body)
    assert int(headers["retry-after"]) > 0 and headers["content-type"] == "application/json"
    answer = json.loads(body)
    assert answer["jsonrpc"] == "2.0" and answer["error"]["message"]
    assert answer["error"]["data"]["recovery_steps"]
    return answer["error"]["data"]


class TestPerCallerLimit:
    def test_a_caller_at_its_cap_loses_its_own_least_recently_used_idle_session(self, server: HttpServer) -> None:
        key, other = create_key(server.data_dir, "web", "flood"), create_key(server.data_dir, "web", "other")
        theirs = open_session(server, other)
        first, second = open_session(server, key), open_session(server, key)
        assert alive(server, key, first)  # first is now the more recently used
        third = open_session(server, key)
        assert not alive(server, key, second)
        assert alive(server, key, first) and alive(server, key, third)
        assert alive(server, other, theirs)

    def test_a_caller_whose_sessions_are_all_busy_gets_429_and_others_are_served(self, server: HttpServer) -> None:
        key, other = create_key(server.data_dir, "web", "flood"), create_key(server.data_dir, "web", "other")
        first, second = open_session(server, key), open_session(server, key)
        with busy(server, key, first), busy(server, key, second):
            data = refusal(request("POST", server.url, INIT, auth(key)), 429)
            assert data["max_sessions_per_caller"] == PER_CALLER and data["error_code"] == "RATE_LIMITED"
            assert alive(server, other, open_session(server, other))
        assert alive(server, key, first) and alive(server, key, second)  # nothing of theirs was closed

    def test_a_closed_session_frees_its_place(self, server: HttpServer) -> None:
        key = create_key(server.data_dir, "web")
        first, second = open_session(server, key), open_session(server, key)
        assert request("DELETE", server.url, None, auth(key, first))[0] == 200
        third = open_session(server, key)
        assert alive(server, key, second) and alive(server, key, third)


class TestTotalLimit:
    def test_a_flood_from_one_caller_never_denies_another(self, server: HttpServer) -> None:
        flood = create_key(server.data_dir, "web", "flood")
        for _ in range(2 * TOTAL + 1):
            open_session(server, flood)
        others = [create_key(server.data_dir, "data:read", f"user{i}") for i in range(TOTAL)]
        sessions = {key: open_session(server, key) for key in others}
        # The server was full: room was made by closing the flood's idle sessions.
        assert all(alive(server, key, session) for key, session in sessions.items())
        newcomer = create_key(server.data_dir, "web", "newcomer")
        assert alive(server, newcomer, open_session(server, newcomer))
        # Then the least recently used session of those holding the most.
        assert [alive(server, key, session) for key, session in sessions.items()] == [False, True, True, True]

    def test_requests_that_open_no_session_close_nobodys(self, server: HttpServer) -> None:
        keys = [create_key(server.data_dir, "web", f"user{i}") for i in range(TOTAL)]
        sessions = {key: open_session(server, key) for key in keys}
        prober = create_key(server.data_dir, "web", "prober")
        for body in ({"jsonrpc": "2.0", "id": 5, "method": "tools/list"}, PING, {"not": "json-rpc"}):
            assert request("POST", server.url, body, auth(prober))[0] >= 400
        assert all(alive(server, key, session) for key, session in sessions.items())

    def test_only_when_every_session_is_busy_is_a_new_one_refused(self, server: HttpServer) -> None:
        a, b, c = (create_key(server.data_dir, "web", name) for name in "abc")
        held = [(key, open_session(server, key)) for key in (a, a, b, b)]
        with busy(server, *held[0]), busy(server, *held[1]), busy(server, *held[2]), busy(server, *held[3]):
            data = refusal(request("POST", server.url, INIT, auth(c)), 503)
            assert data["max_sessions"] == TOTAL
        # Once the server has seen the streams end, their sessions are idle and room is made.
        wait_until(lambda: request("POST", server.url, INIT, auth(c))[0] == 200, "a session is idle again")


class TestEras:
    async def test_clients_of_either_era_are_served_after_a_flood(self, server: HttpServer, era: str) -> None:
        flood, other = create_key(server.data_dir, "*", "flood"), create_key(server.data_dir, "*", "other")
        for _ in range(2 * TOTAL + 1):
            open_session(server, flood)
        for key in (other, flood):
            async with Client(server.url, mode=era, auth=key) as client:
                assert not (await client.call_tool_mcp("data_read", {"operation": "sources"})).is_error

    async def test_the_sessionless_era_is_not_counted(self, server: HttpServer) -> None:
        key = create_key(server.data_dir, "*")
        first, second = open_session(server, key), open_session(server, key)
        with busy(server, key, first), busy(server, key, second):
            assert request("POST", server.url, INIT, auth(key))[0] == 429
            async with Client(server.url, mode="auto", auth=key) as client:
                assert not (await client.call_tool_mcp("data_read", {"operation": "sources"})).is_error


class TestIdleTimeout:
    def test_an_idle_session_expires_after_the_configured_timeout(self, tmp_path: Path) -> None:
        server = start(tmp_path, "session_idle_timeout_s = 0.5\n")
        try:
            key = create_key(server.data_dir, "web")
            session = open_session(server, key)
            server.wait_for_log(f"Session {session} idle timeout")
            assert not alive(server, key, session)
        finally:
            assert server.stop()[0] == 0

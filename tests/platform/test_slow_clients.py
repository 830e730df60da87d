"""Slow clients over real loopback sockets: unfinished headers or bodies are cut off, and one
address cannot hold more than its share of connections."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from anyio.abc import SocketStream

from mcp_workbench.platform.keys import KeyStore
from tests.support.servers import HttpServer
from tests.support.waiting import wait_until

pytestmark = pytest.mark.anyio

DEADLINE_S = 1  # the servers' read deadlines here; fail_after below gives them ample room
WAIT_S = 30
TRICKLE_S = 0.2


def start(tmp_path: Path, http: str, *args: str) -> HttpServer:
    config = tmp_path / "slow.toml"
    config.write_text(f"[http]\n{http}", encoding="utf-8")
    return HttpServer(["--config", str(config), *args], tmp_path / "data").start()


def quick_server(tmp_path_factory: pytest.TempPathFactory, *args: str) -> Iterator[HttpServer]:
    """A server with one-second read deadlines."""
    http = f"header_timeout_s = {DEADLINE_S}\nbody_timeout_s = {DEADLINE_S}\n"
    running = start(tmp_path_factory.mktemp("quick"), http, *args)
    yield running
    code, out, err = running.stop()
    assert (code, out) == (0, "") and "Traceback" not in err, err[-3000:]


@pytest.fixture(scope="module")
def quick_one(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpServer]:
    yield from quick_server(tmp_path_factory)


@pytest.fixture(scope="module")
def quick_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpServer]:
    yield from quick_server(tmp_path_factory, "--workers", "2")


@pytest.fixture(params=["one process", "two workers"])
def quick(request: pytest.FixtureRequest) -> HttpServer:
    """The quick server, single process and with ``--workers 2``."""
    return request.getfixturevalue("quick_one" if request.param == "one process" else "quick_workers")


@pytest.fixture
def key(quick: HttpServer) -> str:
    return KeyStore.in_dir(quick.data_dir).create("slow", ["*"])[1]


async def closed_by_server(stream: SocketStream) -> bytes:
    """Everything the server sends until it closes the connection (a 408 at most)."""
    received = b""
    with anyio.fail_after(WAIT_S):
        while True:
            try:
                received += await stream.receive()
            except (anyio.EndOfStream, anyio.BrokenResourceError, ConnectionResetError):
                return received


async def trickle(stream: SocketStream, data: bytes) -> None:
    """Send ``data`` a byte at a time, slowly, until it is all sent or the server hangs up."""
    for byte in data:
        try:
            await stream.send(bytes([byte]))
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, ConnectionResetError, BrokenPipeError):
            return
        await anyio.sleep(TRICKLE_S)


def post_head(server: HttpServer, extra: str = "", length: int = 1000) -> bytes:
    return (
        f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nContent-Type: application/json\r\n"
        f"Accept: application/json, text/event-stream\r\nContent-Length: {length}\r\n{extra}\r\n"
    ).encode()


class TestReadDeadlines:
    async def test_a_connection_that_sends_nothing_is_closed(self, quick: HttpServer) -> None:
        async with await anyio.connect_tcp("127.0.0.1", quick.port) as stream:
            assert (await closed_by_server(stream)).startswith((b"", b"HTTP/1.1 408"))

    @pytest.mark.parametrize(
        "partial",
        [b"", b"GET /livez HTTP/1.1\r\n", b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n"],
        ids=["nothing", "request line", "some headers"],
    )
    async def test_headers_that_never_finish_are_cut_off(self, quick: HttpServer, partial: bytes) -> None:
        async with await anyio.connect_tcp("127.0.0.1", quick.port) as stream, anyio.create_task_group() as tasks:
            await stream.send(partial)
            tasks.start_soon(trickle, stream, b"X-Slow: " + b"a" * 10_000)
            answer = await closed_by_server(stream)
            tasks.cancel_scope.cancel()
        assert answer in (b"",) or answer.startswith(b"HTTP/1.1 408")

    @pytest.mark.parametrize("authenticated", [False, True], ids=["before auth", "after auth"])
    async def test_a_body_that_never_finishes_is_cut_off(
        self, quick: HttpServer, key: str, authenticated: bool
    ) -> None:
        head = post_head(quick, f"Authorization: Bearer {key}\r\n" if authenticated else "")
        async with await anyio.connect_tcp("127.0.0.1", quick.port) as stream, anyio.create_task_group() as tasks:
            await stream.send(head + b'{"jsonrpc": "2.0", ')
            tasks.start_soon(trickle, stream, b" " * 900)
            await closed_by_server(stream)
            tasks.cancel_scope.cancel()

    async def test_a_kept_alive_connection_serves_request_after_request(self, quick: HttpServer) -> None:
        async with await anyio.connect_tcp("127.0.0.1", quick.port) as stream:
            for _ in range(3):
                await stream.send(f"GET /livez HTTP/1.1\r\nHost: 127.0.0.1:{quick.port}\r\n\r\n".encode())
                answer = b""
                with anyio.fail_after(WAIT_S):
                    while not answer.endswith(b"}"):
                        answer += await stream.receive()
                assert answer.startswith(b"HTTP/1.1 200")

    async def test_a_request_being_answered_is_not_cut_off(self, quick_one: HttpServer) -> None:
        """A GET stream outlives the read deadlines: another connection's deadline passes meanwhile."""
        key = KeyStore.in_dir(quick_one.data_dir).create("stream", ["*"])[1]
        init = (
            b'{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25", '
            b'"capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}}'
        )
        async with await anyio.connect_tcp("127.0.0.1", quick_one.port) as stream:
            await stream.send(post_head(quick_one, f"Authorization: Bearer {key}\r\n", len(init)) + init)
            answer = b""
            with anyio.fail_after(WAIT_S):  # the whole answer, so the next read starts at the next one
                while b"\r\n\r\n" not in answer:
                    answer += await stream.receive()
                head, _, body = answer.partition(b"\r\n\r\n")
                headers = dict(line.lower().split(b": ", 1) for line in head.split(b"\r\n")[1:] if b": " in line)
                while len(body) < int(headers[b"content-length"]):
                    body += await stream.receive()
            session = headers[b"mcp-session-id"]
            await stream.send(
                f"GET /mcp HTTP/1.1\r\nHost: 127.0.0.1:{quick_one.port}\r\nAuthorization: Bearer {key}\r\n"
                f"Accept: text/event-stream\r\nMcp-Session-Id: {session.decode()}\r\n"
                f"MCP-Protocol-Version: 2025-11-25\r\n\r\n".encode()
            )
            with anyio.fail_after(WAIT_S):
                assert (await stream.receive()).startswith(b"HTTP/1.1 200")
            async with await anyio.connect_tcp("127.0.0.1", quick_one.port) as silent:
                await closed_by_server(silent)  # a full deadline has passed since the stream began
            with anyio.move_on_after(0.2):  # still open: events may come, the end of the stream may not
                while True:
                    await stream.receive()


CAP = 3


@pytest.fixture(scope="module")
def capped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpServer]:
    """A server that lets one address hold three connections (and waits long for headers)."""
    running = start(tmp_path_factory.mktemp("capped"), f"max_connections_per_address = {CAP}\nheader_timeout_s = 300\n")
    yield running
    assert running.stop()[:2] == (0, "")


def connect(server: HttpServer, source: str = "127.0.0.1") -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=WAIT_S, source_address=(source, 0))


def probe(server: HttpServer, source: str = "127.0.0.1") -> bytes:
    """The answer to one request on a new connection from ``source``."""
    with connect(server, source) as sock:
        return livez(sock, server)


def livez(sock: socket.socket, server: HttpServer) -> bytes:
    """Send one request; return the answer up to the server's close or the end of a small body."""
    sock.sendall(f"GET /livez HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nConnection: close\r\n\r\n".encode())
    answer = b""
    try:
        while chunk := sock.recv(4096):
            answer += chunk
    except ConnectionResetError:
        pass
    return answer


class TestConnectionsPerAddress:
    def test_an_address_past_its_cap_gets_503_and_others_are_served(self, capped: HttpServer) -> None:
        held = [connect(capped) for _ in range(CAP)]  # accepted in order: counted before the next
        try:
            answer = probe(capped)
            assert answer.startswith(b"HTTP/1.1 503") and b"retry-after" in answer.lower()
            assert probe(capped, source="127.0.0.2").startswith(b"HTTP/1.1 200")
        finally:
            for sock in held:
                sock.close()
        # Closed connections give their places back (once the server has seen them close).
        wait_until(lambda: probe(capped).startswith(b"HTTP/1.1 200"), "places are given back")

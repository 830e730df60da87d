"""A client gives up on a long write: it cancels, or it goes away. The write is held up by a
lock this test takes on the table from its own PostgreSQL connection, so it is certainly in
flight (PostgreSQL shows the server's session waiting for the lock) when the client leaves.
Then: the server's session stops waiting (the work stopped), no row of it exists once the lock
is released (its transaction rolled back), and the server answers the next call.

Over streamable HTTP in the handshake era the specification says a dropped connection is *not*
a cancellation (2025-11-25, Transports: "Disconnection SHOULD NOT be interpreted as the client
cancelling its request"): there the write may finish, but only whole.
"""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import asyncpg
import pytest
from fastmcp import Client

from mcp_workbench.server import build_server
from mcp_workbench.settings import Settings
from tests.fuzz.wire import MODERN, HttpPeer, StdioPeer, with_meta
from tests.support.config_file import write_config
from tests.support.pg_activity import busy_backends, lock_waiters, server_backends
from tests.support.session import tool_payload
from tests.support.timeouts import SUBPROCESSES
from tests.support.waiting import eventually

pytestmark = [pytest.mark.anyio, SUBPROCESSES]

ROWS = 50
INSERT = {"operation": "insert", "table": "t", "rows": [{"id": i, "batch": "cancelled"} for i in range(ROWS)]}
SLOW_BUDGETS = {"statement_timeout_s": 120}  # the lock, not a budget, must be what stops the write


async def _make_table(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("CREATE TABLE t (id int PRIMARY KEY, batch text)")
    finally:
        await conn.close()


async def _rows(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM t"))
    finally:
        await conn.close()


@asynccontextmanager
async def table_locked(url: str) -> AsyncIterator[None]:
    """Hold ACCESS EXCLUSIVE on ``t`` from another connection until the block ends."""
    conn = await asyncpg.connect(url)
    transaction = conn.transaction()
    await transaction.start()
    try:
        await conn.execute("LOCK TABLE t IN ACCESS EXCLUSIVE MODE")
        yield
    finally:
        await transaction.rollback()
        await conn.close()


def _waiting(url: str) -> Callable[[], Any]:
    async def check() -> bool:
        return await lock_waiters(url) == 1

    return check


def _stopped(url: str) -> Callable[[], Any]:
    async def check() -> bool:
        return await busy_backends(url) == 0

    return check


@pytest.fixture
async def pg_table(postgres_db_url: str) -> str:
    """A database with table ``t`` whose sessions notice a vanished client within 50 ms.

    PostgreSQL does not notice, while a session waits for a lock, that its client has gone
    (``client_connection_check_interval`` is off by default). A server process that exits drops
    its connections, and whether its last cancel request still went out before the exit is a
    race; with the check on, the session of a client that is gone ends either way, and one
    whose client is still there (a server still waiting) does not.
    """
    await _make_table(postgres_db_url)
    conn = await asyncpg.connect(postgres_db_url)
    try:
        name = await conn.fetchval("SELECT current_database()")
        await conn.execute(f'ALTER DATABASE "{name}" SET client_connection_check_interval = 50')
    finally:
        await conn.close()
    return postgres_db_url


@pytest.fixture
def config(tmp_path: Path, pg_table: str) -> Path:
    data = {"data": {"sources": {"workspace": {"url": pg_table}}, **SLOW_BUDGETS}, "timeouts": {"default_s": 300}}
    return write_config(tmp_path / "cancel.toml", data)


async def test_cancelling_the_call_in_the_client_stops_the_write_and_rolls_it_back(
    make_settings: Callable[..., Settings], pg_table: str, era: str
) -> None:
    settings = make_settings(
        data={"sources": {"workspace": {"url": pg_table}}, **SLOW_BUDGETS}, timeouts={"default_s": 300}
    )
    async with Client(build_server(settings), mode=era) as client:
        async with table_locked(pg_table):
            async with anyio.create_task_group() as tasks:
                call = anyio.CancelScope()

                async def insert() -> None:
                    with call:
                        await client.call_tool_mcp("data_write", INSERT)

                tasks.start_soon(insert)
                await eventually(_waiting(pg_table), "the insert waits for the lock")
                call.cancel()  # the fastmcp client sends notifications/cancelled for it
            await eventually(
                _stopped(pg_table),
                "the server's session stops working on the cancelled insert",
                explain=lambda: server_backends(pg_table),
            )
        assert await _rows(pg_table) == 0, "rows of a cancelled insert were kept"
        after = await client.call_tool_mcp("data_write", {**INSERT, "rows": [{"id": 1, "batch": "after"}]})
        assert not after.is_error, tool_payload(after)
    assert await _rows(pg_table) == 1


async def test_a_cancelled_call_is_logged_as_cancelled_not_as_ok(
    make_settings: Callable[..., Settings], pg_table: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The per-call log line and metrics must not count a call the client cancelled as a success."""
    caplog.set_level(logging.INFO, logger="mcp_workbench.calls")
    settings = make_settings(
        data={"sources": {"workspace": {"url": pg_table}}, **SLOW_BUDGETS}, timeouts={"default_s": 300}
    )

    def logged() -> list[logging.LogRecord]:
        return [r for r in caplog.records if r.getMessage() == "tool call" and getattr(r, "tool", "") == "data_write"]

    async with Client(build_server(settings)) as client, table_locked(pg_table):
        async with anyio.create_task_group() as tasks:
            call = anyio.CancelScope()

            async def insert() -> None:
                with call:
                    await client.call_tool_mcp("data_write", INSERT)

            tasks.start_soon(insert)
            await eventually(_waiting(pg_table), "the insert waits for the lock")
            call.cancel()

        async def line_written() -> bool:
            return bool(logged())

        await eventually(line_written, "the call's log line is written")
    [line] = logged()
    assert line.outcome != "ok" and line.error_code, f"a cancelled call was logged as {line.outcome}/{line.error_code}"


async def test_cancelling_an_http_call_in_the_client_stops_the_write_and_rolls_it_back(
    tmp_path: Path, pg_table: str, config: Path, era: str
) -> None:
    """The fastmcp client cancels over HTTP as each era says: notifications/cancelled in the
    handshake era, closing the call's connection on 2026-07-28."""
    server = HttpPeer(era, tmp_path / "data", args=["--config", str(config)]).start()
    try:
        async with Client(f"{server.base}/mcp", mode=era) as client:
            async with table_locked(pg_table):
                async with anyio.create_task_group() as tasks:
                    call = anyio.CancelScope()

                    async def insert() -> None:
                        with call:
                            await client.call_tool_mcp("data_write", INSERT)

                    tasks.start_soon(insert)
                    await eventually(_waiting(pg_table), "the insert waits for the lock")
                    call.cancel()
                await eventually(
                    _stopped(pg_table),
                    "the server's session stops working on the cancelled insert",
                    timeout_s=20,
                    explain=lambda: server_backends(pg_table),
                )
            assert await _rows(pg_table) == 0, "rows of a cancelled insert were kept"
            after = await client.call_tool_mcp("data_write", {**INSERT, "rows": [{"id": 1, "batch": "after"}]})
            assert not after.is_error, tool_payload(after)
    finally:
        assert server.stop() == 0, server.stderr_text()[-3000:]
        assert await _rows(pg_table) in (0, 1, ROWS), "a write was kept in part"


@pytest.mark.parametrize("era", ["legacy", MODERN])
async def test_notifications_cancelled_over_stdio_stops_the_write_and_it_is_never_answered(
    tmp_path: Path, pg_table: str, config: Path, era: str
) -> None:
    peer = StdioPeer(era, tmp_path / "data", env={"WORKBENCH_CONFIG": str(config)}).start()
    try:
        async with table_locked(pg_table):
            peer.send(json.dumps(with_meta(era, _call("slow", INSERT))).encode())
            await eventually(_waiting(pg_table), "the insert waits for the lock")
            peer.notify({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": "slow"}})
            await eventually(
                _stopped(pg_table),
                "the server's session stops working on the cancelled insert",
                explain=lambda: server_backends(pg_table),
            )
            peer.sentinel()
            assert not [m for m in peer.received() if m.get("id") == "slow"], "a cancelled request was answered"
        assert await _rows(pg_table) == 0
        after = peer.request(with_meta(era, _call("after", {**INSERT, "rows": [{"id": 1}]})))
        assert after["result"]["isError"] is False, after
    finally:
        code = peer.close()
    assert code == 0, peer.stderr_text()[-3000:]
    assert await _rows(pg_table) == 1
    assert peer.non_protocol_lines() == []


async def test_a_stdio_client_that_goes_away_mid_write_stops_it_and_the_server_exits_cleanly(
    tmp_path: Path, pg_table: str, config: Path
) -> None:
    peer = StdioPeer("legacy", tmp_path / "data", env={"WORKBENCH_CONFIG": str(config)}).start()
    async with table_locked(pg_table):
        peer.send(json.dumps(_call("slow", INSERT)).encode())
        await eventually(_waiting(pg_table), "the insert waits for the lock")
        code = await anyio.to_thread.run_sync(peer.close)  # stdin closes: the client is gone
        await eventually(
            _stopped(pg_table),
            "the server's session stops working on the abandoned insert",
            explain=lambda: server_backends(pg_table),
        )
    assert code == 0, peer.stderr_text()[-3000:]
    assert await _rows(pg_table) == 0, "rows of an insert whose client went away were kept"


def _call(request_id: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": "tools/call",
        "params": {"name": "data_write", "arguments": arguments},
    }


def _open_post(server: HttpPeer, message: dict[str, Any]) -> socket.socket:
    """POST a request on a raw connection and leave it open without reading the answer."""
    body = json.dumps(message).encode()
    headers = {**server.headers_for(body), "Content-Length": str(len(body)), "Host": f"127.0.0.1:{server.port}"}
    head = b"POST /mcp HTTP/1.1\r\n" + b"".join(f"{k}: {v}\r\n".encode() for k, v in headers.items()) + b"\r\n"
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=60)
    sock.sendall(head + body)
    return sock


async def test_closing_the_connection_of_a_2026_07_28_http_call_cancels_it(
    tmp_path: Path, pg_table: str, config: Path
) -> None:
    """2026-07-28 has no client-to-server notifications over HTTP: a client cancels a call by
    closing the request's connection (the fastmcp client does exactly that), so the write must
    stop and roll back."""
    server = HttpPeer(MODERN, tmp_path / "data", args=["--config", str(config)]).start()
    try:
        async with table_locked(pg_table):
            sock = _open_post(server, with_meta(MODERN, _call("dropped", INSERT)))
            await eventually(_waiting(pg_table), "the insert waits for the lock")
            sock.close()
            await eventually(
                _stopped(pg_table),
                "the server stops the insert whose connection closed",
                timeout_s=20,
                explain=lambda: server_backends(pg_table),
            )
        assert await _rows(pg_table) == 0
        server.sentinel()
    finally:
        assert server.stop() == 0, server.stderr_text()[-3000:]
        # whatever happened above, the insert must not be left half-done
        assert await _rows(pg_table) in (0, ROWS)


async def test_a_dropped_handshake_era_http_call_is_all_or_nothing_and_an_explicit_cancel_stops_it(
    tmp_path: Path, pg_table: str, config: Path
) -> None:
    """Handshake era: a dropped connection is not a cancellation (the specification), so the
    write may complete once the lock is gone, but whole; notifications/cancelled stops it."""
    server = HttpPeer("legacy", tmp_path / "data", args=["--config", str(config)]).start()
    try:
        async with table_locked(pg_table):
            sock = _open_post(server, _call("dropped", INSERT))
            await eventually(_waiting(pg_table), "the insert waits for the lock")
            sock.close()
        await eventually(_stopped(pg_table), "the dropped insert ends, one way or the other")
        assert await _rows(pg_table) in (0, ROWS), "a write was kept in part"

        conn = await asyncpg.connect(pg_table)
        try:
            await conn.execute("TRUNCATE t")
        finally:
            await conn.close()
        async with table_locked(pg_table):
            sock = _open_post(server, _call("cancelled", INSERT))
            await eventually(_waiting(pg_table), "the insert waits for the lock")
            cancel = {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": "cancelled"}}
            assert server.post(json.dumps(cancel).encode()).status == 202
            await eventually(
                _stopped(pg_table), "the server stops the cancelled insert", explain=lambda: server_backends(pg_table)
            )
            sock.close()
        assert await _rows(pg_table) == 0
        server.sentinel()
    finally:
        assert server.stop() == 0, server.stderr_text()[-3000:]

"""``serve --transport http --workers N``: real supervisor and worker processes on one port.

Each worker listens on its own SO_REUSEPORT socket, so the kernel spreads connections across
them; the supervisor replaces a worker that dies, stops them all on SIGTERM (exit 0), and
refuses a port that is already taken before starting any worker.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import pytest
from fastmcp import Client

from mcp_workbench.cli.workers import EXIT_ADDRESS_IN_USE, HAS_REUSEPORT, listening_socket
from tests.support.servers import SERVE, clean_env, free_port, get, request
from tests.support.waiting import wait_until

pytestmark = pytest.mark.anyio
needs_reuseport = pytest.mark.skipif(not HAS_REUSEPORT, reason="SO_REUSEPORT is not available here")
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
CONNECTIONS = 16  # the kernel picks a worker per connection; all 16 on one of 2 workers: p = 2^-15


@dataclass
class Workers:
    """A ``serve --transport http --workers N --no-auth`` process whose stderr goes to a file we can follow."""

    tmp: Path
    workers: int = 2
    host: str = "127.0.0.1"
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[str] | None = None

    @property
    def base(self) -> str:
        return f"http://[{self.host}]:{self.port}" if ":" in self.host else f"http://{self.host}:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.tmp / "stderr.jsonl"

    def start(self) -> Workers:
        args = ["--transport", "http", "--no-auth", "--host", self.host, "--port", str(self.port)]
        with self.log_path.open("w") as log:
            self.proc = subprocess.Popen(
                [*SERVE, *args, "--workers", str(self.workers)],
                env=clean_env(self.tmp / "data"),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
        wait_until(lambda: len(self.ready_pids()) >= self.workers, "every worker is ready", process=self.proc)
        return self

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log_path.read_text().splitlines() if line.strip()]

    def ready_pids(self) -> dict[int, int]:
        """worker index -> pid of its newest process that became ready."""
        return {line["worker"]: line["worker_pid"] for line in self.lines() if line["msg"] == "worker ready"}

    def stop(self) -> tuple[int, str]:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        out, _ = self.proc.communicate(timeout=60)
        return self.proc.returncode, out


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Workers]:
    server = Workers(tmp_path).start()
    try:
        yield server
    finally:
        pids = {line["worker_pid"] for line in server.lines() if line["msg"] == "worker started"}
        code, out = server.stop()
        assert (code, out) == (0, ""), "SIGTERM exits 0 and stdout stays empty"
        assert not [pid for pid in pids if alive(pid)], "every worker is gone"


async def _one_call_per_connection(url: str, connections: int = CONNECTIONS) -> None:
    for _ in range(connections):  # a Client is its own HTTP connection pool: one new connection each
        async with Client(url, mode="legacy") as client:
            assert not (await client.call_tool_mcp("data_read", {"operation": "sources"})).is_error


@needs_reuseport
async def test_connections_are_spread_over_the_workers_and_every_worker_serves_calls(workers: Workers) -> None:
    await _one_call_per_connection(f"{workers.base}/mcp")
    callers = {line["worker_pid"] for line in workers.lines() if line.get("tool") == "data_read"}
    assert callers == set(workers.ready_pids().values())


@needs_reuseport
async def test_a_killed_worker_is_replaced_and_the_replacement_serves(workers: Workers) -> None:
    assert workers.proc is not None
    victim = workers.ready_pids()[0]
    os.kill(victim, signal.SIGKILL)
    wait_until(lambda: workers.ready_pids()[0] != victim, "worker 0 is replaced", process=workers.proc)
    exits = [line for line in workers.lines() if line["msg"] == "worker exited unexpectedly; restarting it"]
    assert [(e["level"], e["worker_pid"], e["exit_code"]) for e in exits] == [("error", victim, -signal.SIGKILL)]
    await _one_call_per_connection(f"{workers.base}/mcp")
    callers = {line["worker_pid"] for line in workers.lines() if line.get("tool") == "data_read"}
    assert workers.ready_pids()[0] in callers and victim not in callers


@needs_reuseport
async def test_sigterm_lets_a_call_in_flight_finish_within_the_grace_then_exits_0(workers: Workers) -> None:
    assert workers.proc is not None
    url = f"{workers.base}/mcp"
    columns = [{"name": "a", "type": "integer"}]
    async with Client(url, mode="legacy") as client:
        assert not (
            await client.call_tool_mcp("data_write", {"operation": "create_table", "table": "t", "columns": columns})
        ).is_error
    db = sqlite3.connect(workers.tmp / "data" / "workspace.db", isolation_level=None)
    db.execute("BEGIN IMMEDIATE")  # another writer holds the lock: the insert below waits in its worker
    outcome: list[Any] = []

    async def insert() -> None:  # one plain POST: a stateless worker needs no handshake
        arguments = {"operation": "insert", "table": "t", "rows": [{"a": 1}]}
        call = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": "data_write", "arguments": arguments},
        }
        headers = {**MCP_HEADERS, "MCP-Protocol-Version": "2025-11-25"}
        outcome.append(await anyio.to_thread.run_sync(request, "POST", url, call, headers))

    try:
        with anyio.fail_after(60):
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(insert)
                in_flight = lambda: _in_flight(workers) == 1  # noqa: E731
                await anyio.to_thread.run_sync(
                    lambda: wait_until(in_flight, "the insert is in flight", process=workers.proc)
                )
                workers.proc.send_signal(signal.SIGTERM)
                # uvicorn's words for "in the grace period": it has stopped accepting and waits for the call.
                waiting = lambda: any(line["msg"].startswith("Waiting for connections") for line in workers.lines())  # noqa: E731
                await anyio.to_thread.run_sync(
                    lambda: wait_until(waiting, "a worker waits out its grace", process=workers.proc)
                )
                db.execute("ROLLBACK")  # now the insert can go on, inside the grace period
    finally:
        db.close()
    status, _, body = outcome[0]
    assert status == 200 and json.loads(body)["result"]["isError"] is False, "the call in flight finished"
    assert workers.proc.wait(60) == 0


def _in_flight(workers: Workers) -> float:
    """The most calls running in any worker that answered /metrics (each request lands on one)."""
    values = [0.0]
    for _ in range(8):
        text = get(f"{workers.base}/metrics")[2].decode()
        values += [
            float(line.split()[1]) for line in text.splitlines() if line.startswith("workbench_tool_calls_in_flight ")
        ]
    return max(values)


@needs_reuseport
async def test_workers_listen_on_an_ipv6_address(tmp_path: Path) -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 here")
    server = Workers(tmp_path, host="::1").start()
    try:
        assert get(f"{server.base}/livez")[0] == 200
        async with Client(f"{server.base}/mcp", mode="legacy") as client:
            assert not (await client.call_tool_mcp("data_read", {"operation": "sources"})).is_error
    finally:
        assert server.stop() == (0, "")


@pytest.mark.parametrize("other_uses_reuseport", [False, True], ids=["plain", "so_reuseport"])
def test_a_port_in_use_is_refused_before_any_worker_starts(tmp_path: Path, other_uses_reuseport: bool) -> None:
    if other_uses_reuseport and not HAS_REUSEPORT:
        pytest.skip("SO_REUSEPORT is not available here")
    with listening_socket("127.0.0.1", 0, reuseport=other_uses_reuseport) as taken:
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [*SERVE, "--transport", "http", "--no-auth", "--port", str(port), "--workers", "2"],
            env=clean_env(tmp_path / "data"),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    lines = [json.loads(line) for line in proc.stderr.splitlines()]
    assert (proc.returncode, proc.stdout) == (EXIT_ADDRESS_IN_USE, "")
    assert any(f"127.0.0.1:{port}" in line["msg"] and "already in use" in line["msg"] for line in lines)
    assert not any(line["msg"] == "worker started" for line in lines)


def test_worker_sockets_and_the_connections_they_accept_have_tcp_nodelay() -> None:
    with listening_socket("127.0.0.1", 0, reuseport=HAS_REUSEPORT) as listener:
        assert listener.proto == socket.IPPROTO_TCP  # so asyncio sets TCP_NODELAY on accepted sockets too
        assert listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        with socket.create_connection(listener.getsockname()[:2]):
            accepted, _ = listener.accept()
            with accepted:
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)

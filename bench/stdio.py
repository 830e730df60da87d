"""A raw JSON-RPC client for stdio MCP servers: JSON lines to the child's stdin, from its stdout.

No MCP SDK on the client side, so the client costs the same for every server and very little.
The server's CPU comes from /proc (see :mod:`bench.proc`), not from the client's clock.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import proc

HANDSHAKE_VERSION = "2025-11-25"
CLIENT_INFO = {"name": "mcp-workbench-bench", "version": "1"}


class ServerGone(RuntimeError):
    pass


@dataclass
class Reply:
    message: dict[str, Any]
    seconds: float
    size: int = 0  # bytes of the answer's JSON line

    @property
    def result(self) -> dict[str, Any]:
        return self.message.get("result") or {}

    @property
    def failed(self) -> str | None:
        """Why this reply is not a successful result (protocol error or isError), else None."""
        if "error" in self.message:
            return f"JSON-RPC error {self.message['error']}"
        if self.result.get("isError"):
            return "isError: " + " ".join(c.get("text", "") for c in self.result.get("content", []))[:300]
        return None

    def text(self) -> str:
        return "".join(c.get("text", "") for c in self.result.get("content", []) if c.get("type") == "text")


@dataclass
class StdioServer:
    """One stdio MCP server child process."""

    name: str
    argv: list[str]
    env: dict[str, str]
    cwd: Path
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None
    _buffer: bytes = b""
    _next_id: int = 0
    spawned_at: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> StdioServer:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.spawned_at = time.perf_counter()
        self.proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            env=self.env,
            cwd=self.cwd,
            bufsize=0,
            start_new_session=True,  # a ^C of the benchmark reaches us, not the servers
        )
        log.close()
        return self

    # -- wire ---------------------------------------------------------------------------------
    def send(self, message: dict[str, Any]) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(message, separators=(",", ":")).encode() + b"\n")
        except BrokenPipeError:
            raise ServerGone(f"{self.name} closed its stdin; see {self.log_path}") from None

    def _read_line(self, deadline: float) -> bytes:
        assert self.proc is not None and self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        while True:
            newline = self._buffer.find(b"\n")
            if newline >= 0:
                line, self._buffer = self._buffer[:newline], self._buffer[newline + 1 :]
                return line
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise TimeoutError(f"{self.name} did not answer in time; see {self.log_path}")
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                raise ServerGone(f"{self.name} exited (code {self.proc.poll()}); see {self.log_path}")
            self._buffer += chunk

    def request(self, method: str, params: dict[str, Any] | None = None, timeout: float = 60.0) -> Reply:
        self._next_id += 1
        request_id = self._next_id
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        started = time.perf_counter()
        self.send(message)
        return self._await(request_id, started, started + timeout)

    def _await(self, request_id: int, started: float, deadline: float) -> Reply:
        while True:
            line = self._read_line(deadline)
            if not line.strip():
                continue
            try:
                message = json.loads(line)
            except json.JSONDecodeError:
                self.notes.append(f"non-JSON line on stdout: {line[:120]!r}")
                continue
            if message.get("id") == request_id and "method" not in message:
                return Reply(message, time.perf_counter() - started, len(line))
            if "method" in message and "id" in message:  # a request from the server: we offer nothing
                self.send(
                    {
                        "jsonrpc": "2.0",
                        "id": message["id"],
                        "error": {"code": -32601, "message": "not supported by the benchmark client"},
                    }
                )

    def notify(self, method: str, params: dict[str, Any] | None = None) -> None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)

    # -- MCP ----------------------------------------------------------------------------------
    def initialize(self, timeout: float = 120.0) -> Reply:
        reply = self.request(
            "initialize",
            {"protocolVersion": HANDSHAKE_VERSION, "capabilities": {}, "clientInfo": CLIENT_INFO},
            timeout=timeout,
        )
        if "error" in reply.message:
            raise RuntimeError(f"{self.name}: initialize failed: {reply.message['error']}")
        self.notify("notifications/initialized")
        return reply

    def list_tools(self, timeout: float = 60.0) -> list[dict[str, Any]]:
        reply = self.request("tools/list", {}, timeout=timeout)
        if "error" in reply.message:
            raise RuntimeError(f"{self.name}: tools/list failed: {reply.message['error']}")
        return reply.result.get("tools", [])

    def call(self, tool: str, arguments: dict[str, Any], timeout: float = 120.0) -> Reply:
        return self.request("tools/call", {"name": tool, "arguments": arguments}, timeout=timeout)

    # -- process ------------------------------------------------------------------------------
    def cpu_seconds(self) -> float:
        return proc.cpu_seconds(self.pid)

    def memory(self) -> proc.Memory:
        return proc.memory(self.pid)

    def stop(self, timeout: float = 10.0) -> int | None:
        if self.proc is None:
            return None
        if self.proc.stdin:
            with contextlib.suppress(BrokenPipeError):
                self.proc.stdin.close()
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            try:
                return self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                return self.proc.wait()
        finally:
            if self.proc.stdout:
                self.proc.stdout.close()


def cold_start(server: StdioServer, timeout: float = 120.0) -> tuple[float, int]:
    """Seconds from spawn to the answer of tools/list (the requests are written at once)."""
    started = time.perf_counter()
    server.start()
    server.initialize(timeout=timeout)
    tools = server.list_tools(timeout=timeout)
    elapsed = time.perf_counter() - started
    return elapsed, len(tools)

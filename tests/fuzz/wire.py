"""Raw protocol peers for the protocol-level fuzz tests (and the fault tests): bytes in,
JSON-RPC out, nothing between the test and the wire.

:class:`StdioPeer` runs ``python -m mcp_workbench serve`` and talks to it over its real stdin
and stdout, one line per message. A reader thread files every stdout line; a request is answered
when a line with its id arrives (waits are queue reads against a deadline, never sleeps). Every
stdout line is kept, so a test can check at the end that the server wrote nothing but JSON-RPC.

:class:`HttpPeer` runs ``serve --transport http --no-auth`` on 127.0.0.1 and posts raw bodies
with the headers each era wants; its output goes to files, so a server that logs every call
never stalls on a full pipe.

Both protocol eras: ``legacy`` opens with ``initialize`` (2025-11-25); ``2026-07-28`` has no
handshake — each request carries the protocol version in ``params._meta``.
"""

from __future__ import annotations

import itertools
import json
import queue
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from tests.support.servers import SERVE, clean_env
from tests.support.waiting import wait_until

LEGACY = "2025-11-25"
MODERN = "2026-07-28"
ERAS = ("legacy", MODERN)
META = {
    "io.modelcontextprotocol/protocolVersion": MODERN,
    "io.modelcontextprotocol/clientInfo": {"name": "raw", "version": "0"},
    "io.modelcontextprotocol/clientCapabilities": {},
}
WAIT_S = 60.0  # generous: a loaded 2-core machine; nothing here measures speed
_counter = itertools.count(1)


def initialize_request(request_id: Any = 1) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": "initialize",
        "params": {"protocolVersion": LEGACY, "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}},
    }


def with_meta(era: str, message: dict[str, Any]) -> dict[str, Any]:
    """On 2026-07-28 every request carries the protocol version in ``params._meta``."""
    if era == "legacy" or "method" not in message:
        return message
    params = message.get("params")
    if params is None:
        params = {}
    if isinstance(params, dict):
        params = {**params, "_meta": {**META, **params.get("_meta", {})}}
    return {**message, "params": params}


def is_jsonrpc(message: Any) -> bool:
    """A JSON-RPC 2.0 response, request or notification object."""
    if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
        return False
    if "method" in message:
        return isinstance(message["method"], str)
    return ("result" in message) != ("error" in message) and "id" in message


@dataclass
class StdioPeer:
    era: str
    data_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    lines: list[bytes] = field(default_factory=list)  # every stdout line, in order
    _inbox: queue.Queue[dict[str, Any] | None] = field(default_factory=queue.Queue)
    _stash: list[dict[str, Any]] = field(default_factory=list)
    _stderr: IO[bytes] | None = None

    # --- process -----------------------------------------------------------------------

    def start(self, *, handshake: bool = True) -> StdioPeer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._stderr = (self.data_dir / "stderr.log").open("wb")  # a file: a full pipe would stall the server
        self.proc = subprocess.Popen(
            SERVE,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=clean_env(self.data_dir, self.env),
        )
        threading.Thread(target=self._read, name="stdio-peer-reader", daemon=True).start()
        if not handshake:
            return self
        if self.era == "legacy":
            assert "result" in self.request(initialize_request(next(_counter)))
            self.notify({"jsonrpc": "2.0", "method": "notifications/initialized"})
        else:
            assert "result" in self.request(
                {"jsonrpc": "2.0", "id": next(_counter), "method": "server/discover", "params": {"_meta": META}}
            )
        return self

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)
            try:
                message = json.loads(line)
            except (ValueError, RecursionError):
                continue  # checked at the end: every line must be JSON-RPC
            if isinstance(message, dict):
                self._inbox.put(message)
        self._inbox.put(None)  # end of output

    def close(self, timeout: float = WAIT_S) -> int:
        """Close stdin (the client goes away); the server must then exit by itself."""
        assert self.proc is not None
        if self.proc.stdin and not self.proc.stdin.closed:
            self.proc.stdin.close()
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(timeout=timeout)
            if self._stderr is not None:
                self._stderr.close()

    def stderr_text(self) -> str:
        return (self.data_dir / "stderr.log").read_text(encoding="utf-8", errors="replace")

    # --- messages ----------------------------------------------------------------------

    def send(self, raw: bytes) -> None:
        """Write bytes as they are and end the line."""
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(raw + b"\n")
        self.proc.stdin.flush()

    def notify(self, message: dict[str, Any]) -> None:
        self.send(json.dumps(message).encode())

    def with_meta(self, message: dict[str, Any]) -> dict[str, Any]:
        return with_meta(self.era, message)

    def request(self, message: dict[str, Any], timeout: float = WAIT_S) -> dict[str, Any]:
        self.send(json.dumps(message).encode())
        return self.wait_for(message["id"], timeout=timeout)

    def wait_for(self, request_id: Any, timeout: float = WAIT_S) -> dict[str, Any]:
        """The response with this id; other messages are kept for :meth:`received`."""
        return self.wait_for_any((request_id,), timeout=timeout)

    def wait_for_any(self, ids: tuple[Any, ...], timeout: float = WAIT_S) -> dict[str, Any]:
        """The first response whose id is one of ``ids`` (None: a null id)."""

        def wanted(message: dict[str, Any]) -> bool:
            return "method" not in message and "id" in message and message["id"] in ids

        for index, message in enumerate(self._stash):
            if wanted(message):
                return self._stash.pop(index)
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no response with an id in {ids!r} within {timeout} s")
            try:
                message = self._inbox.get(timeout=remaining)
            except queue.Empty:
                continue
            if message is None:
                self._inbox.put(None)
                raise AssertionError(f"the server closed stdout before answering {ids!r}")
            if wanted(message):
                return message
            self._stash.append(message)

    def sentinel(self) -> dict[str, Any]:
        """A request the server must answer: proof it still serves (ping; tools/list on 2026-07-28)."""
        request_id = f"sentinel-{next(_counter)}"
        method = "ping" if self.era == "legacy" else "tools/list"
        answer = self.request(self.with_meta({"jsonrpc": "2.0", "id": request_id, "method": method}))
        assert "result" in answer, f"the server no longer serves: {answer}"
        return answer

    def received(self) -> list[dict[str, Any]]:
        """Messages that arrived and were not claimed by a waiter (and take them)."""
        while True:
            try:
                message = self._inbox.get_nowait()
            except queue.Empty:
                break
            if message is None:
                self._inbox.put(None)
                break
            self._stash.append(message)
        taken, self._stash = self._stash, []
        return taken

    def non_protocol_lines(self) -> list[bytes]:
        bad = []
        for line in self.lines:
            try:
                ok = is_jsonrpc(json.loads(line))
            except (ValueError, RecursionError):
                ok = False
            if not ok:
                bad.append(line[:300])
        return bad


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def messages(self) -> list[Any]:
        """The JSON-RPC messages in the body: plain JSON, or the data lines of an SSE stream."""
        if not self.body.strip():
            return []
        if self.headers.get("content-type", "").startswith("text/event-stream"):
            found = []
            for line in self.body.decode("utf-8", "replace").splitlines():
                if line.startswith("data:") and line[5:].strip():
                    found.append(json.loads(line[5:]))
            return found
        try:
            return [json.loads(self.body)]
        except ValueError:
            return []


@dataclass
class HttpPeer:
    """A real ``serve --transport http --no-auth`` on 127.0.0.1, spoken to with raw HTTP.

    Its stdout and stderr go to files under ``log_dir`` (default: the data directory), never to
    pipes nobody reads while it runs: a full pipe would stall a server that logs every call.
    ``preexec`` runs in the child before exec (resource limits for the fault tests).
    """

    era: str
    data_dir: Path
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    log_dir: Path | None = None
    preexec: Callable[[], None] | None = None
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    session: str | None = None

    @property
    def logs(self) -> Path:
        return self.log_dir or self.data_dir

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> HttpPeer:
        from tests.support.servers import free_port

        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.logs.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        with (self.logs / "stdout.log").open("wb") as out, (self.logs / "stderr.log").open("wb") as err:
            self.proc = subprocess.Popen(
                [*SERVE, "--transport", "http", "--port", str(self.port), "--no-auth", *self.args],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                env=clean_env(self.data_dir, self.env),
                preexec_fn=self.preexec,  # noqa: PLW1509 - only resource limits, set before exec
            )
        wait_until(
            self._live,
            "the server answers /livez",
            timeout_s=WAIT_S,
            process=self.proc,
            explain=lambda: self.stderr_text()[-2000:],
        )
        if self.era == "legacy":
            reply = self.post(json.dumps(initialize_request("init")).encode())
            assert reply.status == 200, reply
            self.session = reply.headers.get("mcp-session-id")
            assert (
                self.post(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}).encode()).status == 202
            )
        return self

    def _live(self) -> bool:
        import http.client

        try:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            connection.request("GET", "/livez")
            return connection.getresponse().status == 200
        except OSError:
            return False

    def stop(self, timeout: float = WAIT_S) -> int:
        import signal

        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(timeout=timeout)

    def stdout_bytes(self) -> bytes:
        return (self.logs / "stdout.log").read_bytes()

    def stderr_text(self) -> str:
        return (self.logs / "stderr.log").read_text(encoding="utf-8", errors="replace")

    def headers_for(self, raw: bytes) -> dict[str, str]:
        headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
        if self.era == "legacy":
            headers["MCP-Protocol-Version"] = LEGACY
            if self.session:
                headers["Mcp-Session-Id"] = self.session
            return headers
        headers["MCP-Protocol-Version"] = MODERN
        try:  # 2026-07-28 repeats the method (and a tool's name) in headers
            message = json.loads(raw)
        except (ValueError, RecursionError):
            return headers
        if isinstance(message, dict) and isinstance(message.get("method"), str) and "\x00" not in message["method"]:
            headers["Mcp-Method"] = message["method"][:200]
            params = message.get("params")
            if isinstance(params, dict) and isinstance(params.get("name"), str):
                headers["Mcp-Name"] = params["name"]
        return headers

    def post(self, raw: bytes, headers: dict[str, str] | None = None, timeout: float = WAIT_S) -> Reply:
        import http.client

        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request(
                "POST", "/mcp", body=raw, headers=headers if headers is not None else self.headers_for(raw)
            )
            response = connection.getresponse()
            return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
        finally:
            connection.close()

    def with_meta(self, message: dict[str, Any]) -> dict[str, Any]:
        return with_meta(self.era, message)

    def sentinel(self) -> dict[str, Any]:
        request_id = f"sentinel-{next(_counter)}"
        method = "ping" if self.era == "legacy" else "tools/list"
        raw = json.dumps(self.with_meta({"jsonrpc": "2.0", "id": request_id, "method": method})).encode()
        reply = self.post(raw)
        messages = reply.messages()
        assert reply.status == 200 and messages and "result" in messages[0], f"the server no longer serves: {reply}"
        return messages[0]

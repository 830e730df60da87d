"""A raw HTTP/1.1 load generator for MCP over streamable HTTP: asyncio sockets, keep-alive, no SDK.

Each client opens one connection. In the handshake era it sends ``initialize`` (and
``notifications/initialized``) once, keeping the session id if the server gives one, then
``tools/call`` back to back until the time is up. In the 2026-07-28 era there is no
handshake: every call carries its protocol envelope in ``params._meta`` and the
``MCP-Protocol-Version`` / ``Mcp-Method`` / ``Mcp-Name`` headers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import resource
import time
from dataclasses import dataclass, field
from typing import Any

HANDSHAKE = "2025-11-25"
MODERN = "2026-07-28"


class HttpError(RuntimeError):
    pass


@dataclass
class Connection:
    host: str
    port: int
    path: str
    headers: dict[str, str]
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def post(
        self, body: dict[str, Any], extra: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        assert self.reader is not None and self.writer is not None
        payload = json.dumps(body, separators=(",", ":")).encode()
        head = [
            f"POST {self.path} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            "Content-Type: application/json",
            "Accept: application/json, text/event-stream",
            f"Content-Length: {len(payload)}",
        ]
        head += [f"{k}: {v}" for k, v in {**self.headers, **(extra or {})}.items()]
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            data = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            data = await self._chunked()
        else:
            data = b""
        return status, headers, data

    async def _chunked(self) -> bytes:
        assert self.reader is not None
        parts = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")
                return b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()


def _json_reply(status: int, headers: dict[str, str], data: bytes) -> dict[str, Any]:
    if status != 200:
        raise HttpError(f"HTTP {status}: {data[:300]!r}")
    if headers.get("content-type", "").startswith("text/event-stream"):
        for line in data.decode().splitlines():  # the last data: line holds the response
            if line.startswith("data:") and '"id"' in line:
                return json.loads(line[5:])
        raise HttpError(f"no response in the event stream: {data[:300]!r}")
    return json.loads(data)


@dataclass
class Client:
    conn: Connection
    era: str
    tool: str
    arguments: dict[str, Any]
    session: dict[str, str] = field(default_factory=dict)
    next_id: int = 0

    async def start(self) -> None:
        await self.conn.open()
        if self.era != HANDSHAKE:
            return
        status, headers, data = await self.conn.post(
            {
                "jsonrpc": "2.0",
                "id": 0,
                "method": "initialize",
                "params": {
                    "protocolVersion": HANDSHAKE,
                    "capabilities": {},
                    "clientInfo": {"name": "bench", "version": "1"},
                },
            }
        )
        _json_reply(status, headers, data)
        if "mcp-session-id" in headers:
            self.session["Mcp-Session-Id"] = headers["mcp-session-id"]
        self.session["MCP-Protocol-Version"] = HANDSHAKE
        status, _, data = await self.conn.post({"jsonrpc": "2.0", "method": "notifications/initialized"}, self.session)
        if status not in (200, 202, 204):
            raise HttpError(f"initialized: HTTP {status}: {data[:200]!r}")

    async def call(self) -> str | None:
        """One tools/call; returns why it failed, or None."""
        self.next_id += 1
        params: dict[str, Any] = {"name": self.tool, "arguments": self.arguments}
        extra = dict(self.session)
        if self.era == MODERN:
            params["_meta"] = {
                "io.modelcontextprotocol/protocolVersion": MODERN,
                "io.modelcontextprotocol/clientCapabilities": {},
                "io.modelcontextprotocol/clientInfo": {"name": "bench", "version": "1"},
            }
            extra.update({"MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/call", "Mcp-Name": self.tool})
        body = {"jsonrpc": "2.0", "id": self.next_id, "method": "tools/call", "params": params}
        try:
            reply = _json_reply(*await self.conn.post(body, extra))
        except HttpError as exc:
            return str(exc)
        if "error" in reply:
            return f"JSON-RPC error {reply['error']}"
        if (reply.get("result") or {}).get("isError"):
            return "isError: " + json.dumps(reply["result"].get("content"))[:300]
        return None


@dataclass
class LoadResult:
    clients: int
    seconds: float
    calls: int
    errors: int
    first_error: str | None
    latencies: list[float]
    client_cpu_s: float

    @property
    def calls_per_s(self) -> float:
        return self.calls / self.seconds if self.seconds else 0.0


async def run_load(
    *,
    host: str,
    port: int,
    path: str,
    headers: dict[str, str],
    era: str,
    tool: str,
    arguments: dict[str, Any],
    clients: int,
    seconds: float,
    on_start: Any = None,
) -> LoadResult:
    """``clients`` concurrent clients calling for ``seconds``; ``on_start()`` runs once they are all
    connected (the caller takes its server CPU reading there)."""
    members = [Client(Connection(host, port, path, headers), era, tool, arguments) for _ in range(clients)]
    await asyncio.gather(*(c.start() for c in members))
    for c in members:  # one untimed call each: every connection warm
        if (problem := await c.call()) is not None:
            raise HttpError(f"first call failed: {problem}")
    latencies: list[float] = []
    errors = 0
    first_error: str | None = None
    if on_start is not None:
        on_start()
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    deadline = started + seconds

    async def loop(client: Client) -> None:
        nonlocal errors, first_error
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            problem = await client.call()
            latencies.append(time.perf_counter() - t0)
            if problem is not None:
                errors += 1
                first_error = first_error or problem

    await asyncio.gather(*(loop(c) for c in members))
    elapsed = time.perf_counter() - started
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    await asyncio.gather(*(c.conn.close() for c in members))
    return LoadResult(
        clients=clients,
        seconds=elapsed,
        calls=len(latencies),
        errors=errors,
        first_error=first_error,
        latencies=latencies,
        client_cpu_s=(cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime),
    )

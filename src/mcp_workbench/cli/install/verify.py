"""Start a written entry the way its client would and complete a handshake in both protocol
eras: the handshake era (``legacy``) and 2026-07-28 (``auto`` negotiates it).

The stdio server gets the entry's command, arguments and environment on top of the minimal
environment MCP clients pass (HOME, PATH, ...: the MCP SDK's default), so an entry that only
works because of the installing shell's variables fails here, not in the client.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from typing import TextIO

import anyio
from fastmcp import Client
from fastmcp.client.transports import StdioTransport, StreamableHttpTransport
from mcp.shared.exceptions import MCPError

from mcp_workbench.cli.install.entries import Launch, Remote, Target
from mcp_workbench.cli.install.parser import VERIFY_TIMEOUT_S as DEFAULT_TIMEOUT_S

ERAS = ("legacy", "auto")


@dataclass(frozen=True)
class Listed:
    """One tool or prompt as the server lists it (what a bundle manifest declares)."""

    name: str
    description: str
    arguments: tuple[str, ...] = ()


@dataclass(frozen=True)
class EraResult:
    era: str
    ok: bool
    tools: int | None = None
    protocol: str | None = None
    error: str | None = None
    tool_list: tuple[Listed, ...] = ()
    prompt_list: tuple[Listed, ...] = ()


async def handshake(target: Target, era: str, timeout_s: float) -> EraResult:
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as log:
        result = await _handshake(target, era, timeout_s, log)
        if not result.ok and isinstance(target, Launch):
            log.seek(0)
            tail = log.read()[-1500:].strip()
            if tail:
                return EraResult(era, False, error=f"{result.error}\nserver stderr:\n{tail}")
        return result


async def _handshake(target: Target, era: str, timeout_s: float, log: TextIO) -> EraResult:
    if isinstance(target, Launch):
        transport: StdioTransport | StreamableHttpTransport = StdioTransport(
            target.command, list(target.args), env=dict(target.env), keep_alive=False, log_file=log
        )
    else:
        transport = StreamableHttpTransport(target.url, headers=dict(target.headers))
    try:
        with anyio.fail_after(timeout_s):
            async with Client(transport, mode=era) as client:
                tools = await client.list_tools()
                try:
                    prompts = await client.list_prompts()
                except MCPError:  # a server without prompts (its data tools switched off)
                    prompts = []
                protocol = getattr(client, "protocol_version", None)
    except TimeoutError:
        return EraResult(era, False, error=f"no handshake within {timeout_s:g} s")
    except Exception as exc:  # noqa: BLE001 - any failure to connect is the finding we report
        return EraResult(era, False, error=f"{type(exc).__name__}: {exc}".strip())
    return EraResult(
        era,
        True,
        len(tools),
        str(protocol) if protocol else None,
        tool_list=tuple(Listed(t.name, t.description or "") for t in tools),
        prompt_list=tuple(
            Listed(p.name, p.description or "", tuple(a.name for a in p.arguments or ())) for p in prompts
        ),
    )


async def check(target: Target, timeout_s: float = DEFAULT_TIMEOUT_S) -> list[EraResult]:
    return [await handshake(target, era, timeout_s) for era in ERAS]


def check_sync(target: Target, timeout_s: float = DEFAULT_TIMEOUT_S) -> list[EraResult]:
    return anyio.run(check, target, timeout_s)


__all__ = ["ERAS", "EraResult", "Launch", "Listed", "Remote", "check", "check_sync", "handshake"]

"""Start this installation's server on stdio as a client would, in both protocol eras, and
read every byte it writes to stdout.

The handshake era is driven by hand (initialize, initialized, tools/list, then stdin closes
and stdout is read to its end) so that a line that is not a JSON-RPC message cannot hide:
clients drop such lines, or stop. The 2026-07-28 era goes through the same check ``install``
runs after writing an entry (:mod:`mcp_workbench.cli.install.verify`). Two server starts in all.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from typing import Any

import anyio
from anyio.abc import Process
from mcp.client.stdio import get_default_environment

from mcp_workbench import __version__
from mcp_workbench.cli.doctor.context import Context
from mcp_workbench.cli.doctor.report import Finding, fail, ok, skip, warn
from mcp_workbench.cli.install import clients
from mcp_workbench.cli.install.entries import Launch
from mcp_workbench.cli.install.verify import EraResult, handshake

HANDSHAKE_PROTOCOL = "2025-11-25"
_SHOWN = 120  # characters of a stray stdout line a finding repeats


@dataclass(frozen=True)
class Probe:
    eras: tuple[EraResult, ...]
    stray: tuple[str, ...]  # stdout lines that are not JSON-RPC messages

    @property
    def tool_counts(self) -> list[int]:
        return [r.tools for r in self.eras if r.ok and r.tools is not None]


def _is_message(line: str) -> tuple[bool, dict[str, Any] | None]:
    try:
        message = json.loads(line)
    except ValueError:
        return False, None
    if isinstance(message, dict) and message.get("jsonrpc") == "2.0":
        return True, message
    return False, None


def _requests() -> bytes:
    messages = [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": HANDSHAKE_PROTOCOL,
                "capabilities": {},
                "clientInfo": {"name": "mcp-workbench-doctor", "version": __version__},
            },
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
    ]
    return b"".join(json.dumps(m).encode() + b"\n" for m in messages)


async def _read_lines(process: Process, lines: list[str], answered: anyio.Event, finished: anyio.Event) -> None:
    assert process.stdout is not None
    buffer = b""
    async for chunk in process.stdout:
        buffer += chunk
        *complete, buffer = buffer.split(b"\n")
        for raw in complete:
            line = raw.decode("utf-8", errors="replace").removesuffix("\r")
            lines.append(line)
            good, message = _is_message(line)
            if good and message and message.get("id") == 2:
                answered.set()
    if buffer:
        lines.append(buffer.decode("utf-8", errors="replace"))
    answered.set()  # stdout closed: nothing more will come
    finished.set()


async def raw_handshake(launch: Launch, timeout_s: float) -> tuple[EraResult, tuple[str, ...]]:
    """The handshake era by hand; returns the result and the stdout lines that are not protocol."""
    lines: list[str] = []
    with tempfile.TemporaryFile() as stderr:
        try:
            process = await anyio.open_process(
                [launch.command, *launch.args],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                env={**get_default_environment(), **launch.env},
                start_new_session=os.name != "nt",  # its own process group: a launcher's child goes with it
            )
        except OSError as exc:
            return EraResult("legacy", False, error=f"cannot start {launch.command}: {exc.strerror or exc}"), ()
        answered, finished = anyio.Event(), anyio.Event()
        timed_out = False
        async with process, anyio.create_task_group() as tasks:
            tasks.start_soon(_read_lines, process, lines, answered, finished)
            assert process.stdin is not None
            try:
                await process.stdin.send(_requests())
                with anyio.fail_after(timeout_s):
                    await answered.wait()
                await process.stdin.aclose()  # a stdio server ends when its stdin does
                with anyio.fail_after(timeout_s):
                    await process.wait()
            except TimeoutError:
                timed_out = True
                _kill(process)
            except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
                pass  # it exited early; what it wrote says why
            with anyio.move_on_after(timeout_s):
                await finished.wait()  # what it wrote before exiting is read too
            tasks.cancel_scope.cancel()  # a child that outlived its launcher may still hold stdout open
        stderr.seek(0)
        tail = stderr.read().decode("utf-8", errors="replace")[-1500:].strip()
    return _judge(lines, timed_out, timeout_s, tail)


def _kill(process: Process) -> None:
    with contextlib.suppress(OSError):
        if os.name == "nt":
            process.kill()
        else:
            os.killpg(process.pid, signal.SIGKILL)


def _judge(lines: list[str], timed_out: bool, timeout_s: float, tail: str) -> tuple[EraResult, tuple[str, ...]]:
    stray = tuple(line for line in lines if not _is_message(line)[0])
    answers = {m.get("id"): m for m in (_is_message(line)[1] for line in lines) if m is not None}
    init, listing = answers.get(1, {}), answers.get(2, {})
    problem = None
    if "result" not in init:
        problem = f"no answer to initialize ({init.get('error') or ('timed out' if timed_out else 'it exited')})"
    elif "result" not in listing:
        problem = f"no answer to tools/list ({listing.get('error') or ('timed out' if timed_out else 'it exited')})"
    elif timed_out:
        problem = f"it did not exit within {timeout_s:g} s of its stdin closing"
    if problem:
        return EraResult("legacy", False, error=problem + (f"\nserver stderr:\n{tail}" if tail else "")), stray
    tools = listing["result"].get("tools") or []
    return EraResult("legacy", True, len(tools), init["result"].get("protocolVersion")), stray


async def probe(ctx: Context) -> Probe:
    """Both eras, once per doctor run (``stdio`` and ``tool-budget`` read the same result)."""
    if "stdio" not in ctx.cache:
        launch = ctx.server_launch()
        legacy, stray = await raw_handshake(launch, ctx.timeout_s)
        modern = await handshake(launch, "auto", ctx.timeout_s)
        ctx.cache["stdio"] = Probe((legacy, modern), stray)
    result: Probe = ctx.cache["stdio"]
    return result


ERA_NAMES = {"legacy": "handshake era", "auto": "2026-07-28"}


async def stdio(ctx: Context) -> list[Finding]:
    if ctx.settings is None:
        return [skip("stdio", "the configuration does not load (see the config check)")]
    result = await probe(ctx)
    command = " ".join([ctx.server_launch().command, *ctx.server_launch().args])
    found = []
    for era in result.eras:
        name = ERA_NAMES[era.era]
        if era.ok:
            found.append(ok("stdio", f"protocol {era.protocol}, {era.tools} tools", subject=name))
        else:
            found.append(
                fail(
                    "stdio",
                    f"no handshake: {era.error}",
                    f"run `{command}` and read its stderr",
                    subject=name,
                    details={"command": command},
                )
            )
    if result.stray:
        shown = "; ".join(repr(line[:_SHOWN]) for line in result.stray[:3])
        found.append(
            fail(
                "stdio",
                f"{len(result.stray)} line(s) on stdout are not protocol: {shown}",
                "something in this installation prints to stdout (a sitecustomize or .pth hook, a plugin, a print): "
                "remove it; stdout belongs to the MCP messages",
                subject="stdout",
                details={"stray": list(result.stray[:20])},
            )
        )
    elif any(era.ok for era in result.eras):
        found.append(ok("stdio", "nothing but protocol messages", subject="stdout"))
    return found


def _budgets() -> dict[int, list[str]]:
    budgets: dict[int, list[str]] = {}
    for client in clients.CLIENTS.values():
        if client.tool_budget:
            budgets.setdefault(client.tool_budget, []).append(client.title)
    return dict(sorted(budgets.items()))


async def tool_budget(ctx: Context) -> list[Finding]:
    if ctx.settings is None:
        return [skip("tool-budget", "the configuration does not load (see the config check)")]
    counts = (await probe(ctx)).tool_counts
    if not counts:
        return [skip("tool-budget", "no handshake, so no tool count (see the stdio check)")]
    tools = max(counts)
    budgets = _budgets()
    listed = ", ".join(f"{' / '.join(names)} {budget}" for budget, names in budgets.items())
    over = [name for budget, names in budgets.items() if tools > budget for name in names]
    details = {"tools": tools, "budgets": {str(b): n for b, n in budgets.items()}}
    if over:
        return [
            warn(
                "tool-budget",
                f"{tools} tools: over the budget of {', '.join(over)} (budgets: {listed})",
                'switch tool groups off to fit, e.g. tools = ["data", "web"] in the config file',
                details=details,
            )
        ]
    return [ok("tool-budget", f"{tools} tools, within every client's budget ({listed})", details=details)]

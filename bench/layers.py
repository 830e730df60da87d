"""The production layer's cost per call, layer by layer, measured in one process without a transport.

    python -m bench.layers CONFIG [ROUNDS] [CALLS]      # prints JSON

Every variant is a server built by ``build_server`` in this process (the full one, one with
each part of its production layer left out, one without the layer, one with the log line
filtered out) plus
the bare FastMCP echo with and without four pass-through middleware. ``FastMCP.call_tool`` runs
the same middleware chain and tool as a tools/call over a transport, minus the JSON-RPC and
transport work, so the differences between variants are what each layer costs. Variants take
turns round by round; CPU time is ``time.process_time()``, so other load on the machine
matters little. The log line goes to stderr like in the real server (run it with stderr
to /dev/null).
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastmcp import FastMCP

from bench.servers import echo_fastmcp
from mcp_workbench.platform.call_middleware import ToolCallMiddleware
from mcp_workbench.platform.logging import configure_logging
from mcp_workbench.server import build_server
from mcp_workbench.settings import load_settings

# The parts of the production layer (attributes of ToolCallMiddleware) and what they do.
PARTS = {
    "metrics": "metrics",
    "scopes": "scope check",
    "limiter": "rate limit",
    "budgets": "time budget",
}


def without(server: FastMCP, *parts: str) -> FastMCP:
    """``server`` with the named parts of its production layer left out ("layer": all of it)."""
    if "layer" in parts:
        server.middleware[:] = [m for m in server.middleware if not isinstance(m, ToolCallMiddleware)]
    for layer in server.middleware:
        if isinstance(layer, ToolCallMiddleware):
            for part in parts:
                setattr(layer, part, None)
    return server


TRIVIAL = ("data_read", {"operation": "sources"})
ECHO = ("echo", {"text": "hello"})


def variants(config: Path) -> dict[str, tuple[FastMCP, tuple[str, dict[str, Any]], Callable[[], None]]]:
    settings = load_settings(config)
    configure_logging(settings.log_level)
    root = logging.getLogger()
    loud = lambda: root.setLevel(logging.INFO)  # noqa: E731
    out: dict[str, tuple[FastMCP, tuple[str, dict[str, Any]], Callable[[], None]]] = {}
    out["workbench (whole production layer)"] = (build_server(settings), TRIVIAL, loud)
    out["workbench, log line filtered out (WARNING)"] = (
        build_server(settings),
        TRIVIAL,
        lambda: root.setLevel(logging.WARNING),
    )
    for part, what in PARTS.items():
        out[f"workbench without its {what}"] = (without(build_server(settings), part), TRIVIAL, loud)
    out["workbench without its production layer"] = (without(build_server(settings), "layer"), TRIVIAL, loud)
    out["bare FastMCP echo"] = (echo_fastmcp.mcp, ECHO, loud)
    with_noop = FastMCP("echo", middleware=[echo_fastmcp.NoOp() for _ in range(4)])
    with_noop.tool(echo_fastmcp.echo)
    out["bare FastMCP echo + 4 pass-through middleware"] = (with_noop, ECHO, loud)
    return out


async def measure(rounds: int, calls: int, config: Path) -> dict[str, list[float]]:
    table = variants(config)
    gc.collect()
    gc.freeze()
    results: dict[str, list[float]] = {name: [] for name in table}
    for server, (tool, args), _ in table.values():  # warm every path
        for _ in range(200):
            await server.call_tool(tool, args)
    for _ in range(rounds):
        for name, (server, (tool, args), prepare) in table.items():
            prepare()
            started = time.process_time()
            for _ in range(calls):
                await server.call_tool(tool, args)
            results[name].append((time.process_time() - started) / calls * 1e6)
    logging.getLogger().setLevel(logging.INFO)
    return results


def main() -> None:
    config = Path(sys.argv[1])
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    calls = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
    print(json.dumps(asyncio.run(measure(rounds, calls, config))))  # noqa: T201 - the result is the output


if __name__ == "__main__":
    main()

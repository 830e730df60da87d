"""The production layer's cost per call, layer by layer, measured in one process without a transport.

    python -m bench.layers CONFIG [ROUNDS] [CALLS]      # prints JSON

Every variant is a server built by ``build_server`` in this process (the full one, one with
each of its four middleware removed, one with none, one with the log line filtered out) plus
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
from mcp_workbench.platform.auth import ScopeMiddleware
from mcp_workbench.platform.calls import ToolCallMiddleware
from mcp_workbench.platform.limits import RateLimitMiddleware
from mcp_workbench.platform.logging import configure_logging
from mcp_workbench.platform.timeouts import TimeoutMiddleware
from mcp_workbench.server import build_server
from mcp_workbench.settings import load_settings

LAYERS = {
    "ToolCallMiddleware": ToolCallMiddleware,
    "ScopeMiddleware": ScopeMiddleware,
    "RateLimitMiddleware": RateLimitMiddleware,
    "TimeoutMiddleware": TimeoutMiddleware,
}
TRIVIAL = ("data_read", {"operation": "sources"})
ECHO = ("echo", {"text": "hello"})


def variants(config: Path) -> dict[str, tuple[FastMCP, tuple[str, dict[str, Any]], Callable[[], None]]]:
    settings = load_settings(config)
    configure_logging(settings.log_level)
    root = logging.getLogger()
    loud = lambda: root.setLevel(logging.INFO)  # noqa: E731
    out: dict[str, tuple[FastMCP, tuple[str, dict[str, Any]], Callable[[], None]]] = {}
    out["workbench (all four middleware)"] = (build_server(settings), TRIVIAL, loud)
    out["workbench, log line filtered out (WARNING)"] = (
        build_server(settings),
        TRIVIAL,
        lambda: root.setLevel(logging.WARNING),
    )
    for name, layer in LAYERS.items():
        server = build_server(settings)
        server.middleware[:] = [m for m in server.middleware if not isinstance(m, layer)]
        out[f"workbench without {name}"] = (server, TRIVIAL, loud)
    bare = build_server(settings)
    bare.middleware[:] = [m for m in bare.middleware if not isinstance(m, tuple(LAYERS.values()))]
    out["workbench without its four middleware"] = (bare, TRIVIAL, loud)
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

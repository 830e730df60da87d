"""mcp-workbench with parts of its production layer taken out or changed: the ablation study.

    python -m bench.servers.workbench_variant --config FILE [--drop metrics,scopes,limiter,budgets|layer]
                                              [--log-level WARNING] [--http PORT]

The server is built exactly as ``serve`` builds it (``build_server(settings)``, then
``gc.freeze()``); the named parts of its production layer are then left out (``layer``: the
whole layer, see :func:`bench.layers.without`). The difference in
server CPU per call between the full server and a variant is what the removed part costs.

Nothing here is a way to run the product: it exists only to measure it.
"""

from __future__ import annotations

import argparse
import gc
import signal
from pathlib import Path
from typing import Any

import anyio
import uvicorn

from bench.layers import without
from mcp_workbench.asgi import http_app
from mcp_workbench.cli import serve
from mcp_workbench.platform.logging import configure_logging
from mcp_workbench.server import build_server
from mcp_workbench.settings import load_settings

PARTS = ("metrics", "scopes", "limiter", "budgets", "layer")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--drop", default="", help=f"comma-separated: {', '.join(PARTS)}")
    parser.add_argument("--log-level", default=None)
    parser.add_argument("--http", type=int, metavar="PORT", help="serve HTTP (one process, stateful) on PORT")
    args = parser.parse_args()
    dropped = [name for name in args.drop.split(",") if name]
    unknown = set(dropped) - set(PARTS)
    if unknown:
        parser.error(f"unknown parts: {', '.join(sorted(unknown))}")
    overrides: dict[str, Any] = {"log_level": args.log_level}
    if args.http is not None:
        overrides.update(transport="http", http={"port": args.http})
    settings = load_settings(args.config, **overrides)
    configure_logging(settings.log_level)
    if args.http is None:
        mcp = build_server(settings)
        without(mcp, *dropped)
        gc.freeze()
        anyio.run(lambda: mcp.run_async(transport="stdio", show_banner=False))
        return
    from mcp_workbench import asgi

    built: list[Any] = []
    original = asgi.build_server

    def build_and_keep(s: Any) -> Any:
        server = original(s)
        without(server, *dropped)
        built.append(server)
        return server

    asgi.build_server = build_and_keep
    app = http_app(settings, stateless=settings.http.stateless)
    gc.freeze()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)
    uvicorn.Server(uvicorn.Config(app, **serve._uvicorn_options(settings))).run()


if __name__ == "__main__":
    main()

"""The framework floor: a bare FastMCP 4 server with one async echo tool, as its docs write it.

    python bench/servers/echo_fastmcp.py [--noop-middleware N]         # stdio
    python bench/servers/echo_fastmcp.py --http PORT [--stateless] [--workers N [--nodelay | --reuseport]]

Over HTTP it answers with plain JSON (``json_response=True``) like mcp-workbench does, so the
two are compared on the same wire format. No middleware, no auth, no gc.freeze().

``--nodelay`` and ``--reuseport`` (with ``--workers``) are the two fixes for uvicorn's worker
mode that ``mcp-workbench serve --workers N`` has built in; see :mod:`bench.servers.nodelay`.
"""

from __future__ import annotations

import argparse
import os

from fastmcp import FastMCP
from fastmcp.server.middleware import CallNext, Middleware, MiddlewareContext


class NoOp(Middleware):
    """A middleware that does nothing but pass the call on: the framework's cost of one layer."""

    async def on_call_tool(self, context: MiddlewareContext, call_next: CallNext):  # type: ignore[type-arg]
        return await call_next(context)


mcp = FastMCP("echo")


@mcp.tool
async def echo(text: str) -> str:
    """Return the text it is given."""
    return text


def create_app():  # uvicorn factory for --workers (each worker builds its own app)
    return mcp.http_app(path="/mcp", json_response=True, stateless_http=os.environ.get("ECHO_STATELESS") == "1")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--http", type=int, metavar="PORT")
    parser.add_argument("--stateless", action="store_true")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--nodelay", action="store_true")
    parser.add_argument("--reuseport", action="store_true", help="one SO_REUSEPORT socket per worker (+ nodelay)")
    parser.add_argument("--noop-middleware", type=int, default=0, metavar="N", help="add N pass-through middleware")
    args = parser.parse_args()
    for _ in range(args.noop_middleware):
        mcp.add_middleware(NoOp())
    if args.http is None:
        mcp.run(transport="stdio", show_banner=False)
        return
    import uvicorn

    os.environ["ECHO_STATELESS"] = "1" if args.stateless or args.workers > 1 else "0"
    if args.workers > 1 and args.reuseport:
        from bench.servers.nodelay import run_reuseport_workers

        run_reuseport_workers(
            "bench.servers.echo_fastmcp:create_app",
            args.workers,
            factory=True,
            host="127.0.0.1",
            port=args.http,
            log_level="warning",
        )
    elif args.workers > 1 and args.nodelay:
        from bench.servers.nodelay import run_workers

        run_workers(
            "bench.servers.echo_fastmcp:create_app",
            factory=True,
            host="127.0.0.1",
            port=args.http,
            workers=args.workers,
            log_level="warning",
        )
    elif args.workers > 1:
        uvicorn.run(
            "bench.servers.echo_fastmcp:create_app",
            factory=True,
            host="127.0.0.1",
            port=args.http,
            workers=args.workers,
            log_level="warning",
        )
    else:
        uvicorn.run(create_app(), host="127.0.0.1", port=args.http, log_level="warning")


if __name__ == "__main__":
    main()

"""Running the server on the configured transport.

HTTP runs uvicorn with a graceful shutdown: on SIGTERM/SIGINT it stops accepting, lets
in-flight calls finish for ``http.shutdown_grace_s``, then cancels the rest (their
transactions roll back), closes the pools in the lifespan, and exits 0. With ``--workers N``
a supervisor runs N such processes on the same port (:mod:`mcp_workbench.cli.workers`). On
stdio the client owns the process: closing stdin ends it; SIGTERM cancels in-flight calls
the same way.

TCP_NODELAY: the single process listens through asyncio's ``create_server``, whose sockets
are ``IPPROTO_TCP``, so asyncio sets TCP_NODELAY on every accepted connection; the workers'
sockets set it themselves.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from typing import Any

import anyio
import uvicorn

from mcp_workbench.asgi import http_app
from mcp_workbench.cli.workers import serve_workers
from mcp_workbench.platform.connections import ConnectionLimits, guarded_protocol
from mcp_workbench.platform.logging import configure_logging
from mcp_workbench.server import build_server
from mcp_workbench.settings import Settings
from mcp_workbench.startup import start

log = logging.getLogger("mcp_workbench.serve")
STDIO_EXIT_GRACE_S = 2.0


def serve(settings: Settings) -> int:
    configure_logging(settings.log_level)
    log.info(
        "starting",
        extra={
            "transport": settings.transport,
            "data_dir": str(settings.data_dir),
            "sources": list(settings.sources()),
            "auth": settings.http.auth if settings.transport == "http" else "local",
        },
    )
    code = 0
    if settings.transport == "stdio":
        _serve_stdio(settings)
    elif settings.http.workers > 1:
        code = serve_workers(settings, _uvicorn_options(settings))
    else:
        _serve_http(settings)
    log.info("stopped", extra={"exit_code": code})
    return code


def _serve_stdio(settings: Settings) -> None:
    mcp = start(settings, build_server)
    if sys.stdin.isatty():  # started by hand: say why nothing happens
        log.info(
            "waiting for an MCP client on stdin: add this command to a client's config, or try it with "
            "`npx @modelcontextprotocol/inspector mcp-workbench serve`; Ctrl+C stops"
        )

    signalled = False

    async def run() -> None:
        async with anyio.create_task_group() as tasks:

            async def on_signal() -> None:
                nonlocal signalled
                with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
                    async for _ in signals:
                        log.info("signal received; cancelling in-flight calls")
                        signalled = True
                        tasks.cancel_scope.cancel()
                        # The stdio reader blocks in a thread that cancellation cannot reach;
                        # once the calls have unwound, leave without waiting for stdin.
                        threading.Timer(STDIO_EXIT_GRACE_S, _exit_now).start()

            tasks.start_soon(on_signal)
            await mcp.run_async(transport="stdio", show_banner=False)
            tasks.cancel_scope.cancel()
        if signalled:
            _exit_now()

    anyio.run(run)


def _exit_now() -> None:
    log.info("stopped")
    logging.shutdown()
    os._exit(0)


def _uvicorn_options(settings: Settings) -> dict[str, Any]:
    return {
        "host": settings.http.host,
        "port": settings.http.port,
        # uvicorn's default log config prints to stdout; ours sends JSON to stderr.
        "log_config": None,
        "timeout_graceful_shutdown": settings.http.shutdown_grace_s,
        "lifespan": "on",
        # h11 with read deadlines and a per-address cap (slow clients); picklable for the workers.
        "http": guarded_protocol(
            ConnectionLimits(
                header_timeout_s=settings.http.header_timeout_s,
                body_timeout_s=settings.http.body_timeout_s,
                max_per_address=settings.http.max_connections_per_address,
            )
        ),
    }


def _serve_http(settings: Settings) -> None:
    app = start(settings, lambda settings: http_app(settings, stateless=settings.http.stateless))
    # uvicorn re-raises the stop signal after its graceful shutdown so that the default
    # handler kills the process; with these handlers in place it returns and we exit 0.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _note_signal)
    uvicorn.Server(uvicorn.Config(app, **_uvicorn_options(settings))).run()


def _note_signal(signum: int, _frame: object) -> None:
    log.info("shut down on signal", extra={"signal": signal.Signals(signum).name})

"""Running the server on the configured transport."""

from __future__ import annotations

import gc
import logging

import anyio

from mcp_workbench.platform.logging import configure_logging
from mcp_workbench.server import build_server
from mcp_workbench.settings import Settings

log = logging.getLogger("mcp_workbench.serve")


def serve(settings: Settings) -> int:
    configure_logging(settings.log_level)
    mcp = build_server(settings)
    # Objects built at start-up live for the whole process; keeping them out of the
    # collector's generations removes the long full-collection pauses from the call tail.
    gc.collect()
    gc.freeze()
    log.info(
        "starting",
        extra={
            "transport": settings.transport,
            "data_dir": str(settings.data_dir),
            "sources": list(settings.sources()),
        },
    )
    try:
        if settings.transport == "stdio":
            anyio.run(lambda: mcp.run_async(transport="stdio", show_banner=False))
        else:
            http = settings.http
            anyio.run(
                lambda: mcp.run_http_async(
                    show_banner=False,
                    host=http.host,
                    port=http.port,
                    path=http.path,
                    json_response=http.json_response,
                    host_origin_protection=http.host_origin_protection,
                    allowed_hosts=http.allowed_hosts or None,
                    allowed_origins=http.allowed_origins or None,
                    log_level=settings.log_level.lower(),
                    # uvicorn's default log config prints to stdout; ours sends JSON to stderr.
                    uvicorn_config={"log_config": None},
                )
            )
    except KeyboardInterrupt:
        pass
    log.info("stopped")
    return 0

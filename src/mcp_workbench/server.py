"""Composition root: ``build_server(settings)`` assembles the MCP server.

It installs each capability from the settings (a capability registers its own MCP
components), orders the middleware, and closes every capability's resources when the
server's lifespan ends. Nothing else lives here.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastmcp import FastMCP

from mcp_workbench import SERVER_NAME, __version__
from mcp_workbench.capability import Capability, Installer
from mcp_workbench.data import server as data_server
from mcp_workbench.files import server as files_server
from mcp_workbench.platform.calls import ToolCallMiddleware
from mcp_workbench.settings import Settings
from mcp_workbench.web import server as web_server

log = logging.getLogger("mcp_workbench.server")

INSTRUCTIONS = """mcp-workbench gives an agent safe tools over SQL databases, files and the web.
Tools come in read/write pairs: the *_read tools never change anything.
Failed calls return a JSON error with error_code and recovery_steps: follow the steps."""

INSTALLERS: dict[str, Installer] = {
    "data": data_server.install,
    "files": files_server.install,
    "web": web_server.install,
}


def build_server(settings: Settings) -> FastMCP:
    capabilities: list[Capability] = []

    @asynccontextmanager
    async def lifespan(_server: FastMCP) -> AsyncIterator[dict[str, Any]]:
        try:
            yield {}
        finally:
            for capability in reversed(capabilities):
                try:
                    await capability.aclose()
                except Exception:
                    log.exception("closing a capability failed", extra={"capability": capability.name})

    mcp = FastMCP(
        SERVER_NAME,
        instructions=INSTRUCTIONS,
        version=__version__,
        lifespan=lifespan,
        middleware=[ToolCallMiddleware()],
        mask_error_details=True,
        on_duplicate="error",
    )
    for group, install in INSTALLERS.items():
        if settings.enabled(group) and (capability := install(mcp, settings)) is not None:
            capabilities.append(capability)
    return mcp

"""Composition root: ``build_server(settings)`` assembles the MCP server.

It creates each capability's service from the settings, registers the capability's MCP
components, orders the middleware, and ties the services' resources to the lifespan so
pools close when the server stops. Nothing else lives here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastmcp import FastMCP

from mcp_workbench import SERVER_NAME, __version__
from mcp_workbench.data.server import register_data
from mcp_workbench.data.service import DataService
from mcp_workbench.platform.calls import ToolCallMiddleware
from mcp_workbench.settings import Settings

INSTRUCTIONS = """mcp-workbench gives safe access to SQL databases.
Use data_read to look (sources, tables, describe, select, count, search, sql) and data_write to change data.
Failed calls return a JSON error with error_code and recovery_steps: follow the steps."""


def build_server(settings: Settings) -> FastMCP:
    data = DataService(settings)

    @asynccontextmanager
    async def lifespan(_server: FastMCP) -> AsyncIterator[dict[str, Any]]:
        try:
            yield {}
        finally:
            await data.aclose()

    mcp = FastMCP(
        SERVER_NAME,
        instructions=INSTRUCTIONS,
        version=__version__,
        lifespan=lifespan,
        middleware=[ToolCallMiddleware()],
        mask_error_details=True,
        on_duplicate="error",
    )
    register_data(mcp, data)
    return mcp

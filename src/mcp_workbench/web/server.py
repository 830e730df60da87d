"""The web capability on MCP."""

from __future__ import annotations

from fastmcp import FastMCP

from mcp_workbench.capability import Capability
from mcp_workbench.settings import Settings


def install(mcp: FastMCP, settings: Settings) -> Capability | None:
    return None

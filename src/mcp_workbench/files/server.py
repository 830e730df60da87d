"""The files capability on MCP (registered only when roots are configured)."""

from __future__ import annotations

import logging

from fastmcp import FastMCP

from mcp_workbench.capability import Capability
from mcp_workbench.settings import Settings

log = logging.getLogger("mcp_workbench.files")


def install(mcp: FastMCP, settings: Settings) -> Capability | None:
    if not settings.files.roots:
        log.info("file tools off: no roots configured (add --root PATH or [files.roots.NAME] path = ...)")
        return None
    return None

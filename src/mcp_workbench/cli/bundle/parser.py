"""The ``bundle`` argument parser (no heavy imports: every ``mcp-workbench`` start builds it)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    bundle = commands.add_parser(
        "bundle",
        help="build an MCP Bundle (.mcpb) for Claude Desktop",
        description="Builds a .mcpb of the uv server type from this source tree: open it with Claude Desktop "
        "(double-click it, or Settings > Extensions) to install the server with a folder picker.",
    )
    bundle.add_argument("-o", "--output", type=Path, help="the .mcpb to write (default: ./mcp-workbench-VERSION.mcpb)")

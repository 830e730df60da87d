"""mcp-workbench: a production MCP server with safe tools over SQL databases, files and the web."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mcp-workbench")
except PackageNotFoundError:  # running from a source tree without metadata
    __version__ = "0.0.0"

SERVER_NAME = "mcp-workbench"

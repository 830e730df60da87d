"""The web capability on MCP: the ``web_fetch`` tool.

Thin by design: the tool's schema and annotations live here; the work is in
:class:`~mcp_workbench.web.service.WebService`.
"""

from __future__ import annotations

from fastmcp import FastMCP
from mcp_types import ToolAnnotations

from mcp_workbench.platform.tools import ModelTool
from mcp_workbench.settings import Settings
from mcp_workbench.web.models import FetchArgs
from mcp_workbench.web.service import WebService

FETCH_DESCRIPTION = """Fetch a web page or HTTP API (http/https) as Markdown (default: the page's main content,
without navigation or ads), plain text, the raw body, or pretty-printed JSON. Never changes anything.
Long content comes in pages of max_length characters. When more remains, the answer ends with the
start_index of the next page (also next_start_index in the structured result): call again with the
same url and format and that start_index to read on.
Private, loopback and cloud-metadata addresses are refused, robots.txt is honoured, and responses are
cached as their HTTP headers allow."""


def web_fetch_tool(service: WebService) -> ModelTool:
    return ModelTool.build(
        name="web_fetch",
        title="Fetch a web page",
        description=FETCH_DESCRIPTION,
        model=FetchArgs,
        handler=service.fetch,
        annotations=ToolAnnotations(readOnlyHint=True, destructiveHint=False, idempotentHint=True, openWorldHint=True),
    )


def install(mcp: FastMCP, settings: Settings) -> WebService:
    service = WebService(settings.web)
    mcp.add_tool(web_fetch_tool(service))
    return service

"""The web capability on MCP: the ``web_fetch`` tool.

Thin by design: the tool's schema and annotations live here; the work is in
:class:`~mcp_workbench.web.service.WebService`, which the first fetch builds.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from fastmcp import FastMCP
from mcp_types import ToolAnnotations

from mcp_workbench.capability import Lazy, ServiceCapability, Services
from mcp_workbench.platform.metrics import Sample
from mcp_workbench.platform.tools import ModelTool
from mcp_workbench.scopes import WEB
from mcp_workbench.web.models import FetchArgs
from mcp_workbench.web.port import WebReader
from mcp_workbench.web.settings import WebSettings

if TYPE_CHECKING:
    from mcp_workbench.web.service import WebService

FETCH_DESCRIPTION = """Fetch a web page or HTTP API (http/https) as Markdown (default: the page's main content,
without navigation or ads), plain text, the raw body, or pretty-printed JSON. Never changes anything.
Long content comes in pages of max_length characters. When more remains, the answer ends with the
start_index of the next page (also next_start_index in the structured result): call again with the
same url and format and that start_index to read on.
Private, loopback and cloud-metadata addresses are refused, robots.txt is honoured, and responses are
cached as their HTTP headers allow."""


def web_fetch_tool(service: Lazy[WebService]) -> ModelTool:
    return ModelTool.build(
        name="web_fetch",
        title="Fetch a web page",
        description=FETCH_DESCRIPTION,
        model=FetchArgs,
        handler=lambda args: service.get().fetch(args),
        annotations=ToolAnnotations(readOnlyHint=True, destructiveHint=False, idempotentHint=True, openWorldHint=True),
        scope=WEB,
    )


class WebCapability(ServiceCapability["WebService"]):
    """The web capability as the composition root sees it; its :class:`WebService` (the
    fetcher, the converters) is built by the first fetch."""

    name = "web"

    def __init__(self, settings: WebSettings) -> None:
        super().__init__(lambda: _open(settings))

    def service_samples(self, service: WebService) -> Iterable[Sample]:
        return service.samples()

    def idle_samples(self) -> Iterator[Sample]:
        for outcome in ("hit", "miss"):  # nothing fetched yet
            yield Sample("web_cache_requests", "web_fetch answers by HTTP cache outcome.", 0,
                         {"outcome": outcome}, kind="counter")  # fmt: skip


def _open(settings: WebSettings) -> WebService:
    from mcp_workbench.web.service import WebService

    return WebService(settings)


def _reader(capability: WebCapability) -> WebReader:
    from mcp_workbench.web.service import PageReader

    return PageReader(capability.service.get())


def install(mcp: FastMCP, settings: WebSettings, services: Services) -> WebCapability:
    capability = WebCapability(settings)
    mcp.add_tool(web_fetch_tool(capability.service))
    services.offer(WebReader, Lazy(lambda: _reader(capability)), scope=WEB, what="fetching web pages")
    return capability

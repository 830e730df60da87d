"""The web capability on MCP: the ``web_fetch`` tool.

Thin by design: the tool's schema and annotations live here; the work is in
:class:`~mcp_workbench.web.service.WebService`, which the first fetch builds.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from fastmcp import FastMCP
from mcp_types import ToolAnnotations

from mcp_workbench.capability import Lazy, ServiceCapability, Services
from mcp_workbench.platform.call_middleware import current_call
from mcp_workbench.platform.metrics import Sample
from mcp_workbench.platform.tool_adapters import Answer, ModelTool
from mcp_workbench.scopes import WEB
from mcp_workbench.web.models import FetchArgs
from mcp_workbench.web.port import WebClient, WebReader
from mcp_workbench.web.settings import WebSettings

if TYPE_CHECKING:
    from mcp_workbench.web.convert import TextPage
    from mcp_workbench.web.fetch import Fetched
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
        handler=lambda args: fetch_answer(service.get(), args),
        annotations=ToolAnnotations(readOnlyHint=True, destructiveHint=False, idempotentHint=True, openWorldHint=True),
        scope=WEB,
    )


async def fetch_answer(service: WebService, args: FetchArgs) -> Answer:
    """The fetched page as the tool answers: the content with how to read on, and its facts."""
    fetched, page = await service.page(args.url, args.format, args.start_index, args.max_length)
    record = current_call()
    if record is not None:
        record.extra.update({"host": _host(fetched.final_url), "from_cache": fetched.from_cache})
    truncated = page.next_start is not None or fetched.truncated
    data: dict[str, Any] = {
        "url": args.url,
        "final_url": fetched.final_url,
        "status": fetched.status,
        "content_type": fetched.content_type.raw or None,
        "format": args.format,
        "start_index": page.start,
        "next_start_index": page.next_start,
        "total_length": page.total,
        "truncated": truncated,
        "from_cache": fetched.from_cache,
    }
    return Answer(_text(page, fetched, args), data)


def _text(page: TextPage, fetched: Fetched, args: FetchArgs) -> str:
    """The page, framed by what the model needs to know: redirects, position, how to continue."""
    parts = []
    if fetched.final_url != args.url and page.start == 0:
        parts.append(f"[Redirected to {fetched.final_url}]\n\n")
    if page.start > 0:
        parts.append(f"[Continuing at character {page.start} of {page.total}]\n\n")
    parts.append(page.text if page.total else "(The page has no readable content.)")
    if fetched.truncated:
        parts.append(
            f"\n\n[The page was cut at the server's download cap of {len(fetched.body):,} bytes; "
            "content after that point cannot be fetched.]"
        )
    if page.next_start is not None:
        parts.append(
            f"\n\n[Showing characters {page.start}-{page.end} of {page.total}. To read on, call web_fetch again "
            f"with the same url and format and start_index={page.next_start}.]"
        )
    return "".join(parts)


def _host(url: str) -> str:
    return urlsplit(url).hostname or ""


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


def _client(capability: WebCapability) -> WebClient:
    from mcp_workbench.web.service import ApiClient

    return ApiClient(capability.service.get().fetcher)


def install(mcp: FastMCP, settings: WebSettings, services: Services) -> WebCapability:
    capability = WebCapability(settings)
    mcp.add_tool(web_fetch_tool(capability.service))
    services.offer(WebReader, Lazy(lambda: _reader(capability)), scope=WEB, what="fetching web pages")
    services.offer(WebClient, Lazy(lambda: _client(capability)), scope=WEB, what="calling web APIs")
    return capability

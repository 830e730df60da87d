"""The web capability's handler: fetch, convert, cut one page, and say how to read on.

Conversions are kept in a small LRU keyed by the body's digest, so reading a long cached page
page by page extracts its content once, not once per page.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Iterator
from functools import partial
from typing import Any

import anyio
import httpx2

from mcp_workbench.platform.calls import current_call
from mcp_workbench.platform.metrics import Sample
from mcp_workbench.platform.tools import Answer
from mcp_workbench.web.convert import ACCEPT, Format, Page, convert, paginate
from mcp_workbench.web.fetch import Fetched, Fetcher
from mcp_workbench.web.models import FetchArgs
from mcp_workbench.web.resolver import Resolver
from mcp_workbench.web.settings import WebSettings

CONVERSIONS_KEPT = 32
CONVERSION_CHARS_KEPT = 20_000_000


class WebService:
    """The ``web`` capability: one fetcher (one pooled client) and the ``web_fetch`` handler."""

    name = "web"

    def __init__(self, settings: WebSettings, *, resolver: Resolver | None = None) -> None:
        self.settings = settings
        self.fetcher = Fetcher(settings, resolver=resolver)
        self._conversions: OrderedDict[tuple[str, ...], str] = OrderedDict()
        self._conversion_chars = 0
        self._cache_outcomes = {"hit": 0, "miss": 0}

    async def aclose(self) -> None:
        await self.fetcher.aclose()
        self._conversions.clear()
        self._conversion_chars = 0

    def samples(self) -> Iterator[Sample]:
        """HTTP cache hits and misses of successful fetches, for /metrics."""
        for outcome, count in self._cache_outcomes.items():
            yield Sample("web_cache_requests", "web_fetch answers by HTTP cache outcome.", count,
                         {"outcome": outcome}, kind="counter")  # fmt: skip

    async def fetch(self, args: FetchArgs) -> Answer:
        fetched = await self.fetcher.fetch(args.url, accept=ACCEPT[args.format], whole=args.format == "json")
        content = await self._converted(fetched, args.format)
        page = paginate(content, args.start_index, args.max_length)
        self._cache_outcomes["hit" if fetched.from_cache else "miss"] += 1
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

    async def _converted(self, fetched: Fetched, fmt: Format) -> str:
        digest = hashlib.sha256(fetched.body).hexdigest()
        key = (fetched.final_url, fmt, fetched.content_type.raw, str(fetched.truncated), digest)
        kept = self._conversions.get(key)
        if kept is not None:
            self._conversions.move_to_end(key)
            return kept
        work = partial(
            convert,
            fetched.body,
            fetched.content_type,
            fmt,
            url=fetched.final_url,
            truncated=fetched.truncated,
        )
        content = await anyio.to_thread.run_sync(work)
        if len(content) <= CONVERSION_CHARS_KEPT // 4:
            self._conversions[key] = content
            self._conversion_chars += len(content)
            while len(self._conversions) > CONVERSIONS_KEPT or self._conversion_chars > CONVERSION_CHARS_KEPT:
                _, dropped = self._conversions.popitem(last=False)
                self._conversion_chars -= len(dropped)
        return content


def _text(page: Page, fetched: Fetched, args: FetchArgs) -> str:
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
    try:
        return httpx2.URL(url).host
    except (httpx2.InvalidURL, ValueError):
        return ""

"""The web capability's handler: fetch, convert, cut one page, and say how to read on.

HTML extraction runs in worker processes (at most ``convert_workers``), each job killed at
``convert_timeout_s`` or when the call is cancelled (its TIMEOUT, the client leaving, the
server shutting down), so no page keeps a CPU busy after its call has ended. Conversions are
kept in a small LRU keyed by the body's digest, so reading a long cached page page by page
extracts its content once, not once per page.
"""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict
from collections.abc import Iterator, Mapping

import anyio

from mcp_workbench.platform.errors import TimeoutFinal, TooLarge, UpstreamDeclined
from mcp_workbench.platform.isolation import WorkerFailed, WorkerPool
from mcp_workbench.platform.metrics import Sample
from mcp_workbench.web.convert import ACCEPT, ConvertJob, Format, TextPage, extract_job, extracts_html, paginate_text
from mcp_workbench.web.fetch import Fetched, Fetcher
from mcp_workbench.web.port import ApiResponse, Gate, WebPage
from mcp_workbench.web.resolver import Resolver
from mcp_workbench.web.settings import WebSettings

CONVERSIONS_KEPT = 32
CONVERSION_CHARS_KEPT = 20_000_000

RAW_INSTEAD = "Call web_fetch again with format 'raw' to read the page as it is, without extraction."

log = logging.getLogger("mcp_workbench.web")


class WebService:
    """The ``web`` capability: one fetcher (one pooled client) and the ``web_fetch`` handler."""

    name = "web"

    def __init__(self, settings: WebSettings, *, resolver: Resolver | None = None) -> None:
        self.settings = settings
        self.fetcher = Fetcher(settings, resolver=resolver)
        self._extractors = WorkerPool(
            "mcp-workbench-extract",
            size=settings.convert_workers,
            preload=["mcp_workbench.web.convert", "trafilatura"],
            memory_bytes=settings.convert_memory_mb * 1024 * 1024,
        )
        self._conversions: OrderedDict[tuple[str, ...], str] = OrderedDict()
        self._conversion_chars = 0
        self._cache_outcomes = {"hit": 0, "miss": 0}

    async def aclose(self) -> None:
        await self._extractors.aclose()
        await self.fetcher.aclose()
        self._conversions.clear()
        self._conversion_chars = 0

    def samples(self) -> Iterator[Sample]:
        """HTTP cache hits and misses of successful fetches, for /metrics."""
        for outcome, count in self._cache_outcomes.items():
            yield Sample("web_cache_requests", "web_fetch answers by HTTP cache outcome.", count,
                         {"outcome": outcome}, kind="counter")  # fmt: skip

    async def page(self, url: str, fmt: Format, start: int, max_length: int) -> tuple[Fetched, TextPage]:
        """The fetched response and one page of its content in ``fmt``."""
        fetched = await self.fetcher.fetch(url, accept=ACCEPT[fmt], whole=fmt == "json")
        content = await self._converted(fetched, fmt)
        page = paginate_text(content, start, max_length)
        self._cache_outcomes["hit" if fetched.from_cache else "miss"] += 1
        return fetched, page

    async def _converted(self, fetched: Fetched, fmt: Format) -> str:
        digest = hashlib.sha256(fetched.body).hexdigest()
        key = (fetched.final_url, fmt, fetched.content_type.raw, str(fetched.truncated), digest)
        kept = self._conversions.get(key)
        if kept is not None:
            self._conversions.move_to_end(key)
            return kept
        job = ConvertJob(fetched.body, fetched.content_type, fmt, fetched.final_url, fetched.truncated)
        if extracts_html(fetched.body, fetched.content_type, fmt):
            content = await self._extract(job)
        else:
            content = await anyio.to_thread.run_sync(job.run)
        if len(content) <= CONVERSION_CHARS_KEPT // 4:
            self._conversions[key] = content
            self._conversion_chars += len(content)
            while len(self._conversions) > CONVERSIONS_KEPT or self._conversion_chars > CONVERSION_CHARS_KEPT:
                _, dropped = self._conversions.popitem(last=False)
                self._conversion_chars -= len(dropped)
        return content

    async def _extract(self, job: ConvertJob) -> str:
        budget = self.settings.convert_timeout_s
        try:
            outcome = await self._extractors.run(extract_job, job, budget_s=budget)
        except TooLarge:
            raise TooLarge(
                f"extracting the content of {job.url} needed more than {self.settings.convert_memory_mb} MB "
                "and was stopped",
                recovery_steps=[RAW_INSTEAD],
                details={"url": job.url, "convert_memory_mb": self.settings.convert_memory_mb},
            ) from None
        except WorkerFailed as exc:
            log.warning("content extraction failed", extra={"url": job.url, "error": str(exc)})
            raise UpstreamDeclined(
                f"the content of {job.url} could not be extracted: the extractor failed on this page",
                recovery_steps=[RAW_INSTEAD],
                details={"url": job.url},
            ) from None
        if outcome.killed:  # the same page would take as long again: not worth retrying as it is
            raise TimeoutFinal(
                f"extracting the content of {job.url} took longer than {budget:g} s and was stopped",
                recovery_steps=[
                    RAW_INSTEAD,
                    "Or look for the same information on a simpler page.",
                ],
                details={"url": job.url, "convert_timeout_s": budget},
            )
        return str(outcome.result)


class PageReader:
    """:class:`~mcp_workbench.web.port.WebReader` over this service."""

    def __init__(self, service: WebService) -> None:
        self._service = service

    async def page(self, url: str, *, format: Format = "markdown", max_chars: int = 20_000) -> WebPage:
        fetched, page = await self._service.page(url, format, 0, max_chars)
        truncated = page.next_start is not None or fetched.truncated
        return WebPage(url, fetched.final_url, page.text, truncated, page.total)


class ApiClient:
    """:class:`~mcp_workbench.web.port.WebClient` over a :class:`~mcp_workbench.web.fetch.Fetcher`."""

    def __init__(self, fetcher: Fetcher) -> None:
        self.fetcher = fetcher

    async def get(
        self,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        max_bytes: int,
        timeout_s: float,
        gate: Gate | None = None,
    ) -> ApiResponse:
        fetched = await self.fetcher.request(
            url, params=params, headers=headers, max_bytes=max_bytes, timeout_s=timeout_s, gate=gate
        )
        return ApiResponse(fetched.status, fetched.body, fetched.final_url, fetched.headers, fetched.from_cache)

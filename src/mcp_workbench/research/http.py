"""The HTTP seam of the research sources, and its production implementation.

Sources never open sockets. They call :class:`~.etiquette.PoliteHttp`, which adds the
etiquette and calls an :class:`Http`: a GET of a URL with parameters and headers that returns
the status, headers and body within a size cap. In production that is :class:`FetcherHttp`, the
web capability's SSRF-safe fetcher with its HTTP cache (private addresses refused unless
``[web] allow_hosts``); a benchmark or a test may pass another.

``gate`` is the etiquette's pacing slot. An implementation enters it around each request that
reaches the network and holds it until the body has arrived; one with a cache skips it for hits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from mcp_workbench.web.fetch import Fetcher
from mcp_workbench.web.gate import Gate


@dataclass(frozen=True)
class HttpResponse:
    status: int
    body: bytes
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-case names
    from_cache: bool = False

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()


class Http(Protocol):
    async def get(
        self,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        max_bytes: int,
        timeout_s: float,
        gate: Gate | None = None,
    ) -> HttpResponse:
        """GET ``url``; any status is returned. A body over ``max_bytes`` raises TooLarge, a
        refused address PermissionDenied, an unreachable or slow host UpstreamError or Timeout
        (all :class:`~mcp_workbench.platform.errors.WorkbenchError`)."""
        ...


class FetcherHttp:
    """:class:`Http` over the web capability's :class:`~mcp_workbench.web.fetch.Fetcher`."""

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
    ) -> HttpResponse:
        fetched = await self.fetcher.request(
            url, params=params, headers=headers, max_bytes=max_bytes, timeout_s=timeout_s, gate=gate
        )
        return HttpResponse(
            status=fetched.status,
            body=fetched.body,
            url=fetched.final_url,
            headers=fetched.headers,
            from_cache=fetched.from_cache,
        )

"""What the web capability offers the capabilities installed after it (see
:class:`~mcp_workbench.capability.Services`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Literal, Protocol

Gate = Callable[[], AbstractAsyncContextManager[object]]
"""A factory of the context a caller holds around each request that reaches the network (not
around answers from the HTTP cache): where a caller paces the requests it sends to a host."""


@dataclass(frozen=True, slots=True)
class WebPage:
    """The first ``max_chars`` of a page's content."""

    url: str
    final_url: str
    text: str
    truncated: bool
    total_length: int


class WebReader(Protocol):
    """Fetching pages on a caller's behalf (scope ``web``): the same SSRF guard, robots.txt,
    cache, size and time caps as ``web_fetch``; errors are the same
    :class:`~mcp_workbench.platform.errors.WorkbenchError`\\ s."""

    async def page(
        self, url: str, *, format: Literal["markdown", "text", "raw", "json"] = "markdown", max_chars: int = 20_000
    ) -> WebPage:
        """The page's content in ``format`` (Markdown: its main content), cut at ``max_chars``."""
        ...


@dataclass(frozen=True)
class ApiResponse:
    """An API's answer, whatever its status."""

    status: int
    body: bytes
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-case names
    from_cache: bool = False

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()


class WebClient(Protocol):
    """Calling HTTP APIs on a caller's behalf (scope ``web``): the same SSRF guard, pinning,
    redirects and HTTP cache as ``web_fetch``, without robots.txt (an API is meant for programs)."""

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
        """GET ``url``; any status is returned. A body over ``max_bytes`` raises TooLarge, a
        refused address PermissionDenied, an unreachable or slow host UpstreamError or Timeout
        (all :class:`~mcp_workbench.platform.errors.WorkbenchError`)."""
        ...

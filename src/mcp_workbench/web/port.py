"""What the web capability offers the capabilities installed after it (see
:class:`~mcp_workbench.capability.Services`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol


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

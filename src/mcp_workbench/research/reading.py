"""Reading the top pages for better passages than the providers' snippets.

The reader is injected (the web service's fetch and main-content extraction, on the caller's
behalf); this module only picks, from the page's text, the window of consecutive sentences that
mentions most of the plan's core terms, and keeps it when it beats the provider's excerpt.
Pages are read concurrently and only until ``deadline``; a page that fails keeps its excerpt.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import anyio

from mcp_workbench.research.models import Evidence, SubQuery
from mcp_workbench.research.text import clip, content_terms, sentences, stem

log = logging.getLogger("mcp_workbench.research")

Reader = Callable[[str], Awaitable[str]]
"""A page reader: URL -> the page's main text (markdown or plain)."""

WINDOW = 3
PASSAGE_CHARS = 900
MAX_PAGE_CHARS = 200_000


async def read_pages(reader: Reader, items: list[Evidence], plan: list[SubQuery], count: int, deadline: float) -> None:
    """Give up to ``count`` of ``items`` (those with a web address) a passage from their page."""
    wanted = {stem(term) for query in plan for term in query.core()}
    targets = [item for item in items if item.url and item.kind != "local"][:count]

    async def one(item: Evidence) -> None:
        assert item.url is not None
        try:
            page = await reader(item.url)
        except Exception as exc:  # noqa: BLE001 - a page that cannot be read keeps its excerpt
            log.info("research page not read", extra={"url": item.url, "error": repr(exc)})
            return
        passage = best_passage(page[:MAX_PAGE_CHARS], wanted)
        if passage and _score(passage, wanted) > _score(item.text, wanted):
            item.passage = passage

    with anyio.CancelScope(deadline=deadline):
        async with anyio.create_task_group() as group:
            for item in targets:
                group.start_soon(one, item)


def best_passage(text: str, wanted: set[str]) -> str | None:
    """The run of ``WINDOW`` sentences that mentions the most of ``wanted``."""
    found = sentences(text)
    best, best_score = None, 0
    for start in range(len(found)):
        window = " ".join(found[start : start + WINDOW])
        score = _score(window, wanted)
        if score > best_score:
            best, best_score = window, score
    return clip(best, PASSAGE_CHARS) if best else None


def _score(text: str, wanted: set[str]) -> int:
    return len(wanted & content_terms(text))

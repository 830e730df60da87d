"""Hacker News through the Algolia API: ``GET /api/v1/search?query=…&tags=story``.

The answer is ``{"hits": [{"objectID", "title", "url", "author", "points", "num_comments",
"created_at", "story_text"}], "nbHits", …}``. Algolia requires every word, so an empty answer is
asked again with fewer words. A story that links elsewhere is evidence for that link, with the
discussion in ``also_at``; a text post is evidence for the discussion itself.
"""

from __future__ import annotations

import calendar
from typing import Any

from mcp_workbench.research.etiquette import HostRules
from mcp_workbench.research.models import Evidence, SubQuery
from mcp_workbench.research.sources.base import (
    SearchContext,
    WebSource,
    as_list,
    as_str,
    expect,
    first_found,
    json_body,
    narrowing,
)
from mcp_workbench.research.text import strip_html

DISCUSSION = "https://news.ycombinator.com/item?id="


class HackerNews(WebSource):
    name = "hackernews"
    rules = HostRules(min_interval_s=0.0, max_concurrent=4)

    async def search(self, query: SubQuery, ctx: SearchContext) -> list[Evidence]:
        async def ask(words: str) -> list[Evidence]:
            params = {"query": words, "tags": "story", "hitsPerPage": str(min(ctx.limit, 50))}
            if ctx.since is not None:
                params["numericFilters"] = f"created_at_i>{calendar.timegm(ctx.since.timetuple())}"
            response = await ctx.get("/api/v1/search", params=params)
            return self.parse(json_body(response.body, origin="Hacker News"), query.index)

        return await first_found(narrowing(query, 3), ask)

    def parse(self, data: Any, query_index: int) -> list[Evidence]:
        expect(isinstance(data, dict) and isinstance(data.get("hits"), list), "Hacker News", "no hits list")
        evidence = []
        for rank, hit in enumerate(as_list(data.get("hits"))):
            if not isinstance(hit, dict):
                continue
            title = as_str(hit.get("title")) or as_str(hit.get("story_title"))
            story = as_str(hit.get("objectID"))
            if not title or not story:
                continue
            discussion = f"{DISCUSSION}{story}"
            link = as_str(hit.get("url")) or None
            text = strip_html(as_str(hit.get("story_text")))
            points, comments = hit.get("points"), hit.get("num_comments")
            evidence.append(
                Evidence(
                    source=self.name,
                    title=title,
                    excerpt=text or f"Hacker News story ({points or 0} points, {comments or 0} comments).",
                    url=link or discussion,
                    published=as_str(hit.get("created_at"))[:10] or None,
                    authors=[as_str(hit.get("author"))] if hit.get("author") else [],
                    kind="discussion",
                    has_text=bool(text),
                    rank=rank,
                    query=query_index,
                    also_at=[discussion] if link else [],
                )
            )
        return evidence

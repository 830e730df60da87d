"""A self-hosted SearXNG: ``GET /search?q=…&format=json``.

The answer is ``{"query", "number_of_results", "results": [{"url", "title", "content",
"engine", "publishedDate"}]}``. Opt-in, and only with a ``base_url``: public instances mostly
turn the JSON format off (403), and the operator's own instance is the one to ask.
"""

from __future__ import annotations

from typing import Any

from mcp_workbench.research.etiquette import HostRules
from mcp_workbench.research.models import Evidence, SubQuery
from mcp_workbench.research.sources.base import SearchContext, WebSource, as_list, as_str, expect, json_body
from mcp_workbench.research.text import squash, strip_html


class Searxng(WebSource):
    name = "searxng"
    rules = HostRules(min_interval_s=0.0, max_concurrent=2)

    async def search(self, query: SubQuery, ctx: SearchContext) -> list[Evidence]:
        params = {"q": query.keywords(8), "format": "json", "pageno": "1"}
        response = await ctx.get("/search", params=params)
        return self.parse(json_body(response.body, origin="SearXNG"), query.index)[: ctx.limit]

    def parse(self, data: Any, query_index: int) -> list[Evidence]:
        expect(isinstance(data, dict) and isinstance(data.get("results"), list), "SearXNG", "no results list")
        evidence = []
        for rank, result in enumerate(as_list(data.get("results"))):
            if not isinstance(result, dict):
                continue
            url, title = as_str(result.get("url")), squash(as_str(result.get("title")))
            if not url.startswith(("http://", "https://")) or not title:
                continue
            evidence.append(
                Evidence(
                    source=self.name,
                    title=title,
                    excerpt=strip_html(as_str(result.get("content"))),
                    url=url,
                    published=as_str(result.get("publishedDate"))[:10] or None,
                    kind="web",
                    rank=rank,
                    query=query_index,
                )
            )
        return evidence

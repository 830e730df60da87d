"""Wikipedia through the MediaWiki action API: ``GET /w/api.php?action=query&list=search``.

The answer is ``{"query": {"search": [{"title", "pageid", "snippet", "timestamp", …}]}}``; the
snippet is HTML with ``<span class="searchmatch">`` around matched words. Errors come as HTTP
200 with ``{"error": {"code", "info"}}``. CirrusSearch requires every word, so a query that
finds nothing is asked again with fewer, more specific words. Wikimedia asks for an identifying
User-Agent and one request at a time.
"""

from __future__ import annotations

from urllib.parse import quote

from mcp_workbench.research.errors import SourceProblem
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


class Wikipedia(WebSource):
    name = "wikipedia"
    rules = HostRules(min_interval_s=0.0, max_concurrent=1)

    async def search(self, query: SubQuery, ctx: SearchContext) -> list[Evidence]:
        async def ask(words: str) -> list[Evidence]:
            params = {
                "action": "query",
                "list": "search",
                "srsearch": words,
                "srlimit": str(min(ctx.limit, 50)),
                "srprop": "snippet|timestamp|wordcount",
                "format": "json",
                "formatversion": "2",
                "utf8": "1",
            }
            response = await ctx.get("/w/api.php", params=params)
            return self.parse(json_body(response.body, origin="Wikipedia"), ctx.base_url, query.index)

        return await first_found(narrowing(query, 3), ask)

    def parse(self, data: object, base_url: str, query_index: int) -> list[Evidence]:
        expect(isinstance(data, dict), "Wikipedia", "not a JSON object")
        assert isinstance(data, dict)
        error = data.get("error")
        if isinstance(error, dict):
            raise SourceProblem("failed", f"Wikipedia refused the search: {error.get('code')}: {error.get('info')}")
        found = (data.get("query") or {}).get("search")
        expect(isinstance(found, list), "Wikipedia", "no query.search list")
        evidence = []
        for rank, hit in enumerate(as_list(found)):
            title = as_str(hit.get("title")) if isinstance(hit, dict) else ""
            if not title:
                continue
            evidence.append(
                Evidence(
                    source=self.name,
                    title=title,
                    excerpt=strip_html(as_str(hit.get("snippet"))),
                    url=f"{base_url}/wiki/{quote(title.replace(' ', '_'), safe='()_,:')}",
                    kind="encyclopedia",
                    rank=rank,
                    query=query_index,
                )
            )
        return evidence

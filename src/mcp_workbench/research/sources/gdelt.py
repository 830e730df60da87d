"""News through the GDELT DOC 2.0 API: ``GET /api/v2/doc/doc?query=…&mode=artlist&format=json``.

The answer is ``{"articles": [{"url", "title", "seendate": "20240115T103000Z", "domain",
"language", "sourcecountry", …}]}``, or ``{}`` when nothing matched. GDELT reports problems as
plain text with HTTP 200 ("Please limit requests to one every 5 seconds…", "Your search
contained a keyword that was too short…"). Bare keywords are all required and ``(a OR b)`` needs
one of its words, so the query requires the most specific term and any of the next ones; words
under three letters are refused, so they are left out. GDELT asks for one request every 5 seconds.
"""

from __future__ import annotations

from typing import Any

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
)


def keyword_queries(words: list[str]) -> list[str]:
    """The most specific word and any of the next three; if that finds nothing, any of the first three."""
    if len(words) == 1:
        return words
    rest = words[1:4]
    first = f"{words[0]} ({' OR '.join(rest)})" if len(rest) > 1 else f"{words[0]} {rest[0]}"
    return [first, f"({' OR '.join(words[:3])})"]


class Gdelt(WebSource):
    name = "gdelt"
    max_queries = 1
    rules = HostRules(min_interval_s=5.0, max_concurrent=1)

    async def search(self, query: SubQuery, ctx: SearchContext) -> list[Evidence]:
        words = [term for term in query.core() if len(term) >= 3 and term.replace("-", "").isalnum()]
        if not words:
            return []

        async def ask(keywords: str) -> list[Evidence]:
            params = {
                "query": keywords,
                "mode": "artlist",
                "format": "json",
                "maxrecords": str(min(ctx.limit, 250)),
                "sort": "hybridrel",
            }
            if ctx.since is not None:
                params["startdatetime"] = f"{ctx.since:%Y%m%d}000000"
            else:
                params["timespan"] = "3months"
            response = await ctx.get("/api/v2/doc/doc", params=params)
            return self.parse(response.body, query.index)

        return await first_found(keyword_queries(words), ask)

    def parse(self, body: bytes, query_index: int) -> list[Evidence]:
        stripped = body.strip()
        if not stripped.startswith(b"{"):
            said = " ".join(stripped[:200].decode("utf-8", "replace").split())
            if "limit requests" in said.lower():
                raise SourceProblem("rate_limited", f"GDELT asked to slow down: {said}")
            raise SourceProblem("failed", f"GDELT refused the query: {said}")
        data: Any = json_body(stripped, origin="GDELT")
        expect(isinstance(data, dict), "GDELT", "not a JSON object")
        evidence = []
        for rank, article in enumerate(as_list(data.get("articles"))):
            if not isinstance(article, dict):
                continue
            title, url = as_str(article.get("title")).strip(), as_str(article.get("url"))
            if not title or not url:
                continue
            seen = as_str(article.get("seendate"))
            published = f"{seen[:4]}-{seen[4:6]}-{seen[6:8]}" if len(seen) >= 8 and seen[:8].isdigit() else None
            where = ", ".join(x for x in (as_str(article.get("sourcecountry")), as_str(article.get("language"))) if x)
            domain = as_str(article.get("domain")) or "a news site"
            evidence.append(
                Evidence(
                    source=self.name,
                    title=title,
                    excerpt=f"News article on {domain}" + (f" ({where})" if where else "") + ".",
                    url=url,
                    published=published,
                    kind="news",
                    has_text=False,
                    rank=rank,
                    query=query_index,
                )
            )
        return evidence

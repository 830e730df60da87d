"""OpenAlex works: ``GET /works?search=…&per-page=…&api_key=…``.

The answer is ``{"meta": {"count"}, "results": [{"id", "doi", "title", "publication_date",
"authorships": [{"author": {"display_name"}}], "abstract_inverted_index": {word: [positions]},
"primary_location": {"landing_page_url"}}]}``. Since February 2026 OpenAlex needs a key and bills
searches, so this source is opt-in and refuses to run without one.
"""

from __future__ import annotations

from typing import Any

from mcp_workbench.research.etiquette import HostRules
from mcp_workbench.research.identity import arxiv_id, normalise_doi
from mcp_workbench.research.models import Evidence, SubQuery
from mcp_workbench.research.sources.base import SearchContext, WebSource, as_list, as_str, expect, json_body
from mcp_workbench.research.text import squash

FIELDS = "id,doi,title,display_name,publication_date,authorships,abstract_inverted_index,primary_location"


class OpenAlex(WebSource):
    name = "openalex"
    needs_key = True
    rules = HostRules(min_interval_s=0.1, max_concurrent=4)

    async def search(self, query: SubQuery, ctx: SearchContext) -> list[Evidence]:
        params = {"search": query.keywords(8), "per-page": str(min(ctx.limit, 100)), "select": FIELDS}
        if ctx.api_key:
            params["api_key"] = ctx.api_key
        if ctx.settings.mailto:
            params["mailto"] = ctx.settings.mailto
        if ctx.since is not None:
            params["filter"] = f"from_publication_date:{ctx.since.isoformat()}"
        response = await ctx.get("/works", params=params)
        return self.parse(json_body(response.body, origin="OpenAlex"), query.index)

    def parse(self, data: Any, query_index: int) -> list[Evidence]:
        expect(isinstance(data, dict) and isinstance(data.get("results"), list), "OpenAlex", "no results list")
        evidence = []
        for rank, work in enumerate(as_list(data.get("results"))):
            if not isinstance(work, dict):
                continue
            title = squash(as_str(work.get("title")) or as_str(work.get("display_name")))
            if not title:
                continue
            doi = normalise_doi(as_str(work.get("doi")))
            primary = work.get("primary_location")
            location = primary if isinstance(primary, dict) else {}
            authors = [
                as_str((a.get("author") or {}).get("display_name"))
                for a in as_list(work.get("authorships"))
                if isinstance(a, dict) and isinstance(a.get("author"), dict)
            ]
            evidence.append(
                Evidence(
                    source=self.name,
                    title=title,
                    excerpt=abstract_text(work.get("abstract_inverted_index")),
                    url=as_str(location.get("landing_page_url"))
                    or (f"https://doi.org/{doi}" if doi else None)
                    or as_str(work.get("id")),
                    doi=doi,
                    arxiv_id=arxiv_id(doi) if doi else None,
                    published=as_str(work.get("publication_date")) or None,
                    authors=[a for a in authors if a],
                    kind="paper",
                    rank=rank,
                    query=query_index,
                )
            )
        return evidence


def abstract_text(index: Any, limit: int = 5_000) -> str:
    """An abstract rebuilt from OpenAlex's inverted index ({word: [positions]})."""
    if not isinstance(index, dict):
        return ""
    placed: dict[int, str] = {}
    for word, positions in index.items():
        for position in as_list(positions):
            if isinstance(position, int) and 0 <= position < limit:
                placed[position] = str(word)
    return " ".join(placed[i] for i in sorted(placed))

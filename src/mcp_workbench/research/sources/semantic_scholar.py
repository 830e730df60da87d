"""Semantic Scholar's Academic Graph: ``GET /graph/v1/paper/search?query=…&fields=…``.

The answer is ``{"total", "offset", "data": [{"paperId", "title", "abstract", "year",
"publicationDate", "authors": [{"name"}], "externalIds": {"DOI", "ArXiv"}, "url"}]}``. Opt-in:
the keyless pool is shared and often answers 429; a key goes in the ``x-api-key`` header, and
keys are allowed one request a second.
"""

from __future__ import annotations

from typing import Any

from mcp_workbench.research.etiquette import HostRules
from mcp_workbench.research.identity import arxiv_id, normalise_doi
from mcp_workbench.research.models import Evidence, SubQuery
from mcp_workbench.research.sources.base import SearchContext, WebSource, as_list, as_str, expect, json_body
from mcp_workbench.research.text import squash

FIELDS = "title,abstract,year,publicationDate,authors,externalIds,url,venue"


class SemanticScholar(WebSource):
    name = "semantic_scholar"
    rules = HostRules(min_interval_s=1.0, max_concurrent=1)

    async def search(self, query: SubQuery, ctx: SearchContext) -> list[Evidence]:
        params = {"query": query.keywords(8), "limit": str(min(ctx.limit, 100)), "fields": FIELDS}
        if ctx.since is not None:
            params["publicationDateOrYear"] = f"{ctx.since.isoformat()}:"
        headers = {"x-api-key": ctx.api_key} if ctx.api_key else {}
        response = await ctx.get("/graph/v1/paper/search", params=params, headers=headers)
        return self.parse(json_body(response.body, origin="Semantic Scholar"), query.index)

    def parse(self, data: Any, query_index: int) -> list[Evidence]:
        expect(isinstance(data, dict), "Semantic Scholar", "not a JSON object")
        evidence = []
        for rank, paper in enumerate(as_list(data.get("data"))):
            if not isinstance(paper, dict) or not as_str(paper.get("title")):
                continue
            external = paper.get("externalIds")
            ids = external if isinstance(external, dict) else {}
            year = paper.get("year")
            evidence.append(
                Evidence(
                    source=self.name,
                    title=squash(as_str(paper.get("title"))),
                    excerpt=squash(as_str(paper.get("abstract"))),
                    url=as_str(paper.get("url")) or f"https://www.semanticscholar.org/paper/{paper.get('paperId')}",
                    doi=normalise_doi(as_str(ids.get("DOI"))),
                    arxiv_id=arxiv_id(as_str(ids.get("ArXiv"))),
                    published=as_str(paper.get("publicationDate")) or (str(year) if isinstance(year, int) else None),
                    authors=[as_str(a.get("name")) for a in as_list(paper.get("authors")) if isinstance(a, dict)],
                    kind="paper",
                    rank=rank,
                    query=query_index,
                )
            )
        return evidence

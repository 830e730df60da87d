"""Crossref through its REST API: ``GET /works?query.bibliographic=…&rows=…&select=…&mailto=…``.

The answer is ``{"status": "ok", "message-type": "work-list", "message": {"items": […]}}``; an
item has ``DOI``, ``title`` (a list), ``author`` (``given``/``family`` or ``name``), an optional
JATS ``abstract``, and dates as ``{"date-parts": [[y, m, d]]}``. With a ``mailto`` Crossref
serves the polite pool (three requests a second, three at once); without it, one and one.
"""

from __future__ import annotations

from typing import Any

from mcp_workbench.research.etiquette import HostRules
from mcp_workbench.research.identity import arxiv_id, normalise_doi
from mcp_workbench.research.models import Evidence, SubQuery
from mcp_workbench.research.settings import ResearchSettings
from mcp_workbench.research.sources.base import SearchContext, WebSource, as_list, as_str, expect, json_body
from mcp_workbench.research.text import squash, strip_html

FIELDS = "DOI,title,author,abstract,published,issued,created,URL,container-title,type"


class Crossref(WebSource):
    name = "crossref"

    def etiquette(self, settings: ResearchSettings) -> HostRules:
        if settings.mailto:
            return HostRules(min_interval_s=1 / 3, max_concurrent=3)
        return HostRules(min_interval_s=1.0, max_concurrent=1)

    async def search(self, query: SubQuery, ctx: SearchContext) -> list[Evidence]:
        params = {"query.bibliographic": query.keywords(8), "rows": str(min(ctx.limit, 100)), "select": FIELDS}
        if ctx.since is not None:
            params["filter"] = f"from-pub-date:{ctx.since.isoformat()}"
        if ctx.settings.mailto:
            params["mailto"] = ctx.settings.mailto
        response = await ctx.get("/works", params=params)
        return self.parse(json_body(response.body, origin="Crossref"), query.index)

    def parse(self, data: Any, query_index: int) -> list[Evidence]:
        expect(isinstance(data, dict) and data.get("status") == "ok", "Crossref", "status is not 'ok'")
        message = data.get("message")
        expect(isinstance(message, dict) and isinstance(message.get("items"), list), "Crossref", "no message.items")
        evidence = []
        for rank, item in enumerate(as_list(message.get("items"))):
            if not isinstance(item, dict):
                continue
            doi = normalise_doi(as_str(item.get("DOI")))
            title = squash(" ".join(t for t in as_list(item.get("title")) if isinstance(t, str)))
            if not doi or not title:
                continue
            abstract = strip_html(as_str(item.get("abstract"))).removeprefix("Abstract ").strip()
            venue = next((c for c in as_list(item.get("container-title")) if isinstance(c, str)), "")
            evidence.append(
                Evidence(
                    source=self.name,
                    title=title,
                    excerpt=abstract or (f"Published in {venue}." if venue else ""),
                    url=as_str(item.get("URL")) or f"https://doi.org/{doi}",
                    doi=doi,
                    arxiv_id=arxiv_id(doi),
                    published=_date(item),
                    authors=[_author(a) for a in as_list(item.get("author")) if isinstance(a, dict) and _author(a)],
                    kind="paper",
                    has_text=bool(abstract),
                    rank=rank,
                    query=query_index,
                )
            )
        return evidence


def _author(author: dict[str, Any]) -> str:
    name = " ".join(part for part in (as_str(author.get("given")), as_str(author.get("family"))) if part)
    return name or as_str(author.get("name"))


def _date(item: dict[str, Any]) -> str | None:
    for key in ("published", "issued", "created"):
        parts = (item.get(key) or {}).get("date-parts") if isinstance(item.get(key), dict) else None
        if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0] and parts[0][0]:
            numbers = [int(p) for p in parts[0][:3] if isinstance(p, int | str) and str(p).isdigit()]
            if numbers:
                return "-".join(f"{n:02d}" if i else f"{n:04d}" for i, n in enumerate(numbers))
    return None

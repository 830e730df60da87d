"""arXiv through its Atom API: ``GET /api/query?search_query=…&sortBy=relevance``.

Each ``<entry>`` has an ``<id>`` (``http://arxiv.org/abs/2101.00001v2``), ``<title>`` and
``<summary>`` hard-wrapped, ``<published>``, ``<author><name>``, links, and ``<arxiv:doi>``
when the authors registered a journal DOI. Traps handled: a malformed query answers HTTP 200
with one entry titled "Error" whose id is under ``/api/errors``; throttling answers the plain
text ``Rate exceeded.``. arXiv asks for one request every 3 seconds, one at a time, so one run
sends it a single query (the sub-questions' terms are ORed and ranked by arXiv's relevance).
"""

from __future__ import annotations

import datetime as dt
import re

from mcp_workbench.research.errors import SourceProblem
from mcp_workbench.research.etiquette import HostRules
from mcp_workbench.research.identity import arxiv_id, normalise_doi
from mcp_workbench.research.models import Evidence, SubQuery
from mcp_workbench.research.sources.base import SearchContext, WebSource
from mcp_workbench.research.text import squash
from mcp_workbench.research.xmlsafe import child, children, local, parse_xml, text_of

_PLAIN = re.compile(r"^[\w.]+$", re.UNICODE)


class Arxiv(WebSource):
    name = "arxiv"
    max_queries = 1
    rules = HostRules(min_interval_s=3.0, max_concurrent=1)

    async def search(self, query: SubQuery, ctx: SearchContext) -> list[Evidence]:
        terms = [term if _PLAIN.match(term) else f'"{term}"' for term in query.core()[:6]]
        search_query = " OR ".join(f"all:{term}" for term in terms)
        if ctx.since is not None:
            until = dt.date.today() + dt.timedelta(days=1)
            search_query = f"({search_query}) AND submittedDate:[{ctx.since:%Y%m%d}0000 TO {until:%Y%m%d}2359]"
        params = {
            "search_query": search_query,
            "start": "0",
            "max_results": str(min(ctx.limit, 50)),
            "sortBy": "relevance",
            "sortOrder": "descending",
        }
        response = await ctx.get("/api/query", params=params, accept="application/atom+xml")
        return self.parse(response.body, query.index)

    def parse(self, body: bytes, query_index: int) -> list[Evidence]:
        if body.strip().lower().startswith(b"rate exceeded"):
            raise SourceProblem("rate_limited", "arXiv answered 'Rate exceeded.'")
        root = parse_xml(body, origin="arXiv")
        if local(root.tag) != "feed":
            raise SourceProblem("failed", f"arXiv answered <{local(root.tag)}>, not an Atom feed")
        evidence = []
        for rank, entry in enumerate(children(root, "entry")):
            entry_id = text_of(child(entry, "id"))
            if "/api/errors" in entry_id:
                raise SourceProblem("failed", f"arXiv refused the query: {squash(text_of(child(entry, 'summary')))}")
            identifier = arxiv_id(entry_id)
            title = squash(text_of(child(entry, "title")))
            if not identifier or not title:
                continue
            page = next((link.get("href") for link in children(entry, "link") if link.get("rel") == "alternate"), None)
            evidence.append(
                Evidence(
                    source=self.name,
                    title=title,
                    excerpt=squash(text_of(child(entry, "summary"))),
                    url=page or f"https://arxiv.org/abs/{identifier}",
                    doi=normalise_doi(text_of(child(entry, "doi"))),
                    arxiv_id=identifier,
                    published=text_of(child(entry, "published"))[:10] or None,
                    authors=[squash(text_of(child(a, "name"))) for a in children(entry, "author")],
                    kind="paper",
                    rank=rank,
                    query=query_index,
                )
            )
        return evidence

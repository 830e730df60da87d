"""PubMed through NCBI E-utilities: ``esearch.fcgi`` (JSON ids by relevance), then ``efetch.fcgi``
(``PubmedArticleSet`` XML with titles, abstracts, authors and DOIs).

NCBI allows three requests a second without a key and ten with one (``api_key``), and asks for
``tool`` and ``email`` on every request. Opt-in.
"""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element

from mcp_workbench.research.errors import SourceProblem
from mcp_workbench.research.etiquette import HostRules
from mcp_workbench.research.identity import normalise_doi
from mcp_workbench.research.models import Evidence, SubQuery
from mcp_workbench.research.settings import ResearchSettings
from mcp_workbench.research.sources.base import SearchContext, WebSource, as_list, expect, json_body
from mcp_workbench.research.text import squash
from mcp_workbench.research.xmlsafe import child, children, local, parse_xml, text_of

EUTILS = "/entrez/eutils"
MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
MONTHS = {name: number for number, name in enumerate(MONTH_NAMES, start=1)}


class PubMed(WebSource):
    name = "pubmed"

    def etiquette(self, settings: ResearchSettings) -> HostRules:
        config = settings.sources.get(self.name)
        keyed = config is not None and config.api_key() is not None
        return HostRules(min_interval_s=0.1 if keyed else 0.34, max_concurrent=2)

    async def search(self, query: SubQuery, ctx: SearchContext) -> list[Evidence]:
        common = {"db": "pubmed", "tool": "mcp-workbench"}
        if ctx.settings.mailto:
            common["email"] = ctx.settings.mailto
        if ctx.api_key:
            common["api_key"] = ctx.api_key
        terms = " OR ".join(query.core()[:6])
        params = {**common, "term": terms, "retmode": "json", "sort": "relevance"}
        params["retmax"] = str(min(ctx.limit, 100))
        if ctx.since is not None:
            params.update({"datetype": "pdat", "mindate": f"{ctx.since:%Y/%m/%d}", "maxdate": "3000"})
        found = json_body((await ctx.get(f"{EUTILS}/esearch.fcgi", params=params)).body, origin="PubMed")
        ids = self.ids(found)
        if not ids:
            return []
        fetched = await ctx.get(
            f"{EUTILS}/efetch.fcgi",
            params={**common, "id": ",".join(ids), "retmode": "xml", "rettype": "abstract"},
            accept="application/xml",
        )
        return self.parse(fetched.body, ids, query.index)

    def ids(self, data: Any) -> list[str]:
        expect(isinstance(data, dict), "PubMed", "not a JSON object")
        if data.get("error"):
            raise SourceProblem("failed", f"PubMed refused the search: {data.get('error')}")
        result = data.get("esearchresult")
        expect(isinstance(result, dict), "PubMed", "no esearchresult")
        if result.get("ERROR"):
            raise SourceProblem("failed", f"PubMed refused the search: {result.get('ERROR')}")
        return [str(i) for i in as_list(result.get("idlist")) if str(i).isdigit()]

    def parse(self, body: bytes, ids: list[str], query_index: int) -> list[Evidence]:
        root = parse_xml(body, origin="PubMed")
        expect(local(root.tag) == "PubmedArticleSet", "PubMed", f"root <{local(root.tag)}>")
        by_id = {}
        for article in children(root, "PubmedArticle"):
            evidence = _article(article)
            if evidence is not None:
                by_id[evidence[0]] = evidence[1]
        ordered = [by_id[i] for i in ids if i in by_id]
        for rank, item in enumerate(ordered):
            item.rank, item.query = rank, query_index
        return ordered


def _article(node: Element) -> tuple[str, Evidence] | None:
    citation = child(node, "MedlineCitation")
    article = child(citation, "Article") if citation is not None else None
    if citation is None or article is None:
        return None
    pmid = text_of(child(citation, "PMID"))
    title = squash(text_of(child(article, "ArticleTitle")))
    if not pmid or not title:
        return None
    abstract = child(article, "Abstract")
    parts = []
    for piece in children(abstract, "AbstractText") if abstract is not None else []:
        label = piece.get("Label")
        parts.append(f"{label.capitalize()}: {text_of(piece)}" if label else text_of(piece))
    authors = []
    author_list = child(article, "AuthorList")
    for author in children(author_list, "Author") if author_list is not None else []:
        name = " ".join(x for x in (text_of(child(author, "ForeName")), text_of(child(author, "LastName"))) if x)
        authors.append(name or text_of(child(author, "CollectiveName")))
    doi = None
    for location in children(article, "ELocationID"):
        if location.get("EIdType") == "doi":
            doi = normalise_doi(text_of(location))
    data = child(node, "PubmedData")
    ids = child(data, "ArticleIdList") if data is not None else None
    for identifier in children(ids, "ArticleId") if ids is not None else []:
        if identifier.get("IdType") == "doi" and doi is None:
            doi = normalise_doi(text_of(identifier))
    return pmid, Evidence(
        source="pubmed",
        title=title.rstrip("."),
        excerpt=squash(" ".join(parts)),
        url=f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/",
        doi=doi,
        published=_published(article),
        authors=[a for a in authors if a],
        kind="paper",
    )


def _published(article: Element) -> str | None:
    journal = child(article, "Journal")
    issue = child(journal, "JournalIssue") if journal is not None else None
    date = child(issue, "PubDate") if issue is not None else None
    if date is None:
        return None
    year = text_of(child(date, "Year"))
    if not year.isdigit():
        medline = text_of(child(date, "MedlineDate"))
        return medline[:4] if medline[:4].isdigit() else None
    month = text_of(child(date, "Month")).lower()[:3]
    number = MONTHS.get(month) or (int(month) if month.isdigit() else None)
    return f"{year}-{number:02d}" if number else year

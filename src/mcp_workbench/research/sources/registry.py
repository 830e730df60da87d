"""The public sources by name, in the order results are reported."""

from __future__ import annotations

from mcp_workbench.research.sources.arxiv import Arxiv
from mcp_workbench.research.sources.base import WebSource
from mcp_workbench.research.sources.crossref import Crossref
from mcp_workbench.research.sources.feeds import Feeds
from mcp_workbench.research.sources.gdelt import Gdelt
from mcp_workbench.research.sources.hackernews import HackerNews
from mcp_workbench.research.sources.openalex import OpenAlex
from mcp_workbench.research.sources.pubmed import PubMed
from mcp_workbench.research.sources.searxng import Searxng
from mcp_workbench.research.sources.semantic_scholar import SemanticScholar
from mcp_workbench.research.sources.wikipedia import Wikipedia

PUBLIC_SOURCES: tuple[type[WebSource], ...] = (
    Wikipedia,
    Arxiv,
    Crossref,
    HackerNews,
    Gdelt,
    Feeds,
    OpenAlex,
    SemanticScholar,
    PubMed,
    Searxng,
)


def public_sources() -> dict[str, WebSource]:
    return {cls.name: cls() for cls in PUBLIC_SOURCES}

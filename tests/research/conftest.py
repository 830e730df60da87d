"""Fixtures of the research tests: every provider on its own loopback port, settings pointing the
sources at them, and a service over the real SSRF-safe fetcher (127.0.0.1 allowed, as the web
tests allow their sites)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from mcp_workbench.research.models import EvidenceItem
from mcp_workbench.research.service import ResearchService
from mcp_workbench.research.settings import ResearchSettings
from mcp_workbench.web.fetch import Fetcher
from mcp_workbench.web.service import ApiClient
from mcp_workbench.web.settings import WebSettings
from tests.research.fakes import PROVIDERS, Doc, Provider, load_documents

CONTACT = "mailto:research-tests@example.org"
KEYLESS = ("wikipedia", "arxiv", "crossref", "hackernews", "gdelt", "feeds")


@pytest.fixture(scope="session", autouse=True)
def _http_stack_loaded() -> None:
    """Build one fetcher client first: its imports (seconds without bytecode) would otherwise land
    inside the first test's source timeouts."""
    import anyio

    fetcher = Fetcher(WebSettings())
    fetcher.client()
    anyio.run(fetcher.aclose)


@pytest.fixture(scope="session")
def documents() -> list[Doc]:
    return load_documents()


@pytest.fixture
def providers(documents: list[Doc]) -> Iterator[dict[str, Provider]]:
    started = {name: cls(name, documents).start() for name, cls in PROVIDERS.items()}
    try:
        yield started
    finally:
        for provider in started.values():
            provider.stop()


def settings_for(providers: dict[str, Provider], *, fast: bool = False, **overrides: Any) -> ResearchSettings:
    """Sources pointed at the fakes; ``fast`` drops the pacing (for tests about something else)."""
    sources: dict[str, dict[str, Any]] = {}
    for name, provider in providers.items():
        entry: dict[str, Any] = {} if name == "feeds" else {"base_url": provider.url}
        if fast:
            entry["min_interval_s"] = 0.0
        sources[name] = entry
    for name, entry in overrides.pop("sources", {}).items():
        sources[name] = {**sources.get(name, {}), **entry}
    feeds = [f"{providers['feeds'].url}/rss.xml", f"{providers['feeds'].url}/atom.xml"]
    values: dict[str, Any] = {"contact": CONTACT, "feeds": feeds, "sources": sources, "max_response_bytes": 300_000}
    values.update(overrides)
    return ResearchSettings(**values)


@pytest.fixture
async def make_service() -> AsyncIterator[Callable[..., ResearchService]]:
    fetchers: list[Fetcher] = []

    def make(settings: ResearchSettings, **web: Any) -> ResearchService:
        web.setdefault("allow_hosts", ["127.0.0.1"])
        fetcher = Fetcher(WebSettings(**web))
        fetchers.append(fetcher)
        return ResearchService(settings, ApiClient(fetcher))

    yield make
    for fetcher in fetchers:
        await fetcher.aclose()


def keys_of(item: EvidenceItem) -> set[str]:
    """Every corpus id an evidence item stands for (its own and its folded duplicates')."""
    from mcp_workbench.research.identity import arxiv_id, canonical_url

    keys = {item.id}
    if item.doi:
        keys.add(f"doi:{item.doi}")
    for address in (item.url, *item.also_at):
        if not address:
            continue
        keys.add(f"url:{address}")
        canonical = canonical_url(address)
        if canonical:
            keys.add(f"url:{canonical}")
        identifier = arxiv_id(address)
        if identifier:
            keys.add(f"arxiv:{identifier}")
        if "news.ycombinator.com/item?id=" in address:
            keys.add(f"hn:{address.rsplit('=', 1)[1]}")
        if "/wiki/" in address:
            from urllib.parse import unquote

            keys.add(f"wikipedia:{unquote(address.rsplit('/wiki/', 1)[1]).replace('_', ' ')}")
    return keys


def canonical_keys(keys: set[str]) -> set[str]:
    from mcp_workbench.research.identity import canonical_url

    out = set(keys)
    for key in keys:
        if key.startswith("url:"):
            canonical = canonical_url(key[4:])
            if canonical:
                out.add(f"url:{canonical}")
    return out

"""Fixtures of the research tests: every provider on its own loopback port, settings pointing the
sources at them, and a service over the real SSRF-safe fetcher (127.0.0.1 allowed, as the web
tests allow their sites)."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from mcp_workbench.research.pacing import PaceBook
from mcp_workbench.research.service import ResearchService
from mcp_workbench.research.settings import ResearchSettings
from mcp_workbench.web.fetch import Fetcher
from mcp_workbench.web.service import ApiClient
from mcp_workbench.web.settings import WebSettings
from tests.research.fakes import PROVIDERS, Doc, Provider, load_documents


@pytest.fixture(scope="session", autouse=True)
def _http_stack_loaded() -> None:
    """Build one fetcher client first: its imports (seconds without bytecode) would otherwise land
    inside the first test's source timeouts."""
    import anyio

    fetcher = Fetcher(WebSettings())
    fetcher.client()
    anyio.run(fetcher.aclose)


@functools.cache
def _corpus() -> tuple[Doc, ...]:
    return tuple(load_documents())


@pytest.fixture
def documents() -> list[Doc]:
    """The corpus, read once per process."""
    return list(_corpus())


@pytest.fixture
def providers(documents: list[Doc]) -> Iterator[dict[str, Provider]]:
    started = {name: cls(name, documents).start() for name, cls in PROVIDERS.items()}
    try:
        yield started
    finally:
        for provider in started.values():
            provider.stop()


@pytest.fixture
async def make_service() -> AsyncIterator[Callable[..., ResearchService]]:
    fetchers: list[Fetcher] = []

    services: list[ResearchService] = []

    def make(settings: ResearchSettings, *, book: PaceBook | None = None, **web: Any) -> ResearchService:
        web.setdefault("allow_hosts", ["127.0.0.1"])
        fetcher = Fetcher(WebSettings(**web))
        fetchers.append(fetcher)
        services.append(ResearchService(settings, ApiClient(fetcher), book=book))
        return services[-1]

    yield make
    for service in services:
        await service.aclose()
    for fetcher in fetchers:
        await fetcher.aclose()

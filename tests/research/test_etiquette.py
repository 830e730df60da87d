"""Etiquette as the providers see it: pacing and concurrency from each fake server's own request
log (its clock, not ours), the identifying User-Agent, Retry-After, and the HTTP cache."""

from __future__ import annotations

import itertools

import pytest

from mcp_workbench.research.etiquette import HostRules
from mcp_workbench.research.models import ResearchRequest
from mcp_workbench.research.sources.registry import public_sources
from tests.research.fakes import CONTACT, Failure, Provider, settings_for

pytestmark = pytest.mark.anyio

QUESTION = "How does ocean warming cause coral reef bleaching?"
PAPERS = "How do surface codes enable quantum error correction?"


def gaps(provider: Provider, path: str | None = None) -> list[float]:
    arrivals = sorted(seen.arrived for seen in provider.requests(path))
    return [later - earlier for earlier, later in itertools.pairwise(arrivals)]


def test_the_default_etiquette_is_each_providers_published_one() -> None:
    sources = public_sources()
    polite = settings_for_defaults(contact=CONTACT)
    anonymous = settings_for_defaults(contact=None)
    assert sources["arxiv"].etiquette(polite) == HostRules(min_interval_s=3.0, max_concurrent=1)
    assert sources["gdelt"].etiquette(polite) == HostRules(min_interval_s=5.0, max_concurrent=1)
    assert sources["crossref"].etiquette(polite) == HostRules(min_interval_s=1 / 3, max_concurrent=3)
    assert sources["crossref"].etiquette(anonymous) == HostRules(min_interval_s=1.0, max_concurrent=1)
    assert sources["wikipedia"].etiquette(polite).max_concurrent == 1


def settings_for_defaults(**values):
    from mcp_workbench.research.settings import ResearchSettings

    return ResearchSettings(**values)


async def test_arxiv_and_gdelt_are_paced_across_runs_and_asked_one_at_a_time(providers, make_service) -> None:
    """Two runs back to back: the second run's arXiv request comes 3 s after the first one's,
    GDELT's 5 s after, as their servers measure it."""
    for name in ("arxiv", "gdelt"):
        providers[name].latency_s = 0.1
    service = make_service(settings_for(providers, sources={"crossref": {"min_interval_s": 0}}))
    for _ in range(2):
        result = await service.run(ResearchRequest(question=QUESTION, sources=["arxiv", "gdelt"]))
        assert [s.status for s in result.sources] == ["ok", "ok"], result.sources
    assert len(providers["arxiv"].requests()) == 2 and len(providers["gdelt"].requests()) >= 2
    assert min(gaps(providers["arxiv"])) >= 3.0
    assert min(gaps(providers["gdelt"])) >= 5.0
    assert providers["arxiv"].most_in_flight == 1 and providers["gdelt"].most_in_flight == 1


async def test_crossref_keeps_to_its_polite_pool_with_a_mailto_and_to_one_a_second_without(
    providers, make_service
) -> None:
    crossref = providers["crossref"]
    crossref.latency_s = 0.05
    polite = make_service(settings_for(providers))
    await polite.run(ResearchRequest(question=QUESTION, sources=["crossref"]))
    with_mailto = crossref.requests("/works")
    assert len(with_mailto) == 3 and all(s.params["mailto"] == "research-tests@example.org" for s in with_mailto)
    assert min(gaps(crossref)) >= 1 / 3 and crossref.most_in_flight <= 3

    crossref.seen.clear()
    anonymous = make_service(settings_for(providers, contact=None))
    await anonymous.run(ResearchRequest(question=QUESTION, sources=["crossref"]))
    assert all("mailto" not in s.params for s in crossref.requests("/works"))
    assert min(gaps(crossref)) >= 1.0 and crossref.most_in_flight == 1


async def test_wikipedia_is_asked_one_request_at_a_time(providers, make_service) -> None:
    wikipedia = providers["wikipedia"]
    wikipedia.latency_s = 0.1
    service = make_service(settings_for(providers))
    await service.run(ResearchRequest(question=QUESTION, sources=["wikipedia"]))
    assert len(wikipedia.requests()) >= 3 and wikipedia.most_in_flight == 1


async def test_every_request_identifies_itself_with_the_contact(providers, make_service) -> None:
    service = make_service(settings_for(providers, fast=True))
    await service.run(ResearchRequest(question=QUESTION))
    agents = {s.headers.get("user-agent") for p in providers.values() for s in p.seen}
    assert len(agents) == 1
    (agent,) = agents
    assert agent.startswith("mcp-workbench/") and CONTACT in agent


async def test_a_429_is_waited_out_for_its_retry_after_then_asked_again(providers, make_service) -> None:
    crossref = providers["crossref"]
    crossref.failure = Failure("429", retry_after="1", times=1)
    service = make_service(settings_for(providers, fast=True))
    result = await service.run(ResearchRequest(question=QUESTION, sources=["crossref"], depth="quick"))
    assert result.sources[0].status == "ok" and result.sources[0].results > 0
    assert len(crossref.requests()) == 2 and gaps(crossref)[0] >= 1.0


async def test_a_retry_after_beyond_the_budget_is_rate_limited_and_honoured_by_the_next_run(
    providers, make_service
) -> None:
    hn = providers["hackernews"]
    hn.failure = Failure("429", retry_after="120")
    service = make_service(settings_for(providers, fast=True))
    first = await service.run(ResearchRequest(question=QUESTION, depth="quick"))
    report = {s.name: s for s in first.sources}
    assert report["hackernews"].status == "rate_limited" and "Retry-After 120" in (report["hackernews"].error or "")
    assert all(s.status == "ok" for s in first.sources if s.name != "hackernews")
    asked = len(hn.requests())
    second = await service.run(ResearchRequest(question=QUESTION, depth="quick"))
    assert {s.name: s.status for s in second.sources}["hackernews"] == "rate_limited"
    assert len(hn.requests()) == asked  # the host is left alone until its Retry-After has passed


async def test_cacheable_answers_are_served_from_the_cache_without_a_turn(providers, make_service) -> None:
    arxiv = providers["arxiv"]
    arxiv.extra_headers = {"cache-control": "max-age=600"}
    service = make_service(settings_for(providers))
    for _ in range(2):
        result = await service.run(ResearchRequest(question=PAPERS, sources=["arxiv"]))
        assert result.sources[0].status == "ok" and result.sources[0].results > 0
    assert len(arxiv.requests()) == 1  # and the second run did not wait 3 s for a turn it did not need

"""A failing source costs only its own results: each failure, injected into each provider, leaves a
result that names the source and why, with every other source intact."""

from __future__ import annotations

import pytest

from mcp_workbench.research.errors import SourceProblem
from mcp_workbench.research.models import Evidence, ResearchRequest, SubQuery
from mcp_workbench.research.sources.arxiv import Arxiv
from mcp_workbench.research.sources.base import SearchContext
from mcp_workbench.research.sources.wikipedia import Wikipedia
from tests.research.fakes import KEYLESS, Failure, _arxiv_error, settings_for

pytestmark = pytest.mark.anyio

QUESTION = "How much energy does Bitcoin consume?"
EXPECTED = {
    "500": ("failed", "HTTP 500"),
    "429": ("rate_limited", "Retry-After 120"),
    "hang": ("timeout", "timeout of 1 s"),
    "malformed": ("failed", "malformed"),
    "bomb": ("failed", ""),
    "oversized": ("failed", "more than 300,000 bytes"),
}
BOMB_SAID = {"arxiv": "entity declarations", "feeds": "entity declarations", "gdelt": "GDELT refused the query"}


@pytest.mark.parametrize("kind", list(EXPECTED))
@pytest.mark.parametrize("name", KEYLESS)
async def test_an_injected_failure_is_reported_for_its_source_alone(providers, make_service, name, kind) -> None:
    providers[name].failure = Failure(kind, retry_after="120")
    # a short budget for the source that hangs; the others answer at once, however busy the machine
    budget = {name: {"timeout_s": 1.0}} if kind == "hang" else {}
    settings = settings_for(providers, fast=True, sources=budget)
    result = await make_service(settings).run(ResearchRequest(question=QUESTION, depth="quick"))
    reports = {s.name: s for s in result.sources}
    status, said = EXPECTED[kind]
    assert reports[name].status == status and said in (reports[name].error or ""), reports[name]
    if kind == "bomb":  # refused unexpanded by the XML sources; not JSON for the others
        expected = BOMB_SAID.get(name, "malformed JSON")
        assert expected in (reports[name].error or ""), reports[name]
    assert reports[name].results == 0
    assert all(r.status == "ok" for n, r in reports.items() if n != name), reports
    assert result.evidence, reports
    assert all(item.source != name for item in result.evidence)
    assert result.validation.citations_resolved


async def test_providers_that_answer_200_with_a_complaint_are_rate_limited(providers, make_service) -> None:
    providers["arxiv"].failure = Failure("text", text="Rate exceeded.")
    providers["gdelt"].failure = Failure(
        "text", text="Please limit requests to one every 5 seconds or contact kalev.leetaru5@gmail.com."
    )
    service = make_service(settings_for(providers, fast=True))
    result = await service.run(ResearchRequest(question=QUESTION, depth="quick"))
    reports = {s.name: s for s in result.sources}
    assert reports["arxiv"].status == "rate_limited" and "Rate exceeded" in (reports["arxiv"].error or "")
    assert reports["gdelt"].status == "rate_limited" and "limit requests" in (reports["gdelt"].error or "")


def test_an_arxiv_error_entry_is_a_failure_not_a_result() -> None:
    with pytest.raises(SourceProblem, match="arXiv refused the query: start must be an integer"):
        Arxiv().parse(_arxiv_error("start must be an integer").encode(), 0)


def test_a_mediawiki_error_object_is_a_failure() -> None:
    error = {"error": {"code": "srsearch-text-disabled", "info": "text search is disabled"}}
    with pytest.raises(SourceProblem, match="srsearch-text-disabled"):
        Wikipedia().parse(error, "https://en.wikipedia.org", 0)


class Broken:
    """A source with a bug: it raises something no source should."""

    name = "broken"
    max_queries = None

    async def search(self, query: SubQuery, ctx: SearchContext) -> list[Evidence]:
        raise KeyError("items")


async def test_a_source_that_crashes_is_failed_and_the_run_goes_on(providers, make_service) -> None:
    service = make_service(settings_for(providers, fast=True))
    result = await service.run(ResearchRequest(question=QUESTION, depth="quick"), local=[Broken()])
    reports = {s.name: s for s in result.sources}
    assert reports["broken"].status == "failed" and "KeyError" in (reports["broken"].error or "")
    assert result.evidence


async def test_a_provider_on_a_private_address_is_refused_unless_allowed(providers, make_service) -> None:
    settings = settings_for(providers, fast=True)
    service = make_service(settings, allow_hosts=[])  # the web guard as shipped: loopback refused
    result = await service.run(ResearchRequest(question=QUESTION, depth="quick", sources=["crossref", "wikipedia"]))
    assert [s.status for s in result.sources] == ["failed", "failed"]
    assert all("may not be reached" in (s.error or "") for s in result.sources)
    assert providers["crossref"].seen == [] and providers["wikipedia"].seen == []

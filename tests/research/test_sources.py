"""The opt-in sources against their fakes, and the small pieces every source relies on: ids,
URLs, key terms and citation markers."""

from __future__ import annotations

import pytest

from mcp_workbench.research.identity import arxiv_id, canonical_url, normalise_doi
from mcp_workbench.research.models import ResearchRequest
from mcp_workbench.research.plan import key_terms, plan
from mcp_workbench.research.sources.openalex import abstract_text
from mcp_workbench.research.synthesis import markers, resolve_markers
from tests.research.fakes import settings_for

pytestmark = pytest.mark.anyio

DIET = "Does the Mediterranean diet prevent cardiovascular disease?"


async def test_the_opt_in_sources_speak_their_providers_formats(providers, make_service, monkeypatch) -> None:
    monkeypatch.setenv("OPENALEX_API_KEY", "oa-key")
    monkeypatch.setenv("SEMANTIC_SCHOLAR_API_KEY", "s2-key")
    enabled = {name: {"enabled": True} for name in ("openalex", "semantic_scholar", "pubmed", "searxng")}
    service = make_service(settings_for(providers, fast=True, sources=enabled))
    result = await service.run(
        ResearchRequest(question=DIET, sources=list(enabled), depth="quick"),
    )
    reports = {s.name: s for s in result.sources}
    assert all(r.status == "ok" and r.results > 0 for r in reports.values()), reports
    # the same trial from three providers is one item, with the others folded in
    trial = [item for item in result.evidence if item.doi == "10.5555/nejm.2018.0034"]
    assert len(trial) == 1 and len(trial[0].also_at) >= 1
    assert providers["openalex"].seen[0].params["api_key"] == "oa-key"
    assert providers["semantic_scholar"].seen[0].headers["x-api-key"] == "s2-key"
    pubmed = [s.path for s in providers["pubmed"].seen]
    assert pubmed == ["/entrez/eutils/esearch.fcgi", "/entrez/eutils/efetch.fcgi"]
    assert providers["pubmed"].seen[0].params["email"] == "research-tests@example.org"
    assert providers["searxng"].seen[0].params["format"] == "json"


async def test_searxng_without_a_base_url_is_skipped_with_the_reason(providers, make_service) -> None:
    settings = settings_for(providers, fast=True, sources={"searxng": {"enabled": True, "base_url": None}})
    result = await make_service(settings).run(ResearchRequest(question=DIET, sources=["searxng"]))
    assert result.sources[0].status == "skipped" and "base_url" in (result.sources[0].error or "")


def test_openalex_abstracts_are_rebuilt_from_the_inverted_index() -> None:
    assert abstract_text({"quick": [1], "The": [0], "fox": [2, 4], "red": [3]}) == "The quick fox red fox"
    assert abstract_text(None) == ""


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2101.00001v2", "2101.00001"),
        ("http://arxiv.org/abs/1706.03762v7", "1706.03762"),
        ("https://arxiv.org/pdf/1706.03762v7.pdf", "1706.03762"),
        ("arXiv:hep-th/9901001v1", "hep-th/9901001"),
        ("10.48550/arXiv.2406.15927", "2406.15927"),
        ("https://doi.org/10.5555/x", None),
        ("https://example.org/abs/2101.00001", None),
    ],
)
def test_arxiv_ids_lose_their_version(value, expected) -> None:
    assert arxiv_id(value) == expected


def test_dois_and_urls_are_compared_in_canonical_form() -> None:
    assert normalise_doi("https://doi.org/10.1000/ABC.def") == "10.1000/abc.def"
    assert normalise_doi("doi:10.1000/x).") == "10.1000/x"
    assert normalise_doi("not a doi") is None
    assert canonical_url("http://www.Example.com:80/a/b/?utm_source=x&z=1&a=2#top") == "https://example.com/a/b?a=2&z=1"
    assert canonical_url("https://m.example.com/a") == canonical_url("https://example.com/a/")
    assert canonical_url("mailto:x@example.com") is None


def test_key_terms_put_names_first_and_framing_words_last() -> None:
    assert key_terms("What are the effects of CRISPR on crops?") == ["crispr", "crops", "effects"]
    assert key_terms("How does mRNA vaccine technology work?")[0] == "mrna"
    assert key_terms("Why did the Roman Empire fall?")[:2] == ["empire", "roman"]


def test_a_comparison_is_planned_side_by_side() -> None:
    queries = plan("What is the difference between TCP and QUIC congestion control?", 3)
    assert [set(q.terms) for q in queries[1:]] == [{"tcp", "congestion", "control"}, {"quic", "congestion", "control"}]
    queries = plan("Rust vs Go for writing web servers", 3)
    assert {"rust", "web", "servers"} <= set(queries[1].terms) and {"go", "web", "servers"} <= set(queries[2].terms)


def test_plans_have_the_question_first_and_no_repeats() -> None:
    for depth in (1, 3, 5):
        queries = plan("How do green roofs reduce the urban heat island effect?", depth)
        assert queries[0].text.startswith("How do green roofs") and len(queries) <= depth
        assert len({frozenset(q.terms) for q in queries}) == len(queries)


def test_markers_that_resolve_to_nothing_are_removed() -> None:
    text, removed = resolve_markers("A [1]. B [2, 7]. C [9]. D [1-3].", 2)
    assert text == "A [1]. B [2]. C. D [1, 2]." and removed == 3
    assert markers(text) == [1, 2, 1, 2]

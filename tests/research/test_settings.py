"""``[research]``: defaults as the issue fixes them, partial entries merged, bad values refused."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from mcp_workbench.research.settings import ResearchSettings

KEYLESS = {"wikipedia", "arxiv", "crossref", "hackernews", "gdelt", "feeds"}
KEYED = {"openalex", "semantic_scholar", "pubmed", "searxng"}


def test_keyless_sources_are_on_and_keyed_ones_opt_in() -> None:
    settings = ResearchSettings()
    assert {n for n, s in settings.sources.items() if s.enabled} == KEYLESS
    assert {n for n, s in settings.sources.items() if not s.enabled} == KEYED
    assert settings.sources["arxiv"].base_url == "https://export.arxiv.org"
    assert settings.sources["crossref"].base_url == "https://api.crossref.org"
    assert settings.sources["wikipedia"].base_url == "https://en.wikipedia.org"
    assert settings.sources["hackernews"].base_url == "https://hn.algolia.com"
    assert settings.sources["gdelt"].base_url == "https://api.gdeltproject.org"
    assert settings.sources["openalex"].api_key_env == "OPENALEX_API_KEY"
    assert settings.time_budget_s == 45 and settings.heartbeat_s <= 15
    assert settings.depth("standard").sub_questions == 3


def test_an_entry_changes_only_what_it_names() -> None:
    settings = ResearchSettings(
        sources={"arxiv": {"base_url": "http://127.0.0.1:9000/"}, "gdelt": {"enabled": False}},
        depths={"quick": {"results_per_query": 3}},
    )
    assert settings.sources["arxiv"].base_url == "http://127.0.0.1:9000" and settings.sources["arxiv"].enabled
    assert not settings.sources["gdelt"].enabled
    assert settings.sources["gdelt"].base_url == "https://api.gdeltproject.org"
    assert settings.depth("quick").results_per_query == 3 and settings.depth("quick").sub_questions == 1


def test_the_contact_identifies_every_request() -> None:
    assert ResearchSettings(contact="ops@example.org").contact == "mailto:ops@example.org"
    settings = ResearchSettings(contact="mailto:ops@example.org")
    assert settings.mailto == "ops@example.org" and "+mailto:ops@example.org" in settings.user_agent
    assert ResearchSettings(contact="https://example.org/bot").mailto is None
    assert ResearchSettings().user_agent.startswith("mcp-workbench/")


def test_the_api_key_is_read_from_the_named_environment_variable(monkeypatch) -> None:
    settings = ResearchSettings(sources={"openalex": {"enabled": True}})
    monkeypatch.delenv("OPENALEX_API_KEY", raising=False)
    assert settings.sources["openalex"].api_key() is None
    monkeypatch.setenv("OPENALEX_API_KEY", "k-123")
    assert settings.sources["openalex"].api_key() == "k-123"


@pytest.mark.parametrize(
    "values",
    [
        {"sources": {"bing": {"enabled": True}}},
        {"sources": {"arxiv": {"base_url": "ftp://export.arxiv.org"}}},
        {"sources": {"arxiv": {"unknown": 1}}},
        {"sources": {"openalex": {"api_key_env": "not a name"}}},
        {"contact": "not a contact"},
        {"feeds": ["file:///etc/passwd"]},
        {"time_budget_s": 90},
        {"heartbeat_s": 30},
    ],
)
def test_bad_values_are_refused(values) -> None:
    with pytest.raises(ValidationError):
        ResearchSettings(**values)

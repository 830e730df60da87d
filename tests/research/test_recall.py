"""The corpus: for every question, the known relevant items are found and ranked into the top 10,
every citation of the synthesis resolves to returned evidence, and the result has the tool's shape.

The fakes search their documents with their own engine; nothing here knows the answers except
the corpus' relevance lists, which the pipeline never sees.
"""

from __future__ import annotations

import pytest

from mcp_workbench.research.models import ResearchRequest
from mcp_workbench.research.synthesis import markers
from tests.research.corpus_keys import canonical_keys, keys_of
from tests.research.fakes import KEYLESS, load_questions, settings_for

pytestmark = pytest.mark.anyio

RECALL_BAR = 0.8
SHAPE = {
    "question",
    "plan",
    "evidence",
    "synthesis",
    "synthesis_route",
    "sources",
    "validation",
    "confidence",
    "continuation",
}
EVIDENCE_SHAPE = {"n", "id", "source", "title", "url", "uri", "doi", "published", "authors", "excerpt", "score",
                  "also_at", "also_from"}  # fmt: skip
VALIDATION_SHAPE = {"score", "citations_resolved", "supported_sentences", "cited_sentences", "source_diversity",
                    "coverage"}  # fmt: skip


def test_the_corpus_is_large_and_its_answers_exist(documents) -> None:
    questions = load_questions()
    ids = {doc.id for doc in documents}
    assert len(questions) >= 30
    assert all(set(q["relevant"]) <= ids for q in questions)
    relevant = {r for q in questions for r in q["relevant"]}
    assert {doc.provider for doc in documents if doc.id in relevant} >= set(KEYLESS)  # every source has answers


async def test_recall_at_10_of_the_known_items_and_every_citation_resolves(providers, make_service) -> None:
    service = make_service(settings_for(providers, fast=True))
    recalls = {}
    for question in load_questions():
        result = await service.run(ResearchRequest(question=question["question"]))
        data = result.to_dict()
        assert set(data) == SHAPE
        assert all(set(item) == EVIDENCE_SHAPE for item in data["evidence"])
        assert set(data["validation"]) >= VALIDATION_SHAPE
        assert [item["n"] for item in data["evidence"]] == list(range(1, len(data["evidence"]) + 1))
        assert len(data["evidence"]) <= 10
        cited = markers(result.synthesis)
        assert cited, f"{question['id']}: the synthesis cites nothing"
        assert set(cited) <= {item.n for item in result.evidence}, question["id"]
        assert result.validation.citations_resolved
        assert [s.name for s in result.sources] == list(KEYLESS)
        assert all(s.status == "ok" for s in result.sources), result.sources
        found = set().union(*(keys_of(item) for item in result.evidence))
        hits = [r for r in question["relevant"] if canonical_keys({r}) & found]
        recalls[question["id"]] = len(hits) / len(question["relevant"])
    mean = sum(recalls.values()) / len(recalls)
    assert mean >= RECALL_BAR, sorted(recalls.items(), key=lambda kv: kv[1])[:5]


async def test_a_result_is_validated_and_rendered_with_a_numbered_source_list(providers, make_service) -> None:
    service = make_service(settings_for(providers, fast=True))
    result = await service.run(ResearchRequest(question="Does the Mediterranean diet prevent cardiovascular disease?"))
    v = result.validation
    assert 0 <= v.score <= 1 and v.cited_sentences >= 2 and v.supported_sentences == v.cited_sentences
    assert v.coverage == 1.0 and v.source_diversity > 0 and result.confidence in ("medium", "high")
    assert result.synthesis_route == "extractive" and result.continuation is None
    text = service.render(result)
    tail = text.split("\nSources:\n", 1)[1].splitlines()
    assert [line.split("]", 1)[0] for line in tail] == [f"[{item.n}" for item in result.evidence]
    assert all((item.url or "") in line for item, line in zip(result.evidence, tail, strict=True))


async def test_a_question_nothing_matches_gives_an_honest_empty_answer(providers, make_service) -> None:
    service = make_service(settings_for(providers, fast=True))
    result = await service.run(ResearchRequest(question="zxqvwy plorfnax gribbleworth"))
    assert result.evidence == [] and markers(result.synthesis) == []
    assert result.validation.score == 0 and result.confidence == "low"
    assert all(s.status == "ok" and s.results == 0 for s in result.sources)

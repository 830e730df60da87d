"""The run as a whole: progress, the time budget and its continuation, duplicates folded, injected
model steps (planner, synthesiser, reader) and local sources behind the same interface."""

from __future__ import annotations

import json
import time

import anyio
import pytest

from mcp_workbench.platform.errors import InvalidInput
from mcp_workbench.research.models import Evidence, EvidenceItem, Progress, ResearchRequest, SubQuery
from mcp_workbench.research.sources.base import SearchContext
from mcp_workbench.research.synthesis import Draft, markers
from tests.research.fakes import KEYLESS, Failure, settings_for

pytestmark = pytest.mark.anyio

QUESTION = "How do surface codes enable quantum error correction?"


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[float, Progress]] = []

    async def __call__(self, progress: Progress) -> None:
        self.events.append((time.monotonic(), progress))

    @property
    def phases(self) -> list[str]:
        return [p.phase for _, p in self.events]


async def test_progress_starts_before_any_source_is_asked_and_reports_every_phase_and_source(
    providers, make_service
) -> None:
    recorder = Recorder()
    service = make_service(settings_for(providers, fast=True))
    await service.run(ResearchRequest(question=QUESTION), progress=recorder)
    first_request = min(s.arrived for p in providers.values() for s in p.seen)
    assert recorder.events[0][0] < first_request and recorder.phases[0] == "plan"
    for phase in ("plan", "gather", "rank", "synthesise", "validate", "done"):
        assert phase in recorder.phases
    finished = [p.message for _, p in recorder.events if p.phase == "gather" and ":" in p.message]
    assert sorted(m.split(":")[0] for m in finished) == sorted(KEYLESS)
    values = [p.progress for _, p in recorder.events]
    assert values == sorted(values) and values[-1] == recorder.events[-1][1].total


async def test_a_heartbeat_is_sent_while_a_slow_source_keeps_the_run_waiting(providers, make_service) -> None:
    providers["gdelt"].failure = Failure("hang")
    recorder = Recorder()
    settings = settings_for(providers, fast=True, heartbeat_s=0.2, sources={"gdelt": {"timeout_s": 1.5}})
    result = await make_service(settings).run(ResearchRequest(question=QUESTION, depth="quick"), progress=recorder)
    events = [p for _, p in recorder.events]
    gdelt_done = next(i for i, p in enumerate(events) if p.phase == "gather" and p.message.startswith("gdelt:"))
    beats = [p for p in events[:gdelt_done] if p.phase == "heartbeat"]
    assert beats and all("gdelt" in p.message for p in beats)
    assert beats[-1].message.endswith("waiting for gdelt")
    assert {s.name: s.status for s in result.sources}["gdelt"] == "timeout"


async def test_a_failing_progress_callback_does_not_fail_the_run(providers, make_service) -> None:
    async def gone(progress: Progress) -> None:
        raise ConnectionResetError("client left")

    result = await make_service(settings_for(providers, fast=True)).run(
        ResearchRequest(question=QUESTION, depth="quick"), progress=gone
    )
    assert result.evidence


async def test_at_the_budget_the_run_returns_what_it_has_and_a_continuation_finishes_it(
    providers, make_service
) -> None:
    providers["arxiv"].failure = Failure("hang", times=1)
    service = make_service(settings_for(providers, fast=True))
    started = anyio.current_time()
    first = await service.run(ResearchRequest(question=QUESTION, time_budget_s=2.0))
    assert anyio.current_time() - started < 5  # returned at its budget, not at arXiv's own timeout
    reports = {s.name: s for s in first.sources}
    assert reports["arxiv"].status == "timeout" and "continuation" in (reports["arxiv"].error or "")
    assert all(r.status == "ok" for n, r in reports.items() if n != "arxiv")
    assert first.state is not None and first.state["pending"] == {"arxiv": [0]}
    assert first.evidence and all(item.source != "arxiv" for item in first.evidence)
    assert "continuation" in service.render(first)

    state = json.loads(json.dumps(first.state))  # what travels through a sealed token
    asked = {name: len(p.seen) for name, p in providers.items()}
    second = await service.run(ResearchRequest(question="ignored when continuing"), continuation=state)
    assert second.question == QUESTION and second.state is None and second.continuation is None
    assert [s.name for s in second.sources] == list(KEYLESS)
    assert {s.name: s.status for s in second.sources} == dict.fromkeys(KEYLESS, "ok")
    assert any(item.source == "arxiv" for item in second.evidence)
    assert all(len(p.seen) == asked[name] for name, p in providers.items() if name != "arxiv")


async def test_a_sealer_turns_the_state_into_the_continuation_token(providers, make_service) -> None:
    providers["gdelt"].failure = Failure("hang", times=1)
    service = make_service(settings_for(providers, fast=True))
    result = await service.run(
        ResearchRequest(question=QUESTION, time_budget_s=1.5), sealer=lambda state: f"sealed:{len(json.dumps(state))}"
    )
    assert result.continuation is not None and result.continuation.startswith("sealed:")
    assert result.to_dict()["continuation"] == result.continuation and "state" not in result.to_dict()


@pytest.mark.parametrize(
    "state",
    [
        {"v": 1},
        {"v": 2, "question": "x"},
        "not a state",
        {
            "v": 1,
            "question": "q",
            "depth": "standard",
            "max_results": 10,
            "round": 1,
            "plan": [{"text": "q", "terms": ["q"]}],
            "evidence": [],
            "reports": [],
            "pending": {},
        },
    ],
)
async def test_a_continuation_that_is_not_ours_is_a_validation_error(providers, make_service, state) -> None:
    service = make_service(settings_for(providers, fast=True))
    with pytest.raises(InvalidInput):
        await service.run(ResearchRequest(question=QUESTION), continuation=state)


def test_the_state_stays_under_its_size_bound() -> None:
    from mcp_workbench.research.continuation import from_state, to_state
    from mcp_workbench.research.models import SourceReport

    plan = [SubQuery(0, QUESTION, ("surface", "codes"))]
    many = [
        Evidence("crossref", f"Paper {i} on surface codes", "x " * 2000, url=f"https://doi.org/10.5555/{i}")
        for i in range(400)
    ]
    state = to_state(question=QUESTION, depth="standard", max_results=10, since=None, round_=1, plan=plan,
                     evidence=many, reports=[SourceReport("crossref", "ok", 400)], pending={"arxiv": [0]},
                     max_bytes=20_000)  # fmt: skip
    assert len(json.dumps(state, separators=(",", ":")).encode()) <= 20_000
    assert state["evidence"][0]["title"] == "Paper 0 on surface codes"  # the best-ranked are kept
    assert from_state(state, max_bytes=20_000).pending == {"arxiv": [0]}
    with pytest.raises(InvalidInput, match="too large"):
        from_state({**state, "padding": "x" * 30_000}, max_bytes=20_000)


async def test_duplicates_across_sources_fold_into_one_item_with_its_other_addresses(providers, make_service) -> None:
    service = make_service(settings_for(providers, fast=True))
    result = await service.run(ResearchRequest(question="Attention Is All You Need: the transformer paper"))
    attention = [item for item in result.evidence if item.title == "Attention Is All You Need"]
    assert len(attention) == 1
    assert "https://news.ycombinator.com/item?id=14542191" in attention[0].also_at
    result = await service.run(ResearchRequest(question=QUESTION))
    scaled = [item for item in result.evidence if item.title.startswith("Suppressing quantum errors")]
    assert len(scaled) == 1 and scaled[0].doi == "10.5555/nature.2023.0001"
    assert any("doi.org" in address for address in scaled[0].also_at)


async def test_a_model_synthesis_keeps_only_markers_that_resolve(providers, make_service) -> None:
    seen: list[list[EvidenceItem]] = []

    async def model(question: str, plan: list[str], items: list[EvidenceItem]) -> Draft:
        seen.append(items)
        return Draft(
            f"Surface codes protect logical qubits from errors [1]. Larger codes lower the error rate [1, 99]. "
            f"Quantum error correction uses decoders [42]. Real-time decoding of surface codes uses neural "
            f"networks [{len(items)}].",
            "session",
        )

    service = make_service(settings_for(providers, fast=True))
    result = await service.run(ResearchRequest(question=QUESTION), synthesiser=model)
    assert seen and result.synthesis_route == "session"
    assert "[99]" not in result.synthesis and "[42]" not in result.synthesis and "[1, 99]" not in result.synthesis
    assert set(markers(result.synthesis)) <= set(range(1, len(result.evidence) + 1))
    assert result.validation.removed_markers == 2 and result.validation.citations_resolved
    assert result.validation.cited_sentences == 3  # the sentence whose only marker resolved to nothing lost it


async def test_a_failing_model_leaves_the_extractive_synthesis(providers, make_service) -> None:
    async def planner(question: str, count: int) -> list[str]:
        raise TimeoutError("the model did not answer")

    async def model(question: str, plan: list[str], items: list[EvidenceItem]) -> Draft:
        raise RuntimeError("sampling refused")

    service = make_service(settings_for(providers, fast=True))
    result = await service.run(ResearchRequest(question=QUESTION), planner=planner, synthesiser=model)
    assert result.synthesis_route == "extractive" and markers(result.synthesis)
    assert result.plan[0] == QUESTION and len(result.plan) > 1


async def test_a_models_plan_is_used_after_the_question_itself(providers, make_service) -> None:
    async def planner(question: str, count: int) -> list[str]:
        return ["How are surface code decoders built?", "What is the threshold of the surface code?"][:count]

    service = make_service(settings_for(providers, fast=True))
    result = await service.run(ResearchRequest(question=QUESTION), planner=planner)
    assert result.plan == [
        QUESTION,
        "How are surface code decoders built?",
        "What is the threshold of the surface code?",
    ]
    queries = {s.params.get("query.bibliographic") for s in providers["crossref"].seen}
    assert any("decoders" in (q or "") for q in queries)


async def test_pages_read_give_better_passages(providers, make_service) -> None:
    page = (
        "Cookie banner. Navigation. Surface codes arrange physical qubits on a lattice and measure "
        "stabilizers to detect errors. A decoder infers the most likely error from the syndrome, and quantum "
        "error correction succeeds when the physical error rate is below the surface code threshold. Footer."
    )
    read: list[str] = []

    async def reader(url: str) -> str:
        read.append(url)
        return page

    service = make_service(settings_for(providers, fast=True))
    result = await service.run(ResearchRequest(question=QUESTION), reader=reader)
    assert 1 <= len(read) <= 3
    improved = [item for item in result.evidence if "stabilizers" in item.excerpt]
    assert improved and "Cookie banner" not in improved[0].excerpt


class Notes:
    """A local source, as the files or data capability will provide one: evidence with a uri."""

    name = "files"
    max_queries = None

    async def search(self, query: SubQuery, ctx: SearchContext) -> list[Evidence]:
        return [
            Evidence(
                source="files",
                title="lab-notes/surface-code-experiment.md",
                excerpt="Our surface code experiment reached a logical error rate below the physical error rate "
                "after adding a faster decoder for quantum error correction.",
                uri="files://notes/lab-notes/surface-code-experiment.md",
                kind="local",
            )
        ]


async def test_local_sources_answer_through_the_same_interface(providers, make_service) -> None:
    service = make_service(settings_for(providers, fast=True))
    result = await service.run(ResearchRequest(question=QUESTION), local=[Notes()])
    assert result.sources[0].name == "files" and result.sources[0].status == "ok"
    local = [item for item in result.evidence if item.source == "files"]
    assert local and local[0].uri == "files://notes/lab-notes/surface-code-experiment.md" and local[0].url is None
    assert "files" in service.source_names([Notes()])


async def test_naming_sources_asks_only_those_and_reports_skipped_ones(providers, make_service, monkeypatch) -> None:
    monkeypatch.delenv("OPENALEX_API_KEY", raising=False)
    settings = settings_for(
        providers, fast=True, sources={"hackernews": {"enabled": False}, "openalex": {"enabled": True}}
    )
    service = make_service(settings)
    result = await service.run(
        ResearchRequest(question=QUESTION, sources=["crossref", "hackernews", "openalex", "searxng"])
    )
    reports = {s.name: s for s in result.sources}
    assert reports["crossref"].status == "ok"
    assert reports["hackernews"].status == "skipped" and "disabled" in (reports["hackernews"].error or "")
    assert reports["openalex"].status == "skipped" and "OPENALEX_API_KEY" in (reports["openalex"].error or "")
    assert providers["hackernews"].seen == [] and providers["arxiv"].seen == []


async def test_an_unknown_source_is_a_validation_error_with_a_suggestion(providers, make_service) -> None:
    service = make_service(settings_for(providers, fast=True))
    with pytest.raises(InvalidInput) as caught:
        await service.run(ResearchRequest(question=QUESTION, sources=["arxive"]))
    assert caught.value.details["did_you_mean"] == ["arxiv"]
    assert all(p.seen == [] for p in providers.values())


async def test_since_is_passed_to_the_providers_and_older_evidence_is_dropped(providers, make_service) -> None:
    service = make_service(settings_for(providers, fast=True))
    result = await service.run(
        ResearchRequest(question="How does sleep deprivation affect memory consolidation?", since="2020-01-01")
    )
    assert all(item.published is None or item.published >= "2020" for item in result.evidence)
    assert any("from-pub-date:2020-01-01" in s.params.get("filter", "") for s in providers["crossref"].seen)
    assert any("submittedDate:[202001010000" in s.params.get("search_query", "") for s in providers["arxiv"].seen)
    assert any(s.params.get("startdatetime") == "20200101000000" for s in providers["gdelt"].seen)

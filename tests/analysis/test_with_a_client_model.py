"""``analyze`` with the caller's own model, in both eras (session route, guard route): the loop
keeps the best, stops at the threshold, on a plateau or at max_iterations, and ends with the best
so far when a request is refused."""

from __future__ import annotations

import pytest
from mcp.shared.exceptions import MCPError

from tests.analysis.example import CONTEXT, TASK
from tests.analysis.scripted import JUDGE_SYSTEM, ScriptedModel

pytestmark = pytest.mark.anyio

ROUTE = {"legacy": "session", "auto": "guard"}


async def test_stops_at_the_threshold_with_its_history(era, sampling, analysis_settings, model: ScriptedModel) -> None:
    model.marks = lambda k, c: 5 if (k, c) == (2, 0) else 3
    async with sampling(analysis_settings()) as session:
        out = await session.ok("analyze", task=TASK, context=CONTEXT, max_iterations=4)
    assert out["route"] == ROUTE[era]
    assert (out["stop_reason"], out["threshold_met"], out["iterations_used"]) == ("threshold", True, 2)
    assert out["quality_score"] == 1.0 and out["result"].startswith("[draft k2c0]")
    assert out["history"] == [{"iteration": 1, "score": 0.5, "best": 0.5}, {"iteration": 2, "score": 1.0, "best": 1.0}]
    assert set(out["scores"]) == {
        "Answers the task directly and completely",
        "Every claim and figure is supported by the context",
        "Clear structure: the main finding first, then the evidence",
        "States the limits of the data and what remains uncertain",
    }
    assert [c["name"] for c in out["checks"]] == ["figures", "quotes", "length"]
    assert all(c["passed"] for c in out["checks"])
    assert model.candidates == 4  # nothing asked after the threshold was met
    assert "meets the quality threshold" in out["next_step"]


async def test_the_best_is_kept_and_never_replaced_by_a_lower_score(sampling, analysis_settings, model) -> None:
    model.marks = lambda k, c: {(1, 1): 4}.get((k, c), 2)
    async with sampling(analysis_settings(plateau_rounds=8)) as session:
        out = await session.ok("analyze", task=TASK, context=CONTEXT, max_iterations=3)
    assert out["stop_reason"] == "max_iterations" and not out["threshold_met"]
    assert out["result"].startswith("[draft k1c1]") and out["quality_score"] == 0.75
    assert [(h["score"], h["best"]) for h in out["history"]] == [(0.75, 0.75), (0.25, 0.75), (0.25, 0.75)]
    # every revision started from the best draft, with the judge's reasons as feedback
    for revision in model.prompts[1:]:
        assert "The best draft so far:\n[Draft]\n[draft k1c1]" in revision
        assert "4/5 — mark 4 for k1c1" in revision
    assert "below the threshold 0.8; max_iterations were used" in out["next_step"]


async def test_stops_on_a_plateau(sampling, analysis_settings, model) -> None:
    async with sampling(analysis_settings()) as session:
        out = await session.ok("analyze", task=TASK, context=CONTEXT, max_iterations=4)
    assert (out["stop_reason"], out["iterations_used"], out["quality_score"]) == ("plateau", 3, 0.5)
    assert model.candidates == 6


async def test_the_judge_sees_the_candidates_in_a_different_order_each_iteration(
    sampling, analysis_settings, model
) -> None:
    async with sampling(analysis_settings(plateau_rounds=8)) as session:
        await session.ok("analyze", task=TASK, context=CONTEXT, max_iterations=3, candidates=3)
    orders = [[c for _, c in shown] for shown in model.judged]
    assert len(orders) == 3 and len({tuple(o) for o in orders}) == 3
    judge = [r for r in model.requests if r["system"] == JUDGE_SYSTEM]
    writers = [r for r in model.requests if r["system"] != JUDGE_SYSTEM]
    assert {r["temperature"] for r in judge} == {0.0}
    assert len({r["temperature"] for r in writers}) == 3  # the candidates of a round differ


async def test_failed_checks_cost_a_candidate_its_place(sampling, analysis_settings, model) -> None:
    """A draft citing a figure and a quote the context does not hold loses to an honest one rated lower."""
    invented = model.body.replace("120 units", "150 units") + ' The manager wrote: "We doubled our sales."'
    model.body_of = lambda k, c: invented if c == 0 else model.body
    model.marks = lambda k, c: 5 if c == 0 else 4
    async with sampling(analysis_settings()) as session:
        out = await session.ok("analyze", task=TASK, context=CONTEXT, max_iterations=1)
    assert out["result"].startswith("[draft k1c1]") and out["quality_score"] == 0.75
    assert out["history"] == [{"iteration": 1, "score": 0.75, "best": 0.75}]  # 1.0 x 0.8 x 0.8 = 0.64 for c0


async def test_eight_iterations_fit_the_rounds_a_client_allows(era, sampling, analysis_settings, model) -> None:
    async with sampling(analysis_settings(plateau_rounds=8), input_required_max_rounds=10) as session:
        out = await session.ok("analyze", task=TASK, context=CONTEXT, max_iterations=8, quality_threshold=1.0)
    assert (out["stop_reason"], out["iterations_used"]) == ("max_iterations", 8)
    assert len(model.judged) == 8 and model.candidates == 16


async def test_progress_is_reported_at_each_stage_and_round(era, sampling, analysis_settings, model) -> None:
    seen: list[str] = []

    async def progress(done: float, total: float | None, message: str | None) -> None:
        seen.append(message or "")

    async with sampling(analysis_settings(), progress_handler=progress) as session:
        await session.ok("analyze", task=TASK, context=CONTEXT, max_iterations=1)
    route = ROUTE[era]
    assert seen[0] == "gathering 1 context item(s)"
    assert f"round 1 ({route}): 2 candidate(s) for iteration 1" in seen
    assert f"round 2 ({route}): judging iteration 1" in seen
    assert seen[1] == "context profiled: 189 characters" and seen[-1] == "finished: max_iterations, score 0.50"


# --- refusals -------------------------------------------------------------------------------------


@pytest.mark.parametrize("era", ["legacy"])
async def test_a_refusal_on_the_session_route_returns_the_best_so_far(sampling, analysis_settings, model) -> None:
    model.refuse_at = ("candidate", 2)
    async with sampling(analysis_settings()) as session:
        out = await session.ok("analyze", task=TASK, context=CONTEXT, max_iterations=3)
    assert out["route"] == "session"
    assert (out["stop_reason"], out["iterations_used"], out["quality_score"]) == ("declined", 1, 0.5)
    assert out["result"].startswith("[draft k1c")
    assert "declined" in out["next_step"] and "the person declined iteration 2" in out["next_step"]


@pytest.mark.parametrize("era", ["legacy"])
async def test_a_refused_judgement_keeps_the_best_unjudged_candidate(sampling, analysis_settings, model) -> None:
    model.refuse_at = ("judge", 1)
    async with sampling(analysis_settings()) as session:
        out = await session.ok("analyze", task=TASK, context=CONTEXT)
    assert (out["stop_reason"], out["iterations_used"]) == ("declined", 0)
    assert out["result"].startswith("[draft k1c0]") and out["quality_score"] == 0.5  # half: all checks, no judge


async def test_a_refusal_on_the_guard_route_ends_the_call_on_the_client(analysis_settings, model) -> None:
    """The client fails the whole call when a person refuses; the server holds nothing of it."""
    from fastmcp import Client

    from mcp_workbench.server import build_server

    model.refuse_at = ("candidate", 2)
    async with Client(build_server(analysis_settings()), sampling_handler=model.sampling_handler()) as client:
        with pytest.raises(MCPError, match="the person declined iteration 2"):
            await client.call_tool_mcp("analyze", {"task": TASK, "context": CONTEXT})
        model.refuse_at = None
        model.prompts.clear()
        result = await client.call_tool_mcp("analyze", {"task": TASK, "context": CONTEXT, "max_iterations": 1})
    assert result.structured_content["stop_reason"] == "max_iterations"


async def test_an_unreadable_judgement_is_not_a_refusal(sampling, analysis_settings, model) -> None:
    model.garble_judge = True
    async with sampling(analysis_settings()) as session:
        out = await session.ok("analyze", task=TASK, context=CONTEXT, max_iterations=2)
    assert (out["stop_reason"], out["iterations_used"], out["quality_score"]) == ("max_iterations", 2, 0.5)
    assert out["scores"] == {}

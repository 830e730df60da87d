"""The research run's model steps (a plan of sub-questions, a cited synthesis) on a caller's or
the server's model, through the sampling bridge.

On the routes that answer inline (the handshake era's sampling, a server model) each step is
one completion the pipeline awaits where it needs it. The 2026-07-28 guard route cannot pause
a run that is gathering from the network, so there the run plans from the question's key terms
and finishes with its extractive synthesis; then :class:`GuardSynthesis` hands the client one
round asking its model for the cited synthesis, with the finished result sealed in the round's
state. The client's answer comes back in a second ``tools/call`` (on any replica), which only
replaces the synthesis and scores it again: nothing is gathered twice. An answer that is
missing, empty or late leaves the extractive synthesis (a client that refuses the request ends
the call on its own side, as on any guard round).
"""

from __future__ import annotations

from collections.abc import Sequence

from mcp_workbench.platform.sampling import (
    Ask,
    Budget,
    Completion,
    CompletionRequest,
    Done,
    Pending,
    Route,
    Sampler,
    State,
    StopReason,
)
from mcp_workbench.research.models import Evidence, EvidenceItem, ResearchResult, SynthesisRoute
from mcp_workbench.research.plan import Planner
from mcp_workbench.research.synthesis import Draft, Synthesiser, resolve_markers
from mcp_workbench.research.text import clip
from mcp_workbench.research.validation import confidence, score_synthesis

INLINE_ROUTES = (Route.SESSION, Route.SERVER_MODEL)
STEP_BUDGET_S = 40.0
EXCERPT_CHARS = 700

SYNTHESIS_SYSTEM = (
    "You answer research questions from numbered evidence only. Every sentence that states a fact ends with "
    "the marker of the evidence that supports it, like [2] or [1, 3]. Never cite a number that is not listed. "
    "When the evidence does not answer part of the question, say so. Plain prose, no headings."
)


class OneCompletion:
    """An algorithm of a single request, whose answer is the result (None when it failed)."""

    def __init__(self, request: CompletionRequest) -> None:
        self.request = request

    def start(self) -> Ask | Done[str | None]:
        return Ask([self.request], {}, note="asking the model")

    def resume(self, state: State, answers: Sequence[Completion]) -> Ask | Done[str | None]:
        answer = answers[0] if answers else None
        return Done(answer.text.strip() if answer is not None and answer.ok and answer.text else None)

    def stop(self, state: State, reason: StopReason) -> Done[str | None]:
        return Done(None)


async def _ask(sampler: Sampler, request: CompletionRequest) -> str | None:
    outcome = await sampler.run(OneCompletion(request), Budget(STEP_BUDGET_S))
    return None if isinstance(outcome, Pending) else outcome


def planner(sampler: Sampler) -> Planner | None:
    """Sub-questions from the model, or None when this call's route cannot answer inline."""
    if sampler.route not in INLINE_ROUTES:
        return None

    async def plan(question: str, count: int) -> list[str]:
        prompt = (
            f"Split this research question into at most {count} short, self-contained search questions, one per "
            f"line, most important first, no numbering:\n\n{question}"
        )
        text = await _ask(sampler, CompletionRequest.single(prompt, max_tokens=300, temperature=0.0))
        lines = [line.strip(" -*\t0123456789.)") for line in (text or "").splitlines()]
        return [line for line in lines if len(line) > 3][:count]

    return plan


def synthesiser(sampler: Sampler) -> Synthesiser | None:
    """A cited synthesis from the model, or None when this call's route cannot answer inline."""
    if sampler.route not in INLINE_ROUTES:
        return None
    route: SynthesisRoute = "session" if sampler.route is Route.SESSION else "server_model"

    async def synthesise(question: str, plan: list[str], items: list[EvidenceItem]) -> Draft | None:
        text = await _ask(sampler, synthesis_request(question, plan, items))
        return Draft(text, route) if text else None

    return synthesise


def synthesis_request(question: str, plan: list[str], items: list[EvidenceItem]) -> CompletionRequest:
    """The request for a cited synthesis of the numbered ``items``."""
    listed = "\n".join(
        f"[{item.n}] {clip(item.title, 200)} ({item.source}): {clip(item.excerpt, EXCERPT_CHARS)}" for item in items
    )
    aspects = "\n".join(f"- {part}" for part in plan)
    prompt = f"Question: {question}\n\nAspects to cover:\n{aspects}\n\nEvidence:\n{listed}\n\nAnswer:"
    return CompletionRequest(
        messages=CompletionRequest.single(prompt, max_tokens=900).messages,
        max_tokens=900,
        system=SYNTHESIS_SYSTEM,
        temperature=0.2,
    )


class GuardSynthesis:
    """One guard round for the synthesis of a finished run (see the module docstring).

    The state is the result itself (``to_dict()``), so the round that resumes it needs nothing
    but the client's answer. A later round builds this with no result: only ``resume`` and
    ``stop`` run then, from the state.
    """

    def __init__(self, result: ResearchResult | None = None) -> None:
        self.result = result

    def start(self) -> Ask | Done[ResearchResult]:
        result = self.result
        if result is None or not result.evidence:
            raise RuntimeError("a guard synthesis starts from a finished result with evidence")
        request = synthesis_request(result.question, result.plan, result.evidence)
        return Ask([request], {"result": result.to_dict()}, note="asking your model for the cited synthesis")

    def resume(self, state: State, answers: Sequence[Completion]) -> Done[ResearchResult]:
        result = ResearchResult.from_dict(state["result"])
        answer = answers[0] if answers else None
        if answer is None or not answer.ok or not (answer.text or "").strip():
            return Done(result)
        return Done(with_synthesis(result, Draft(str(answer.text).strip(), "guard")))

    def stop(self, state: State, reason: StopReason) -> Done[ResearchResult]:
        return Done(ResearchResult.from_dict(state["result"]))


def with_synthesis(result: ResearchResult, draft: Draft) -> ResearchResult:
    """``result`` with a model's synthesis in place of the extractive one, its markers that point
    at nothing removed and its citations checked again against the excerpts the model was shown.
    Coverage and corroboration belong to the evidence, which has not changed."""
    text, removed = resolve_markers(draft.text, len(result.evidence))
    shown = [
        (item.n, Evidence(source=item.source, title=item.title, excerpt=item.excerpt, also_from=item.also_from))
        for item in result.evidence
    ]
    earlier = result.validation
    validation = score_synthesis(
        text,
        shown,
        coverage=earlier.coverage,
        corroboration=earlier.corroboration,
        sources_with_results=sum(1 for report in result.sources if report.results > 0),
        removed=removed,
    )
    result.synthesis, result.synthesis_route = text, draft.route
    result.validation, result.confidence = validation, confidence(validation)
    return result

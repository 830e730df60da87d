"""The research run's model steps (a plan of sub-questions, a cited synthesis) on a caller's or
the server's model, through the sampling bridge.

Each step is one completion. On the routes that answer inline (the handshake era's sampling,
a server model) the pipeline awaits it where it needs it; the 2026-07-28 guard route cannot
pause a run that is gathering from the network, so there the run uses its model-free steps
(key terms, the extractive synthesis) and says so in ``synthesis_route``.
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
from mcp_workbench.research.models import EvidenceItem, SynthesisRoute
from mcp_workbench.research.plan import Planner
from mcp_workbench.research.synthesis import Draft, Synthesiser
from mcp_workbench.research.text import clip

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
        listed = "\n".join(
            f"[{item.n}] {clip(item.title, 200)} ({item.source}): {clip(item.excerpt, EXCERPT_CHARS)}" for item in items
        )
        aspects = "\n".join(f"- {part}" for part in plan)
        prompt = f"Question: {question}\n\nAspects to cover:\n{aspects}\n\nEvidence:\n{listed}\n\nAnswer:"
        request = CompletionRequest(
            messages=CompletionRequest.single(prompt, max_tokens=900).messages,
            max_tokens=900,
            system=SYNTHESIS_SYSTEM,
            temperature=0.2,
        )
        text = await _ask(sampler, request)
        return Draft(text, route) if text else None

    return synthesise

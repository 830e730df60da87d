"""The analysis loop as a step machine: generate candidates, check and judge them, keep the best.

An iteration takes two rounds: its candidates, then their judgement; the next iteration's
candidates revise the best candidate so far, with the judge's reasons and the failed checks as
feedback. When that would not fit the rounds the route allows (a guard-route call may ask for
nine, and eight iterations would take sixteen), the rounds are pipelined: round *r* asks for the
candidates of iteration *r* together with the judgement of iteration *r − 1*, the last round
only judges, and a revision starts from the best candidate known when its round is asked (in
round 2, before any judgement, the first iteration's candidate that passed the most checks).
Pipelining costs feedback one iteration late, and a round of candidates nobody judges when the
threshold is met, so it is used only when needed.

After each judgement: the best candidate is replaced only by a strictly higher score; the loop
stops when the best reaches the threshold, when the best has not risen by ``plateau_delta``
over ``plateau_rounds`` iterations, or when ``max_iterations`` are judged. A refused or failed
request ends it (``declined``) with the best so far, after using whatever answers did arrive; a
driver ends it for time, rounds or state size (``budget``) the same way.

A candidate's score is the judge's mean over the criteria (0-1) times 0.8 per failed check. A
candidate the judge did not rate (its answer unreadable, or never asked) scores half the share
of checks it passes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mcp_workbench.analysis.checks import Check, checks_factor, checks_only_score, run_checks
from mcp_workbench.analysis.figures import ComputedFigures
from mcp_workbench.analysis.judge import Rating, judge_request, parse_judgement
from mcp_workbench.analysis.prompts import candidate_request, first_prompt, revision_prompt
from mcp_workbench.analysis.result import AnalysisResult, StopReason
from mcp_workbench.platform.sampling import Ask, Completion, CompletionRequest, Done, State, first_failure
from mcp_workbench.platform.sampling import StopReason as DriverStop


@dataclass(frozen=True)
class LoopSettings:
    """What one run of the loop is asked to do (from the call) and allowed (from the settings)."""

    task: str
    criteria: tuple[str, ...]
    custom_criteria: bool
    max_iterations: int
    threshold: float
    candidates: int
    route: str
    max_tokens: int
    judge_max_tokens: int
    min_words: int
    max_words: int
    plateau_delta: float
    plateau_rounds: int
    pipelined: bool = False


class AnalysisLoop:
    """The :class:`~mcp_workbench.platform.sampling.Algorithm` of ``analyze``."""

    def __init__(self, settings: LoopSettings, *, context: str = "", cut: Sequence[str] = ()) -> None:
        self.s = settings
        self._context = context
        self._cut = list(cut)
        self._figures: tuple[str, ComputedFigures] | None = None

    # --- the step machine -------------------------------------------------------------------------

    def start(self) -> Ask | Done[AnalysisResult]:
        state: State = {"ctx": self._context, "cut": self._cut, "it": 0, "pending": [], "pending_it": None,
                        "best": None, "hist": []}  # fmt: skip
        return self._next(state)

    def resume(self, state: State, answers: Sequence[Completion]) -> Ask | Done[AnalysisResult]:
        batch = state.pop("batch")
        generated = answers[: batch["n"]]
        judged = answers[batch["n"]] if batch["judge"] is not None else None
        if judged is not None and judged.ok:
            self._apply_judgement(state, judged.text or "", batch["order"])
        failed = first_failure(answers)
        if failed is not None:
            state["declined"] = failed.error
            return self._finish(state, "declined")
        if batch["gen"] is not None:
            state["pending"] = [self._candidate(state, a.text or "") for a in generated]
            state["pending_it"] = batch["gen"]
        if judged is not None and (reason := self._stop_reason(state)) is not None:
            return self._finish(state, reason)
        return self._next(state)

    def stop(self, state: State, reason: DriverStop) -> Done[AnalysisResult]:
        state.pop("batch", None)
        return self._finish(state, reason)

    # --- rounds -----------------------------------------------------------------------------------

    def _next(self, state: State) -> Ask | Done[AnalysisResult]:
        requests: list[CompletionRequest] = []
        judge: int | None = state["pending_it"]
        shown: list[int] = []
        more = state["it"] < self.s.max_iterations and (judge is None or self.s.pipelined)
        generate = state["it"] + 1 if more else None
        if generate is not None:
            prompt = self._generation_prompt(state)
            requests = [candidate_request(prompt, i, max_tokens=self.s.max_tokens) for i in range(self.s.candidates)]
            state["it"] = generate
        if judge is not None:
            drafts = [c["text"] for c in state["pending"]]
            request, shown = judge_request(self.s.task, state["ctx"], self.s.criteria, drafts, judge,
                                           max_tokens=self.s.judge_max_tokens)  # fmt: skip
            requests.append(request)
        if not requests:
            return self._finish(state, "max_iterations")
        state["batch"] = {"gen": generate, "n": len(requests) - (judge is not None), "judge": judge, "order": shown}
        notes = []
        if generate is not None:
            notes.append(f"{self.s.candidates} candidate(s) for iteration {generate}")
        if judge is not None:
            notes.append(f"judging iteration {judge}")
        return Ask(requests, state, " and ".join(notes), progress=(len(state["hist"]), self.s.max_iterations))

    def _generation_prompt(self, state: State) -> str:
        common = {"min_words": self.s.min_words, "max_words": self.s.max_words}
        parent = state["best"] or _most_checked(state["pending"])
        if parent is None:
            return first_prompt(self.s.task, state["ctx"], self.s.criteria, **common)
        feedback = self._feedback(parent)
        judged = state["hist"][-1]["iteration"] if state["hist"] else 0
        if (stale := judged - parent.get("iteration", judged)) > 0:
            feedback.append(f"The revisions of the last {stale} iteration(s) scored no higher than this draft: "
                            "take a different approach to the issues above rather than small edits.")  # fmt: skip
        return revision_prompt(self.s.task, state["ctx"], self.s.criteria, parent["text"], feedback, **common)

    def _feedback(self, candidate: dict[str, Any]) -> list[str]:
        lines = []
        for criterion, score, reason in zip(
            self.s.criteria, candidate.get("scores") or [], candidate.get("reasons") or [], strict=False
        ):
            if score is None or score < 1:
                mark = "not rated" if score is None else f"{round(score * 4 + 1)}/5"
                lines.append(f"{criterion}: {mark}" + (f" — {reason}" if reason else ""))
        lines.extend(f"check {c['name']} failed: {c['detail']}" for c in candidate["checks"] if not c["passed"])
        return lines

    # --- candidates and judgements --------------------------------------------------------------------

    def _computed(self, context: str) -> ComputedFigures:
        if self._figures is None or self._figures[0] is not context:
            self._figures = (context, ComputedFigures.of(context, self.s.task))
        return self._figures[1]

    def _candidate(self, state: State, text: str) -> dict[str, Any]:
        text = text.strip()
        checks = run_checks(
            text,
            context=state["ctx"],
            computed=self._computed(state["ctx"]),
            criteria=self.s.criteria if self.s.custom_criteria else (),
            min_words=self.s.min_words,
            max_words=self.s.max_words,
        )
        return {"text": text, "checks": [c.data() for c in checks]}

    def _apply_judgement(self, state: State, answer: str, shown: Sequence[int]) -> None:
        ratings = parse_judgement(answer, shown, len(self.s.criteria))
        iteration = state["pending_it"]
        top = 0.0
        for index, candidate in enumerate(state["pending"]):
            checks = [Check(**c) for c in candidate["checks"]]
            rating: Rating | None = ratings.get(index)
            if rating is None:
                candidate.update(score=checks_only_score(checks), scores=None, reasons=None)
            else:
                candidate.update(score=rating.mean * checks_factor(checks), scores=list(rating.scores),
                                 reasons=list(rating.reasons))  # fmt: skip
            candidate["iteration"] = iteration
            top = max(top, candidate["score"])
            if state["best"] is None or candidate["score"] > state["best"]["score"]:
                state["best"] = candidate
        best = state["best"]["score"] if state["best"] else 0.0
        state["hist"].append({"iteration": iteration, "score": round(top, 4), "best": round(best, 4)})
        state["pending"], state["pending_it"] = [], None

    def _stop_reason(self, state: State) -> StopReason | None:
        best = state["best"]["score"] if state["best"] else 0.0
        history = state["hist"]
        if best >= self.s.threshold:
            return "threshold"
        window = self.s.plateau_rounds
        if len(history) > window and history[-1]["best"] - history[-1 - window]["best"] < self.s.plateau_delta:
            return "plateau"
        if len(history) >= self.s.max_iterations:
            return "max_iterations"
        return None

    # --- the result -------------------------------------------------------------------------------

    def _finish(self, state: State, reason: StopReason) -> Done[AnalysisResult]:
        best = state["best"]
        if best is None and (unjudged := _most_checked(state["pending"])) is not None:
            checks = [Check(**c) for c in unjudged["checks"]]
            best = {**unjudged, "score": checks_only_score(checks), "scores": None}
        score = best["score"] if best else 0.0
        met = best is not None and score >= self.s.threshold
        scores = {}
        if best is not None and best.get("scores"):
            scores = {c: s or 0.0 for c, s in zip(self.s.criteria, best["scores"], strict=False)}
        history = [{"iteration": h["iteration"], "score": h["score"], "best": h["best"]} for h in state["hist"]]
        result = AnalysisResult(
            result=best["text"] if best else None,
            quality_score=score,
            threshold_met=met,
            iterations_used=len(history),
            stop_reason=reason,
            route=self.s.route,
            scores=scores,
            checks=best["checks"] if best else [],
            history=history,
            brief=None,
            next_step=self._next_step(reason, score, met, state.get("declined")),
            context_cut=list(state["cut"]),
        )
        return Done(result)

    def _next_step(self, reason: StopReason, score: float, met: bool, declined: str | None) -> str:
        if met:
            return "The analysis meets the quality threshold: present it to the user; the checks say what was verified."
        revise = (
            "Present it with its caveats, or revise it yourself from the failed checks and low scores and call "
            "analyze again with mode 'score' and your draft to check the revision."
        )
        if reason == "declined":
            return (f"The model request was declined or failed ({declined}). 'result' holds the best analysis so "
                    f"far (score {score:.2f}), if any. {revise} Without a model, mode 'brief' gives a brief to "
                    "write from.")  # fmt: skip
        why = {
            "plateau": "the score stopped improving",
            "max_iterations": "max_iterations were used",
            "budget": "the time or round budget ran out",
        }.get(reason, reason)
        return f"The best analysis scored {score:.2f}, below the threshold {self.s.threshold:g}; {why}. {revise}"


def _most_checked(candidates: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The candidate passing the most checks (the first of equals), or None."""
    if not candidates:
        return None
    return max(candidates, key=lambda c: sum(1 for check in c["checks"] if check["passed"]))

"""The answer of ``analyze``: its structured form (fixed field names) and its readable rendering."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

StopReason = Literal["threshold", "plateau", "max_iterations", "budget", "declined", "no_model", "scored"]

DEFAULT_CRITERIA = (
    "Answers the task directly and completely",
    "Every claim and figure is supported by the context",
    "Clear structure: the main finding first, then the evidence",
    "States the limits of the data and what remains uncertain",
)


@dataclass
class AnalysisResult:
    result: str | None
    quality_score: float
    threshold_met: bool
    iterations_used: int
    stop_reason: StopReason
    route: str
    scores: dict[str, float]
    checks: list[dict[str, Any]]
    history: list[dict[str, Any]]
    brief: dict[str, Any] | None
    next_step: str
    context_cut: list[str] = field(default_factory=list)

    def data(self) -> dict[str, Any]:
        return {
            "result": self.result,
            "quality_score": round(self.quality_score, 4),
            "threshold_met": self.threshold_met,
            "iterations_used": self.iterations_used,
            "stop_reason": self.stop_reason,
            "route": self.route,
            "scores": {name: round(score, 4) for name, score in self.scores.items()},
            "checks": self.checks,
            "history": self.history,
            "brief": self.brief,
            "next_step": self.next_step,
            "context_cut": self.context_cut,
        }

    def text(self) -> str:
        """What the model reads: the outcome first, then the analysis, the checks and what to do next."""
        lines: list[str] = []
        if self.stop_reason == "no_model":
            lines.append("No model is available for this call: here is a brief to write the analysis from.")
        elif self.stop_reason == "scored":
            met = "meets" if self.threshold_met else "is below"
            lines.append(f"Draft scored {self.quality_score:.2f} by the server's checks; it {met} the threshold.")
        else:
            met = "threshold met" if self.threshold_met else "below the threshold"
            lines.append(
                f"Analysis scored {self.quality_score:.2f} ({met}) after {self.iterations_used} iteration(s); "
                f"stopped: {self.stop_reason}; model route: {self.route}."
            )
        if self.result is not None:
            lines += ["", self.result.strip(), ""]
        if self.checks:
            lines.append("Checks:")
            lines.extend(f"- [{'ok' if c['passed'] else 'FAILED'}] {c['name']}: {c['detail']}" for c in self.checks)
        if self.scores:
            lines.append("Scores: " + "; ".join(f"{name}: {score:.2f}" for name, score in self.scores.items()))
        if self.history:
            steps = ", ".join(f"{h['iteration']}: {h['score']:.2f}" for h in self.history)
            lines.append(f"History (iteration: best candidate's score): {steps}")
        if self.context_cut:
            lines.append("Context cut: " + "; ".join(self.context_cut))
        if self.brief is not None:
            lines += ["", _render_brief(self.brief)]
        lines += ["", f"Next step: {self.next_step}"]
        return "\n".join(lines).strip()


def _render_brief(brief: dict[str, Any]) -> str:
    parts = ["Brief (also in structuredContent.brief):"]
    for item in brief.get("context", []):
        profile = item["profile"]
        if item["kind"] == "rows":
            columns = ", ".join(f"{c['name']} ({c['type']})" for c in profile["columns"])
            parts.append(f"- [{item['item']}] {item['label']}: {profile['row_count']} rows; columns: {columns}")
        else:
            parts.append(
                f"- [{item['item']}] {item['label']}: {profile['words']} words, {profile['paragraphs']} paragraphs, "
                f"{len(profile['headings'])} headings"
            )
    parts.append("Rubric: " + "; ".join(brief["criteria"]))
    parts += ["", "Ready prompt (the computed profiles are in its context):", "", brief["prompt"]]
    return "\n".join(parts)

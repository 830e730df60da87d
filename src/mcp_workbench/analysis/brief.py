"""Without a model: the brief to write an analysis from, and score mode to check the draft.

Most MCP hosts cannot sample, so for them this is the product: the server computes what it can
(profiles of every tabular result, the structure and key passages of every text), hands it over
with a ready prompt and the rubric, and checks the agent's draft with the same checks the loop
uses. The agent writes, calls ``analyze`` in score mode, fixes what is flagged, and repeats.
"""

from __future__ import annotations

from collections.abc import Sequence

from mcp_workbench.analysis.checks import criterion_coverage, prefixes, run_checks
from mcp_workbench.analysis.figures import ComputedFigures
from mcp_workbench.analysis.judge import SCALE
from mcp_workbench.analysis.prompts import SYSTEM, first_prompt
from mcp_workbench.analysis.render import RenderedContext
from mcp_workbench.analysis.result import AnalysisResult

CHECKS_DONE = (
    "figures: every figure in the draft must match a value computed from the context (as shown in the prompt)",
    "quotes: every passage in quotation marks must appear word for word in the context",
    "criteria: every criterion given must be addressed (its key words must appear)",
    "length: the word count must be within the bounds the prompt states",
)


def brief_result(
    task: str,
    criteria: Sequence[str],
    rendered: RenderedContext,
    *,
    threshold: float,
    min_words: int,
    max_words: int,
    requested: bool,
) -> AnalysisResult:
    """The model-free answer: a brief, and what to do with it. ``requested``: mode 'brief' asked
    for it (rather than no model being available)."""
    prompt = first_prompt(task, rendered.text, criteria, min_words=min_words, max_words=max_words)
    brief = {
        "task": task,
        "criteria": list(criteria),
        "scale": SCALE.splitlines(),
        "context": rendered.profiles,
        "checks": list(CHECKS_DONE),
        "system": SYSTEM,
        "prompt": prompt,
    }
    why = "You asked for a brief." if requested else "No model is available to this server for this call."
    next_step = (
        f"{why} Write the analysis yourself from brief.prompt (the task, the context with the server's computed "
        "profiles, and the rubric), then call analyze again with the same task, context and criteria, mode "
        f"'score' and your text as draft. Fix what the checks flag and repeat until threshold_met is true "
        f"(threshold {threshold:g})."
    )
    return AnalysisResult(
        result=None,
        quality_score=0.0,
        threshold_met=False,
        iterations_used=0,
        stop_reason="no_model",
        route="none",
        scores={},
        checks=[],
        history=[],
        brief=brief,
        next_step=next_step,
        context_cut=rendered.cut,
    )


def score_result(
    task: str,
    draft: str,
    criteria: Sequence[str],
    custom_criteria: bool,
    rendered: RenderedContext,
    *,
    threshold: float,
    min_words: int,
    max_words: int,
) -> AnalysisResult:
    """The caller's draft through the loop's checks; the score is the share of checks passed."""
    checks = run_checks(
        draft,
        context=rendered.text,
        computed=ComputedFigures.of(rendered.text, task),
        criteria=criteria if custom_criteria else (),
        min_words=min_words,
        max_words=max_words,
    )
    score = sum(1 for c in checks if c.passed) / len(checks)
    found = prefixes(draft)
    scores = {c: criterion_coverage(c, found) for c in criteria} if custom_criteria else {}
    failed = [c for c in checks if not c.passed]
    met = score >= threshold
    if failed:
        fixes = " ".join(f"({n}) {c.name}: {c.detail}" for n, c in enumerate(failed, start=1))
        next_step = f"Fix these and call analyze again with mode 'score' and the revised draft: {fixes}" + (
            " (A criterion counts as addressed when most of its key words appear in the draft.)"
            if any(c.name == "criteria" for c in failed)
            else ""
        )
    else:
        next_step = "The draft passes every check the server can run: present it to the user."
    return AnalysisResult(
        result=None,
        quality_score=score,
        threshold_met=met,
        iterations_used=0,
        stop_reason="scored",
        route="none",
        scores=scores,
        checks=[c.data() for c in checks],
        history=[],
        brief=None,
        next_step=next_step,
        context_cut=rendered.cut,
    )

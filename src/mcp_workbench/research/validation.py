"""Validation: does the synthesis say only what its citations support, and how well founded is it?

- **support**: each sentence carrying markers is checked against the text of the evidence it
  cites: it is supported when at least ``SUPPORT_SHARE`` of its content words occur there;
- **coverage**: the share of sub-questions that some returned evidence matches (half of the
  sub-question's core terms, or two of them);
- **source diversity**: distinct sources among the cited evidence (duplicates folded in count),
  against the number of sources that returned anything (at most ``DIVERSE_SOURCES`` needed);
- **corroboration**: the share of covered sub-questions matched by evidence from at least two
  independent sources.

``score`` weighs them (support most); a synthesis with an unresolvable marker loses half.
``confidence`` is high from 0.75 with at least two supported sentences, medium from 0.5.
"""

from __future__ import annotations

from mcp_workbench.research.models import Confidence, Evidence, SubQuery, Validation
from mcp_workbench.research.rank import Ranked
from mcp_workbench.research.synthesis import MARKER, markers
from mcp_workbench.research.text import content_terms, sentences, stem

SUPPORT_SHARE = 0.6
DIVERSE_SOURCES = 3
WEIGHTS = {"support": 0.4, "coverage": 0.25, "diversity": 0.15, "corroboration": 0.2}


def validate(
    synthesis: str,
    numbered: list[tuple[int, Evidence]],
    plan: list[SubQuery],
    ranked: list[Ranked],
    *,
    sources_with_results: int,
    removed: int = 0,
) -> Validation:
    coverage, corroboration = _coverage(plan, [r for r in ranked if any(r.evidence is e for _, e in numbered)])
    return score_synthesis(
        synthesis,
        numbered,
        coverage=coverage,
        corroboration=corroboration,
        sources_with_results=sources_with_results,
        removed=removed,
    )


def score_synthesis(
    synthesis: str,
    numbered: list[tuple[int, Evidence]],
    *,
    coverage: float,
    corroboration: float,
    sources_with_results: int,
    removed: int = 0,
) -> Validation:
    """The validation of ``synthesis`` over evidence whose coverage of the plan is known: a
    synthesis written later over the same evidence (a model's, on the guard route) is scored
    without ranking again."""
    by_n = dict(numbered)
    cited_sentences = supported = 0
    cited_items: set[int] = set()
    resolved = True
    for sentence in sentences(synthesis):
        numbers = markers(sentence)
        if not numbers:
            continue
        cited_sentences += 1
        if any(n not in by_n for n in numbers):
            resolved = False
        found = [by_n[n] for n in numbers if n in by_n]
        cited_items.update(n for n in numbers if n in by_n)
        if found and _supported(MARKER.sub("", sentence), found):
            supported += 1
    support = supported / cited_sentences if cited_sentences else 0.0
    cited_sources = {s for n in cited_items for s in (by_n[n].source, *by_n[n].also_from)}
    diversity = (
        min(1.0, len(cited_sources) / min(DIVERSE_SOURCES, sources_with_results)) if sources_with_results else 0.0
    )
    score = (
        WEIGHTS["support"] * support
        + WEIGHTS["coverage"] * coverage
        + WEIGHTS["diversity"] * diversity
        + WEIGHTS["corroboration"] * corroboration
    )
    if not resolved:
        score /= 2
    return Validation(
        score=round(score, 3),
        citations_resolved=resolved,
        supported_sentences=supported,
        cited_sentences=cited_sentences,
        source_diversity=round(diversity, 3),
        coverage=round(coverage, 3),
        corroboration=round(corroboration, 3),
        removed_markers=removed,
    )


def confidence(validation: Validation) -> Confidence:
    if validation.score >= 0.75 and validation.supported_sentences >= 2:
        return "high"
    if validation.score >= 0.5 and validation.supported_sentences >= 1:
        return "medium"
    return "low"


def _supported(claim: str, cited: list[Evidence]) -> bool:
    words = content_terms(claim)
    if not words:
        return False
    support: set[str] = set()
    for item in cited:
        support |= content_terms(f"{item.title} {item.excerpt} {item.passage or ''}")
    return len(words & support) / len(words) >= SUPPORT_SHARE


def _coverage(plan: list[SubQuery], returned: list[Ranked]) -> tuple[float, float]:
    if not plan:
        return 0.0, 0.0
    covered = corroborated = 0
    for query in plan:
        wanted = {stem(t) for t in query.core()}
        sources: set[str] = set()
        for ranked in returned:
            item = ranked.evidence
            share = len(wanted & content_terms(f"{item.title} {item.text}")) / len(wanted) if wanted else 0.0
            if share >= 0.5 or share * len(wanted) >= 2:
                sources.update((item.source, *item.also_from))
        if sources:
            covered += 1
            corroborated += len(sources) >= 2
    return covered / len(plan), corroborated / covered if covered else 0.0

"""The checks the server runs on a draft itself, with no model: they are the outside feedback a
model's self-correction needs, and what score mode hands a calling agent to fix.

- ``figures``: every figure matches a value the server computed (see :mod:`.figures`);
- ``quotes``: every quoted passage appears word for word in the context;
- ``criteria``: every criterion the caller gave is addressed (more than half of its key words appear);
- ``length``: the draft is within the configured word bounds.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache

from mcp_workbench.analysis.figures import ComputedFigures, unmatched
from mcp_workbench.analysis.profile import words

FAILED_CHECK_FACTOR = 0.8
"""What each failed check multiplies a judged score by: one failure keeps a draft under the default
threshold unless the judge rates it almost perfect."""

_QUOTE = re.compile(r"[\"“”„«»]([^\"“”„«»\n]{12,600})[\"“”„«»]")
_SHOWN = 5
# words of a rubric that say what kind of quality is wanted, not what the analysis is about
_RUBRIC_WORDS = frozenset(
    [
        "answer",
        "answers",
        "address",
        "addresses",
        "analysis",
        "mention",
        "mentions",
        "explain",
        "explains",
        "describe",
        "describes",
        "include",
        "includes",
        "discuss",
        "discusses",
        "clear",
        "clearly",
        "concise",
        "brief",
        "summary",
        "summarise",
        "summarize",
        "state",
        "states",
        "should",
        "must",
        "give",
        "gives",
        "show",
        "shows",
        "list",
        "lists",
        "note",
        "notes",
        "identify",
        "identifies",
        "compare",
        "compares",
    ]
)


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str

    def data(self) -> dict[str, object]:
        return asdict(self)


@lru_cache(maxsize=32)
def _normal(text: str) -> str:
    """Lower case, one kind of quote and dash, single spaces (kept for the last few texts: every
    candidate of an analysis is checked against the same context)."""
    text = text.replace("’", "'").replace("‘", "'").replace("–", "-").replace("—", "-")
    return " ".join(text.lower().split())


def check_figures(draft: str, computed: ComputedFigures) -> Check:
    missing, count = unmatched(draft, computed)
    if missing:
        shown = ", ".join(missing[:_SHOWN]) + (f" and {len(missing) - _SHOWN} more" if len(missing) > _SHOWN else "")
        return Check(
            "figures",
            False,
            f"{len(missing)} of {count} figures match nothing computed from the context: {shown}. Use the figures "
            "as the context gives them, or add the data they come from to the context.",
        )
    return Check("figures", True, f"all {count} figures match values computed from the context")


def check_quotes(draft: str, context: str) -> Check:
    quotes = [q.strip() for q in _QUOTE.findall(draft) if len(q.split()) >= 3]
    missing = [q for q in quotes if _normal(q) not in _normal(context)] if quotes else []
    if missing:
        shown = "; ".join(f'"{q[:80]}{"…" if len(q) > 80 else ""}"' for q in missing[:3])
        return Check(
            "quotes",
            False,
            f"{len(missing)} of {len(quotes)} quoted passages are not in the context: {shown}. Quote word for word "
            "or do not use quotation marks.",
        )
    return Check("quotes", True, f"all {len(quotes)} quoted passages appear in the context")


def criterion_coverage(criterion: str, draft_prefixes: set[str]) -> float:
    """Share of a criterion's key words found in the draft (``prefixes(draft)``: a five-letter
    prefix is enough)."""
    key = [w for w in words(criterion) if w not in _RUBRIC_WORDS]
    if not key:
        return 1.0
    return sum(1 for w in key if w[:5] in draft_prefixes) / len(key)


def prefixes(text: str) -> set[str]:
    """The five-letter prefixes of the content words of ``text``."""
    return {w[:5] for w in words(text)}


def check_criteria(draft: str, criteria: Sequence[str]) -> Check:
    found = prefixes(draft)
    missed = [c for c in criteria if criterion_coverage(c, found) <= 0.5]
    if missed:
        shown = "; ".join(f'"{c[:100]}"' for c in missed)
        return Check(
            "criteria",
            False,
            f"{len(missed)} of {len(criteria)} criteria look unaddressed (their key words are missing): {shown}",
        )
    return Check("criteria", True, f"all {len(criteria)} criteria are addressed")


def check_length(draft: str, min_words: int, max_words: int) -> Check:
    count = len(draft.split())
    if count < min_words:
        return Check("length", False, f"{count} words; at least {min_words} are expected")
    if count > max_words:
        return Check("length", False, f"{count} words; at most {max_words} are expected: shorten it")
    return Check("length", True, f"{count} words, within {min_words}-{max_words}")


def run_checks(
    draft: str,
    *,
    context: str,
    computed: ComputedFigures,
    criteria: Sequence[str],
    min_words: int,
    max_words: int,
) -> list[Check]:
    """Every check that applies (``criteria`` only when the caller gave criteria)."""
    checks = [check_figures(draft, computed), check_quotes(draft, context)]
    if criteria:
        checks.append(check_criteria(draft, criteria))
    checks.append(check_length(draft, min_words, max_words))
    return checks


def checks_factor(checks: Sequence[Check]) -> float:
    return FAILED_CHECK_FACTOR ** sum(1 for c in checks if not c.passed)


def checks_only_score(checks: Sequence[Check]) -> float:
    """The score of a draft no judge has rated: half the share of checks it passes, so passing the
    server's checks alone never reaches a threshold above 0.5."""
    return 0.5 * sum(1 for c in checks if c.passed) / len(checks) if checks else 0.0

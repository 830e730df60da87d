"""The rubric judge: one request rates every candidate of an iteration on every criterion.

LLM judges agree with people most of the time but favour a position, length and their own
style. So: an anchored 1-5 scale with a reason per criterion (a score must be justified, and
the reasons feed the next revision), temperature 0, and the candidates shown in an order that
changes from one iteration to the next, under letters that carry no rank. A judge answer that
cannot be read leaves the candidates unrated; it is not a refusal.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mcp_workbench.platform.sampling import CompletionRequest

SCALE = """1 = absent or wrong
2 = attempted, with major errors or gaps
3 = adequate, with noticeable gaps or a claim the context does not support
4 = good: correct and supported, with minor issues
5 = excellent: complete and precise, every claim supported by the context"""

SYSTEM = f"""You are a strict, impartial reviewer of analyses. Rate each draft on each criterion with this \
anchored scale:
{SCALE}
Judge only what is written against the context given. Length is not merit. The order and letters of the drafts \
mean nothing. Reply with one JSON object and nothing else."""

LETTERS = "ABCD"
_JSON_OBJECT = re.compile(r"\{.*\}", re.DOTALL)


@dataclass(frozen=True)
class Rating:
    """One candidate's judgement: a 0-1 score per criterion (None: not rated) and the reasons."""

    scores: tuple[float | None, ...]
    reasons: tuple[str, ...]

    @property
    def mean(self) -> float:
        """Mean over criteria; a criterion left unrated counts as the lowest mark."""
        return sum(s or 0.0 for s in self.scores) / len(self.scores) if self.scores else 0.0


def order(count: int, iteration: int) -> list[int]:
    """The candidates' order for an iteration: rotated by the iteration, reversed every other one."""
    rotated = [(i + iteration) % count for i in range(count)]
    return rotated[::-1] if iteration % 2 else rotated


def judge_request(
    task: str, context: str, criteria: Sequence[str], drafts: Sequence[str], iteration: int, *, max_tokens: int
) -> tuple[CompletionRequest, list[int]]:
    """The request and the order (indices into ``drafts``) in which it shows them."""
    shown = order(len(drafts), iteration)
    listed = "\n".join(f"{n}. {c}" for n, c in enumerate(criteria, start=1))
    blocks = "\n\n".join(f"[Draft {LETTERS[pos]}]\n{drafts[index]}\n[End of draft {LETTERS[pos]}]"
                         for pos, index in enumerate(shown))  # fmt: skip
    example_scores = ", ".join(f'"{n}": 4' for n in range(1, len(criteria) + 1))
    example_reasons = ", ".join(f'"{n}": "why"' for n in range(1, len(criteria) + 1))
    prompt = (
        f"Task the drafts answer:\n{task}\n\nContext the drafts may rely on:\n{context or '(none)'}\n\n"
        f"Criteria:\n{listed}\n\n{blocks}\n\n"
        "For every draft and every criterion give a whole-number score on the scale and a one-sentence reason. "
        f'Reply with JSON only, keyed by draft letter: {{"{LETTERS[0]}": {{"scores": {{{example_scores}}}, '
        f'"reasons": {{{example_reasons}}}}}, ...}}'
    )
    request = CompletionRequest.single(
        prompt, max_tokens=max_tokens, system=SYSTEM, temperature=0.0, intelligence_priority=0.9, speed_priority=0.2
    )
    return request, shown


def parse_judgement(text: str, shown: Sequence[int], criteria_count: int) -> dict[int, Rating]:
    """Ratings by candidate index (absent: that candidate could not be read from the answer)."""
    match = _JSON_OBJECT.search(text)
    if match is None:
        return {}
    try:
        data = json.loads(match.group(0))
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    ratings: dict[int, Rating] = {}
    for pos, index in enumerate(shown):
        entry = data.get(LETTERS[pos]) or data.get(f"Draft {LETTERS[pos]}")
        if not isinstance(entry, dict) or not isinstance(entry.get("scores"), dict):
            continue
        scores = tuple(_mark(entry["scores"].get(str(n))) for n in range(1, criteria_count + 1))
        if all(s is None for s in scores):
            continue
        reasons_raw = entry["reasons"] if isinstance(entry.get("reasons"), dict) else {}
        reasons = tuple(str(reasons_raw.get(str(n), ""))[:500] for n in range(1, criteria_count + 1))
        ratings[index] = Rating(scores, reasons)
    return ratings


def _mark(value: Any) -> float | None:
    """A 1-5 mark as 0-1, or None when it is not a mark."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        mark = float(value)
    except ValueError:
        return None
    if not 1 <= mark <= 5:
        return None
    return (mark - 1) / 4

"""Planning: the sub-questions a run asks, from a model when one is given, else from key terms.

The first sub-question is always the question itself with all its key terms, so every source
gets the whole question at least once. Further sub-questions pair the question's subject (its
names, acronyms and most specific words) with the other aspects it mentions, or, for a
comparison ("A vs B", "compared with", "difference between A and B"), ask about each side.

Key terms are ordered most specific first, because providers that require every word
(Wikipedia, Hacker News, GDELT) are asked only the first few: names and acronyms as written in
the question, then the rest, longer (rarer) words first; framing words such as "effects" or
"recent" come last.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from mcp_workbench.research.models import SubQuery
from mcp_workbench.research.text import GENERIC, STOPWORDS, stem

log = logging.getLogger("mcp_workbench.research")

MAX_TERMS = 10
Planner = Callable[[str, int], Awaitable[list[str]]]
"""A model's planner: (question, how many sub-questions) -> sub-questions as text."""

_TOKEN = re.compile(r"[^\W_]+(?:[-'.][^\W_]+)*", re.UNICODE)
_COMPARISON = re.compile(
    r"\s+(?:vs\.?|versus|compared (?:to|with)|as opposed to|(?:better|worse|faster|slower|cheaper|safer) than)\s+",
    re.IGNORECASE,
)
_BETWEEN = re.compile(r"\b(?:difference|differences|choose|choosing)\s+between\s+(.+?)\s+and\s+(.+)", re.IGNORECASE)


@dataclass(frozen=True)
class _Term:
    word: str
    position: int
    named: bool
    generic: bool
    offset: int = 0

    def specificity(self) -> tuple[int, int, int]:
        """Sort key: names first, framing words last, longer (rarer) words before shorter."""
        return (2 if self.generic else 0 if self.named else 1, -len(self.word), self.position)


def _terms(text: str) -> list[_Term]:
    """The meaningful words of ``text`` in the order they appear, one per stem."""
    found: list[_Term] = []
    seen: set[str] = set()
    for position, match in enumerate(_TOKEN.finditer(text)):
        raw = match.group(0).strip(".'")
        word = raw.lower()
        if word in STOPWORDS or len(word) < 2 or (word.isdigit() and len(word) < 4):
            continue
        root = stem(word)
        if root in seen:
            continue
        seen.add(root)
        # Capitals or digits mark a name ("Rust", "mRNA", "COVID-19"). A common word is one only
        # when capitalised inside a sentence ("Rust vs Go"), not as a sentence's first word.
        marked = any(c.isupper() or c.isdigit() for c in raw[1:]) or (
            raw[0].isupper() and not _sentence_start(text, match.start())
        )
        generic = word in GENERIC and not marked
        named = marked or (raw[0].isupper() and not generic)
        found.append(_Term(word, position, named, generic, match.start()))
    return found


def _sentence_start(text: str, offset: int) -> bool:
    before = text[:offset].rstrip()
    return not before or before[-1] in ".!?:;\"'("


def key_terms(text: str) -> list[str]:
    """The question's meaningful words, lower-cased, most specific first."""
    return [t.word for t in sorted(_terms(text), key=_Term.specificity)][:MAX_TERMS]


def plan(question: str, count: int) -> list[SubQuery]:
    """``count`` sub-questions (fewer when the question has few aspects) from its key terms."""
    terms = _terms(question)
    ordered = [t.word for t in sorted(terms, key=_Term.specificity)][:MAX_TERMS]
    queries = [SubQuery(0, question, tuple(ordered) or tuple(question.lower().split()[:MAX_TERMS]))]
    if count <= 1 or len(ordered) < 2:
        return queries
    for side in _comparison(question, terms):
        if len(queries) < count:
            _add(queries, side)
    core = [t for t in terms if not t.generic]
    named = [t for t in core if t.named]
    subject = named[:2] or sorted(core, key=_Term.specificity)[:1]
    aspects = [t for t in core if t not in subject]  # in the question's order: phrases stay together
    groups = min(len(aspects), count - len(queries))
    size = -(-len(aspects) // groups) if groups else 0
    for index in range(groups):
        chunk = aspects[index * size : (index + 1) * size]
        if chunk:
            _add(queries, subject + chunk)
    return queries


def _comparison(question: str, terms: list[_Term]) -> list[list[_Term]]:
    """For "A vs B in C" or "the difference between A and B in C": A with C, and B with C."""
    between = _BETWEEN.search(question)
    if between:
        spans = [between.span(1), between.span(2)]
    else:
        found = list(_COMPARISON.finditer(question))
        if len(found) != 1:
            return []
        spans = [(0, found[0].start()), (found[0].end(), len(question))]
    first, second = ([t for t in terms if not t.generic and lo <= t.offset < hi] for lo, hi in spans)
    if not first or not second:
        return []
    # What follows a side's head is shared: "Rust vs Go for web servers", "X for weight loss compared with Y".
    if len(first) < len(second):
        context = second[len(first) :]
        return [first + context, second[: len(first)] + context]
    if len(second) < len(first):
        context = first[min(len(second), 2) :]
        return [first, second + context]
    return [first, second]


def _add(queries: list[SubQuery], terms: list[_Term]) -> None:
    words = list(dict.fromkeys(t.word for t in sorted(terms, key=_Term.specificity)))[:MAX_TERMS]
    if not words or any(set(words) == set(q.terms) for q in queries):
        return
    text = " ".join(dict.fromkeys(t.word for t in sorted(terms, key=lambda t: t.position)))
    queries.append(SubQuery(len(queries), text, tuple(words)))


async def plan_with(question: str, count: int, planner: Planner | None) -> list[SubQuery]:
    """The model's sub-questions after the question itself; key-term planning when there is no
    model, or it fails or answers nothing usable."""
    if planner is None or count <= 1:
        return plan(question, count)
    try:
        proposed = await planner(question, count - 1)
    except Exception as exc:  # noqa: BLE001 - a model's failure only costs its plan
        log.info("research planner failed; planning from key terms", extra={"error": repr(exc)})
        return plan(question, count)
    queries = [plan(question, 1)[0]]
    for text in proposed or []:
        if isinstance(text, str) and text.strip() and len(queries) < count:
            terms = key_terms(text)
            if terms and not any(set(terms) == set(q.terms) for q in queries):
                queries.append(SubQuery(len(queries), text.strip()[:300], tuple(terms)))
    return queries if len(queries) > 1 else plan(question, count)

"""Synthesis: an answer whose sentences cite the evidence list with ``[n]`` markers.

With a model (a :data:`Synthesiser` the adapter builds on the sampling bridge) the model writes
the answer; any marker that points at no evidence is removed, and a model that fails or answers
nothing leaves the extractive synthesis in its place. Without one, the synthesis is extractive:
for each sub-question, the sentences of the best-ranked evidence that contain most of its terms,
each followed by its marker, never the same sentence twice.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from mcp_workbench.research.models import Evidence, EvidenceItem, SubQuery, SynthesisRoute
from mcp_workbench.research.text import clip, content_terms, sentences, stem

log = logging.getLogger("mcp_workbench.research")

MARKER = re.compile(r"\s?\[(\d{1,3}(?:\s*(?:,|–|-)\s*\d{1,3})*)\]")
SENTENCES_PER_QUESTION = 2
CANDIDATE_ITEMS = 8
MIN_SENTENCE_CHARS = 30
MAX_SENTENCE_CHARS = 400
NOTHING = "None of the gathered evidence answers this directly; the closest sources are listed below."


@dataclass(frozen=True)
class Draft:
    text: str
    route: SynthesisRoute


Synthesiser = Callable[[str, list[str], list[EvidenceItem]], Awaitable[Draft | None]]
"""A model's synthesis: (question, plan, numbered evidence) -> an answer citing ``[n]``, and its route."""


def extractive(plan: list[SubQuery], numbered: list[tuple[int, Evidence]]) -> str:
    """The best sentences per sub-question from the top evidence, each with its marker."""
    used: set[str] = set()
    paragraphs = []
    for query in plan:
        wanted = {stem(term) for term in query.core()}
        picked = _best_sentences(wanted, numbered[:CANDIDATE_ITEMS], used)
        if not picked:
            continue
        body = " ".join(_cited(sentence, n) for sentence, n in picked)
        paragraphs.append(body if query.index == 0 else f"On {query.text}: {body}")
    return "\n\n".join(paragraphs) if paragraphs else NOTHING


def _best_sentences(wanted: set[str], numbered: list[tuple[int, Evidence]], used: set[str]) -> list[tuple[str, int]]:
    scored = []
    for position, (n, item) in enumerate(numbered):
        if not item.has_text:
            continue
        for order, sentence in enumerate(sentences(item.text)):
            if not MIN_SENTENCE_CHARS <= len(sentence) <= MAX_SENTENCE_CHARS or sentence in used:
                continue
            hits = len(wanted & content_terms(sentence))
            if wanted and (hits * 2 >= len(wanted) or hits >= 2):
                scored.append((-(hits / len(wanted)), position, order, sentence, n))
    scored.sort()
    picked: list[tuple[str, int]] = []
    cited: set[int] = set()
    for _, _, _, sentence, n in scored:
        if n in cited:  # one sentence per item and sub-question: more sources, fewer repeats
            continue
        picked.append((sentence, n))
        cited.add(n)
        used.add(sentence)
        if len(picked) == SENTENCES_PER_QUESTION:
            break
    return picked


def _cited(sentence: str, n: int) -> str:
    text = clip(sentence, MAX_SENTENCE_CHARS).rstrip()
    end = text[-1] if text[-1] in ".!?" else "."
    return f"{text.rstrip('.!?')} [{n}]{end}"


def resolve_markers(text: str, count: int) -> tuple[str, int]:
    """``text`` with every marker pointing outside 1..``count`` removed; and how many numbers were."""
    removed = 0

    def keep(match: re.Match[str]) -> str:
        nonlocal removed
        numbers = _numbers(match.group(1))
        valid = [n for n in numbers if 1 <= n <= count]
        removed += len(numbers) - len(valid)
        if not valid:
            return ""
        lead = match.group(0)[0] if match.group(0)[0].isspace() else ""
        return f"{lead}[{', '.join(str(n) for n in dict.fromkeys(valid))}]"

    cleaned = MARKER.sub(keep, text)
    return re.sub(r"[ \t]+([.,;:!?])", r"\1", cleaned), removed


def markers(text: str) -> list[int]:
    """Every evidence number cited in ``text``."""
    return [n for match in MARKER.finditer(text) for n in _numbers(match.group(1))]


def _numbers(group: str) -> list[int]:
    found: list[int] = []
    for part in re.split(r"\s*,\s*", group):
        bounds = re.split(r"\s*[–-]\s*", part)
        if len(bounds) == 2 and bounds[0].isdigit() and bounds[1].isdigit():
            low, high = int(bounds[0]), int(bounds[1])
            found.extend(range(low, high + 1) if 0 < high - low <= 20 else [low, high])
        elif part.isdigit():
            found.append(int(part))
    return found


async def synthesise(
    question: str,
    plan: list[SubQuery],
    numbered: list[tuple[int, Evidence]],
    items: list[EvidenceItem],
    model: Synthesiser | None,
) -> tuple[str, SynthesisRoute, int]:
    """The synthesis, its route, and how many unresolvable marker numbers were removed."""
    if model is not None and items:
        try:
            draft = await model(question, [q.text for q in plan], items)
        except Exception as exc:  # noqa: BLE001 - a model's failure only costs its synthesis
            log.info("research synthesiser failed; answering extractively", extra={"error": repr(exc)})
            draft = None
        if draft is not None and draft.text.strip():
            text, removed = resolve_markers(draft.text.strip(), len(items))
            return text, draft.route, removed
    return extractive(plan, numbered), "extractive", 0

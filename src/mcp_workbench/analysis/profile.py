"""What the server can compute about context without a model.

For rows: a profile per column (type, nulls, distinct values, min/max/mean/quartiles, the most
frequent values with their share, outliers by the 1.5 × IQR rule). For text: its structure
(headings, paragraphs, list items) and its key passages (the sentences that share the most
words with the task, favouring ones that carry figures). These go into the model-free brief and
into every prompt, so a model and a calling agent work from the same computed facts, and the
figures check can tell a computed figure from an invented one.
"""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

TOP_VALUES = 5
OUTLIER_EXAMPLES = 5
KEY_PASSAGES = 5
PASSAGE_CHARS = 300
HEADINGS = 20

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$")
_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'“(\[]?[A-Z0-9])")
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$")
_LIST_ITEM = re.compile(r"^\s*([-*+•]|\d+[.)])\s+\S")
_HAS_FIGURE = re.compile(r"\d")
STOPWORDS = frozenset(
    [
        "the",
        "and",
        "for",
        "are",
        "but",
        "not",
        "you",
        "all",
        "any",
        "can",
        "had",
        "her",
        "was",
        "one",
        "our",
        "out",
        "day",
        "get",
        "has",
        "him",
        "his",
        "how",
        "man",
        "new",
        "now",
        "old",
        "see",
        "two",
        "way",
        "who",
        "boy",
        "did",
        "its",
        "let",
        "put",
        "say",
        "she",
        "too",
        "use",
        "that",
        "with",
        "have",
        "this",
        "will",
        "your",
        "from",
        "they",
        "know",
        "want",
        "been",
        "good",
        "much",
        "some",
        "time",
        "very",
        "when",
        "come",
        "here",
        "just",
        "like",
        "long",
        "make",
        "many",
        "over",
        "such",
        "take",
        "than",
        "them",
        "well",
        "were",
        "what",
        "which",
        "their",
        "there",
        "these",
        "would",
        "about",
        "could",
        "other",
        "into",
        "more",
        "most",
        "only",
        "also",
        "each",
        "does",
        "should",
        "where",
        "after",
        "before",
        "between",
        "while",
        "because",
        "through",
        "those",
        "both",
        "same",
        "under",
        "again",
        "then",
        "once",
        "during",
        "without",
        "within",
    ]
)


def number(value: float) -> str:
    """A figure as the server writes it everywhere (prompts, brief): plain digits, ≤ 4 decimals."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer() and abs(value) < 1e15):
        return str(int(value))
    if not math.isfinite(value):
        return str(value)
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return text if text not in {"-0", ""} else "0"


def column_type(values: Sequence[Any]) -> str:
    """``integer``, ``number``, ``boolean``, ``date``, ``text``, ``mixed`` or ``null`` (no values)."""
    kinds = set()
    for value in values:
        if isinstance(value, bool):
            kinds.add("boolean")
        elif isinstance(value, int):
            kinds.add("integer")
        elif isinstance(value, float):
            kinds.add("number")
        elif isinstance(value, datetime | date) or (isinstance(value, str) and _ISO_DATE.match(value)):
            kinds.add("date")
        else:
            kinds.add("text")
    if not kinds:
        return "null"
    if kinds <= {"integer", "number"}:
        return "integer" if kinds == {"integer"} else "number"
    return kinds.pop() if len(kinds) == 1 else "mixed"


def profile_column(name: str, values: Sequence[Any], row_count: int) -> dict[str, Any]:
    present = [v for v in values if v is not None]
    kind = column_type(present)
    hashable = [_key(v) for v in present]
    counts = Counter(hashable)
    column: dict[str, Any] = {
        "name": name,
        "type": kind,
        "nulls": row_count - len(present),
        "distinct": len(counts),
    }
    if kind in {"integer", "number"}:
        numbers = [float(v) for v in present if isinstance(v, int | float) and math.isfinite(float(v))]
        column.update(_numeric(numbers, integer=kind == "integer"))
    elif kind == "date" and present:
        texts = sorted(str(v) for v in present)
        column.update({"min": texts[0], "max": texts[-1]})
    column["top"] = [
        {"value": value, "count": count, "share": round(count / row_count, 4) if row_count else 0.0}
        for value, count in counts.most_common(TOP_VALUES)
        if count > 1 or len(counts) <= TOP_VALUES
    ]
    return column


def _key(value: Any) -> Any:
    if isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _numeric(values: list[float], *, integer: bool) -> dict[str, Any]:
    if not values:
        return {}
    ordered = sorted(values)
    stats: dict[str, Any] = {
        "min": _plain(ordered[0], integer),
        "max": _plain(ordered[-1], integer),
        "mean": round(statistics.fmean(ordered), 4),
        "sum": _plain(math.fsum(ordered), integer),
    }
    if len(ordered) >= 2:
        q1, q2, q3 = statistics.quantiles(ordered, n=4, method="inclusive")
        stats["quantiles"] = {"p25": round(q1, 4), "p50": round(q2, 4), "p75": round(q3, 4)}
        stats["stdev"] = round(statistics.stdev(ordered), 4)
        spread = q3 - q1
        low, high = q1 - 1.5 * spread, q3 + 1.5 * spread
        outside = [v for v in ordered if v < low or v > high]
        if outside:
            extremes = sorted(outside, key=lambda v: -abs(v - q2))[:OUTLIER_EXAMPLES]
            stats["outliers"] = {
                "count": len(outside),
                "rule": f"outside [{number(round(low, 4))}, {number(round(high, 4))}] (1.5 × IQR)",
                "examples": [_plain(v, integer) for v in extremes],
            }
    return stats


def _plain(value: float, integer: bool) -> float | int:
    return int(value) if integer and value.is_integer() else round(value, 4)


def profile_rows(
    columns: Sequence[str], rows: Sequence[Sequence[Any]], total_rows: int | None = None
) -> dict[str, Any]:
    """The profile of one tabular result."""
    count = len(rows)
    profile: dict[str, Any] = {"row_count": max(count, total_rows or 0)}
    if total_rows is not None and total_rows > count:
        profile["rows_profiled"] = count
    profile["columns"] = [
        profile_column(name, [row[i] if i < len(row) else None for row in rows], count)
        for i, name in enumerate(columns)
    ]
    return profile


def sentences(text: str) -> list[str]:
    """The sentences of ``text`` (paragraphs and list items split first)."""
    out: list[str] = []
    for block in re.split(r"\n\s*\n|\n(?=\s*(?:[-*+•]|\d+[.)])\s)", text):
        flat = " ".join(block.split())
        if flat:
            out.extend(s.strip() for s in _SENTENCE_END.split(flat) if s.strip())
    return out


def words(text: str) -> set[str]:
    """The content words of ``text``: lower-cased, three letters or more, not stop words."""
    return {w for w in (m.group(0).lower() for m in _WORD.finditer(text)) if w not in STOPWORDS}


def profile_text(text: str, task: str) -> dict[str, Any]:
    """Structure and key passages of one text."""
    lines = text.splitlines()
    headings = [m.group(2) for line in lines if (m := _HEADING.match(line))]
    paragraphs = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
    return {
        "chars": len(text),
        "words": len(text.split()),
        "lines": len(lines),
        "paragraphs": len(paragraphs),
        "headings": headings[:HEADINGS],
        "list_items": sum(1 for line in lines if _LIST_ITEM.match(line)),
        "key_passages": key_passages(text, task),
    }


def key_passages(text: str, task: str, limit: int = KEY_PASSAGES) -> list[str]:
    """The sentences most about the task (shared words; a figure counts extra), in text order."""
    wanted = words(task)
    scored = []
    for index, sentence in enumerate(sentences(text)):
        if len(sentence) < 20:
            continue
        shared = len(wanted & words(sentence))
        score = shared + (0.5 if _HAS_FIGURE.search(sentence) else 0) + (0.25 if index < 3 else 0)
        scored.append((score, index, sentence))
    best = sorted(scored, key=lambda item: (-item[0], item[1]))[:limit]
    return [_clip(sentence) for _, _, sentence in sorted(best, key=lambda item: item[1])]


def _clip(sentence: str) -> str:
    return sentence if len(sentence) <= PASSAGE_CHARS else sentence[: PASSAGE_CHARS - 1] + "…"

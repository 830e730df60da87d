"""Ranking: BM25 per sub-question over the gathered evidence, fused by weighted reciprocal rank fusion.

Every piece of evidence goes into one in-memory SQLite FTS5 table (``porter unicode61``
tokenizer, title weighted above text). Each sub-question ranks it with ``bm25()`` over an OR of
its terms; each source's own answer order is a ranking too. Reciprocal rank fusion adds
``weight / (K + rank)`` over all those lists, so an item that several sub-questions and several
providers put near the top rises, and none of the scores' scales has to be comparable.

BM25 lists weigh most: they read every source's text with one measure. The first sub-question
(the whole question) weighs as much as all the others together. A provider's own order counts
with the source's configured weight, scaled down, because it ranks on text we do not see.
A BM25 rank is only given to items that match at least half of the sub-question's core terms or
two of them, so items that share one common word with the question are ordered by the
providers alone.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from mcp_workbench.research.models import Evidence, SubQuery
from mcp_workbench.research.text import content_terms, stem

K = 60.0
BM25_WEIGHT = 1.0
NATIVE_WEIGHT = 0.35
TITLE_WEIGHT = 2.0


@dataclass(frozen=True)
class Ranked:
    evidence: Evidence
    score: float  # 0-1, the fused score relative to the best item
    matched: float  # best share of a sub-question's core terms this item contains


def rank(items: list[Evidence], plan: list[SubQuery], weights: Mapping[str, float] | None = None) -> list[Ranked]:
    """``items`` best first, each with its fused score."""
    if not items:
        return []
    weights = weights or {}
    fused: dict[int, float] = defaultdict(float)
    matched = _coverage(items, plan)
    later = max(1, len(plan) - 1)
    for query, ordered in zip(plan, _bm25_lists(items, plan), strict=True):
        weight = BM25_WEIGHT if query.index == 0 else BM25_WEIGHT / later
        for position, index in enumerate(ordered):
            if _enough(matched[index][query.index], len(query.core())):
                fused[index] += weight / (K + position + 1)
    native: dict[tuple[str, int], list[tuple[int, int]]] = defaultdict(list)
    for index, item in enumerate(items):
        for source, query_index, position in item.hits:
            native[(source, query_index)].append((position, index))
    for (source, _), entries in native.items():
        weight = NATIVE_WEIGHT * weights.get(source, 1.0)
        for position, (_, index) in enumerate(sorted(entries)):
            fused[index] += weight / (K + position + 1)
    best = max(fused.values(), default=0.0) or 1.0
    order = sorted(range(len(items)), key=lambda i: (-fused[i], i))
    return [Ranked(items[i], round(fused[i] / best, 4), max(matched[i].values(), default=0.0)) for i in order]


def _enough(share: float, core_terms: int) -> bool:
    return share >= 0.5 or share * core_terms >= 2


def _coverage(items: list[Evidence], plan: list[SubQuery]) -> list[dict[int, float]]:
    """For each item, the share of each sub-question's core terms it contains."""
    wanted = {q.index: {stem(t) for t in q.core()} for q in plan}
    shares = []
    for item in items:
        present = content_terms(f"{item.title} {item.text}")
        shares.append({i: len(terms & present) / len(terms) if terms else 0.0 for i, terms in wanted.items()})
    return shares


def _bm25_lists(items: list[Evidence], plan: list[SubQuery]) -> list[list[int]]:
    """For each sub-question, the indexes of the items that match it, by BM25."""
    db = sqlite3.connect(":memory:")
    try:
        db.execute("CREATE VIRTUAL TABLE docs USING fts5(title, body, tokenize='porter unicode61 remove_diacritics 2')")
        db.executemany(
            "INSERT INTO docs(rowid, title, body) VALUES (?, ?, ?)",
            [(index, item.title, f"{item.text} {' '.join(item.authors[:5])}") for index, item in enumerate(items)],
        )
        lists: list[list[int]] = []
        for query in plan:
            expression = " OR ".join(_quoted(term) for term in query.terms)
            if not expression:
                lists.append([])
                continue
            rows = db.execute(
                "SELECT rowid FROM docs WHERE docs MATCH ? ORDER BY bm25(docs, ?, 1.0)",
                (expression, TITLE_WEIGHT),
            ).fetchall()
            lists.append([row[0] for row in rows])
        return lists
    finally:
        db.close()


def _quoted(term: str) -> str:
    """A term as an FTS5 string (a phrase when the tokenizer splits it), never as syntax."""
    return '"' + term.replace('"', '""') + '"'

"""The state a run leaves when its time budget ends before every source has answered.

:func:`to_state` gives a JSON-able dict (the plan, the evidence so far, each source's report,
and the queries still to ask); :func:`from_state` checks one and gives it back typed. Sealing
(so a client cannot forge or read it, and another replica can resume it) belongs to the caller.
The state is kept under ``max_state_bytes`` by shortening excerpts and then dropping the
lowest-ranked evidence, which the resumed run can find again.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mcp_workbench.platform.errors import InvalidInput
from mcp_workbench.research.models import MAX_QUESTION_CHARS, Evidence, SourceReport, SubQuery
from mcp_workbench.research.settings import Depth
from mcp_workbench.research.text import clip

STATE_VERSION: Final = 1
MAX_ROUNDS = 5
EXCERPT_STEPS = (1_000, 400, 160)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StoredQuery(_Strict):
    text: str = Field(max_length=MAX_QUESTION_CHARS)
    terms: list[str] = Field(max_length=32)


class StoredEvidence(_Strict):
    source: str = Field(max_length=64)
    title: str = Field(max_length=2_000)
    excerpt: str = Field(max_length=5_000)
    url: str | None = Field(default=None, max_length=4_000)
    uri: str | None = Field(default=None, max_length=4_000)
    doi: str | None = Field(default=None, max_length=300)
    arxiv_id: str | None = Field(default=None, max_length=64)
    published: str | None = Field(default=None, max_length=40)
    authors: list[str] = Field(default_factory=list, max_length=50)
    kind: str = Field(default="web", max_length=32)
    has_text: bool = True
    also_at: list[str] = Field(default_factory=list, max_length=50)
    also_from: list[str] = Field(default_factory=list, max_length=20)
    hits: list[tuple[str, int, int]] = Field(default_factory=list, max_length=100)


class StoredReport(_Strict):
    name: str = Field(max_length=64)
    status: Literal["ok", "failed", "timeout", "rate_limited", "skipped"]
    results: int = Field(ge=0)
    error: str | None = Field(default=None, max_length=2_000)
    elapsed_ms: float = Field(ge=0)


class RunState(_Strict):
    v: Literal[1] = STATE_VERSION
    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    depth: Depth
    max_results: int = Field(ge=1, le=50)
    since: dt.date | None = None
    round: int = Field(ge=1, le=MAX_ROUNDS)
    plan: list[StoredQuery] = Field(min_length=1, max_length=8)
    evidence: list[StoredEvidence] = Field(max_length=2_000)
    reports: list[StoredReport] = Field(max_length=64)
    pending: dict[str, list[int]] = Field(min_length=1, max_length=64)

    def sub_queries(self) -> list[SubQuery]:
        return [SubQuery(i, q.text, tuple(q.terms)) for i, q in enumerate(self.plan)]

    def restored_evidence(self) -> list[Evidence]:
        return [Evidence(**stored.model_dump()) for stored in self.evidence]

    def restored_reports(self) -> dict[str, SourceReport]:
        return {r.name: SourceReport(**r.model_dump()) for r in self.reports}


def to_state(
    *,
    question: str,
    depth: Depth,
    max_results: int,
    since: dt.date | None,
    round_: int,
    plan: list[SubQuery],
    evidence: list[Evidence],
    reports: list[SourceReport],
    pending: dict[str, list[int]],
    max_bytes: int,
) -> dict[str, Any]:
    """The run as a JSON-able dict of at most ``max_bytes`` (evidence in ranked order)."""
    base = {
        "v": STATE_VERSION,
        "question": question,
        "depth": depth,
        "max_results": max_results,
        "since": since.isoformat() if since else None,
        "round": round_,
        "plan": [{"text": q.text, "terms": list(q.terms)} for q in plan],
        "reports": [
            {"name": r.name, "status": r.status, "results": r.results, "error": r.error, "elapsed_ms": r.elapsed_ms}
            for r in reports
        ],
        "pending": pending,
    }
    kept = list(evidence)
    for limit in EXCERPT_STEPS:
        state = {**base, "evidence": [_stored(item, limit) for item in kept]}
        if _size(state) <= max_bytes:
            return state
    while kept:
        kept = kept[: len(kept) * 3 // 4]
        state = {**base, "evidence": [_stored(item, EXCERPT_STEPS[-1]) for item in kept]}
        if _size(state) <= max_bytes:
            return state
    return {**base, "evidence": []}


def from_state(data: Any, *, max_bytes: int) -> RunState:
    """A state given back by a caller, checked; INVALID_INPUT when it is not one of ours."""
    try:
        size = _size(data)
    except (TypeError, ValueError):
        size = max_bytes + 1
    if size > max_bytes:
        raise InvalidInput(
            "the continuation is too large to be one this server made",
            recovery_steps=["Start the research again without a continuation."],
        )
    try:
        state = RunState.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(
            "the continuation is not valid for this server",
            recovery_steps=["Start the research again without a continuation."],
            details={"problems": [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5]]},
        ) from None
    if state.round >= MAX_ROUNDS:
        raise InvalidInput(
            f"the research was continued {MAX_ROUNDS} times already",
            recovery_steps=["Use the result you have, or start again with a narrower question or fewer sources."],
        )
    return state


def _stored(item: Evidence, limit: int) -> dict[str, Any]:
    return {
        "source": item.source,
        "title": clip(item.title, 500),
        "excerpt": clip(item.text, limit),
        "url": item.url,
        "uri": item.uri,
        "doi": item.doi,
        "arxiv_id": item.arxiv_id,
        "published": item.published,
        "authors": item.authors[:20],
        "kind": item.kind,
        "has_text": item.has_text,
        "also_at": item.also_at[:20],
        "also_from": item.also_from[:10],
        "hits": [list(hit) for hit in item.hits[:40]],
    }


def _size(data: Any) -> int:
    return len(json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode())

"""The research run's values: the request, what sources find, and the result in the tool's shape.

:class:`Evidence` is what a source returns (mutable: dedupe folds duplicates into it, page
reading replaces its passage). :class:`ResearchResult` is the answer; its ``to_dict()`` is the
``structuredContent`` the ``research`` tool returns, field for field.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from mcp_workbench.research.settings import MAX_TIME_BUDGET_S, Depth

MAX_QUESTION_CHARS = 2_000

SourceStatus = Literal["ok", "failed", "timeout", "rate_limited", "skipped"]
SynthesisRoute = Literal["guard", "session", "server_model", "extractive"]
Confidence = Literal["low", "medium", "high"]


class ResearchRequest(BaseModel):
    """The arguments of one research call, validated and bounded."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS, description="What to find out.")
    sources: list[str] | None = Field(
        default=None,
        max_length=32,
        description="Sources to ask by name (data, files, wikipedia, arxiv, crossref, hackernews, gdelt, feeds, and "
        "any the operator enabled); default: every enabled source this key may use.",
    )
    depth: Depth = Field(default="standard", description="quick: fewer sub-questions; deep: more, and pages read.")
    max_results: int = Field(default=10, ge=1, le=50, description="Evidence items to return.")
    since: dt.date | None = Field(default=None, description="Only evidence published on or after this ISO date.")
    time_budget_s: float | None = Field(
        default=None,
        gt=0,
        le=MAX_TIME_BUDGET_S,
        description="Seconds the call may take (default 45); at the budget it answers with what it has and a "
        "continuation.",
    )

    @field_validator("question")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the question is empty")
        return value.strip()


MAX_CONTINUATION_CHARS = 400_000


class ResearchArgs(ResearchRequest):
    """The ``research`` tool's arguments: a request, or the continuation of an earlier one."""

    continuation: str | None = Field(
        default=None,
        max_length=MAX_CONTINUATION_CHARS,
        description="The continuation token of an earlier answer that ran out of time: resumes that run "
        "(same question) with the sources it had not finished.",
    )


@dataclass(frozen=True)
class SubQuery:
    """One sub-question: readable ``text`` and its key ``terms``, most specific first."""

    index: int
    text: str
    terms: tuple[str, ...]

    def core(self) -> tuple[str, ...]:
        """The terms that name the subject (framing words such as "effects" left out), or all."""
        from mcp_workbench.research.text import GENERIC

        specific = tuple(term for term in self.terms if term not in GENERIC)
        return specific or self.terms

    def keywords(self, most: int | None = None) -> str:
        """The core terms as a plain keyword query, the most specific ``most`` of them."""
        core = self.core()
        return " ".join(core[:most] if most else core)


@dataclass
class Evidence:
    """One thing a source found. ``url`` is a web address, ``uri`` a resource the client can read
    (``data://…``, ``files://…``) for local sources; at least one is set."""

    source: str
    title: str
    excerpt: str
    url: str | None = None
    uri: str | None = None
    doi: str | None = None
    arxiv_id: str | None = None
    published: str | None = None
    authors: list[str] = field(default_factory=list)
    kind: str = "web"
    has_text: bool = True  # False when ``excerpt`` only describes the item (a headline's site and date)
    rank: int = 0  # position in the source's own answer
    query: int = 0  # the sub-question it answered
    also_at: list[str] = field(default_factory=list)
    also_from: list[str] = field(default_factory=list)  # other sources that returned the same item
    passage: str | None = None  # a better passage read from the page itself
    hits: list[tuple[str, int, int]] = field(default_factory=list)  # (source, sub-question, rank): set when gathered

    @property
    def text(self) -> str:
        """What ranking, synthesis and validation read."""
        return self.passage or self.excerpt

    @property
    def address(self) -> str | None:
        return self.url or self.uri

    def key(self) -> str:
        """A stable id: DOI, arXiv id, else the source and its address."""
        if self.doi:
            return f"doi:{self.doi}"
        if self.arxiv_id:
            return f"arxiv:{self.arxiv_id}"
        return f"{self.source}:{self.address or self.title}"


@dataclass
class EvidenceItem:
    n: int
    id: str
    source: str
    title: str
    url: str | None
    uri: str | None
    doi: str | None
    published: str | None
    authors: list[str]
    excerpt: str
    score: float
    also_at: list[str]
    also_from: list[str] = field(default_factory=list)  # other sources that returned the same item


@dataclass
class SourceReport:
    name: str
    status: SourceStatus
    results: int = 0
    error: str | None = None
    elapsed_ms: float = 0.0


@dataclass
class Validation:
    score: float
    citations_resolved: bool
    supported_sentences: int
    cited_sentences: int
    source_diversity: float
    coverage: float
    corroboration: float = 0.0
    removed_markers: int = 0


@dataclass
class ResearchResult:
    question: str
    plan: list[str]
    evidence: list[EvidenceItem]
    synthesis: str
    synthesis_route: SynthesisRoute
    sources: list[SourceReport]
    validation: Validation
    confidence: Confidence
    continuation: str | None = None
    state: dict[str, Any] | None = None  # the unsealed continuation; the adapter seals it into ``continuation``

    def to_dict(self) -> dict[str, Any]:
        """The tool's ``structuredContent``."""
        data = asdict(self)
        data.pop("state")
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ResearchResult:
        """A result this server made (``to_dict()``), back from sealed state."""
        return cls(
            **{
                **data,
                "evidence": [EvidenceItem(**item) for item in data["evidence"]],
                "sources": [SourceReport(**report) for report in data["sources"]],
                "validation": Validation(**data["validation"]),
            }
        )

    @property
    def unfinished(self) -> bool:
        return self.state is not None


@dataclass(frozen=True)
class Progress:
    """One progress notification: ``progress`` of ``total`` steps, and what is happening."""

    progress: float
    total: float
    message: str
    phase: str


ProgressCallback = Callable[[Progress], Awaitable[None]]

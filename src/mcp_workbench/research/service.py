"""The research run: plan -> gather -> dedupe -> rank -> read -> synthesise -> validate.

:class:`ResearchService` is what the tool adapter calls. It owns the etiquette layer (one
pacer per host, shared by every run) and the public sources; per call it is given the local
sources the caller may use and, when a model is reachable, a planner and a synthesiser, and
when the web service is, a page reader.

Time: the run has ``time_budget_s``. Sources are asked concurrently, each within its own
timeout and the run's gathering deadline (the budget less a reserve for the steps after it).
What has not answered by then is marked ``timeout``; when the budget cut it, its queries go into
a continuation state that :meth:`ResearchService.run` resumes. A source's failure is only
reported, never raised.
"""

from __future__ import annotations

import datetime as dt
import difflib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio

from mcp_workbench.platform.errors import InvalidInput
from mcp_workbench.research.continuation import from_state, to_state
from mcp_workbench.research.dedupe import dedupe
from mcp_workbench.research.errors import SourceProblem
from mcp_workbench.research.etiquette import HostRules, PoliteHttp
from mcp_workbench.research.models import (
    Evidence,
    EvidenceItem,
    ProgressCallback,
    ResearchRequest,
    ResearchResult,
    SourceReport,
    SourceStatus,
    SubQuery,
)
from mcp_workbench.research.pacing import MemoryPaceBook, PaceBook
from mcp_workbench.research.plan import Planner, plan_with
from mcp_workbench.research.progress import Reporter
from mcp_workbench.research.rank import Ranked, rank
from mcp_workbench.research.reading import Reader, read_pages
from mcp_workbench.research.report import render
from mcp_workbench.research.settings import Depth, DepthPreset, ResearchSettings
from mcp_workbench.research.sources.base import RunMemo, SearchContext, Source, WebSource
from mcp_workbench.research.sources.registry import public_sources
from mcp_workbench.research.synthesis import Synthesiser, synthesise
from mcp_workbench.research.text import clip
from mcp_workbench.research.validation import confidence, validate
from mcp_workbench.web.port import WebClient

log = logging.getLogger("mcp_workbench.research")

EXCERPT_CHARS = 600
MAX_RESERVE_S = 2.0  # kept back from gathering for ranking, synthesis and validation
RESERVE_SHARE = 0.1
BUDGET_CUT = "the time budget ran out"
Sealer = Callable[[dict[str, Any]], str]


@dataclass
class _Call:
    """What one call asks: from its arguments, or from the continuation it resumes."""

    question: str
    depth_name: Depth
    depth: DepthPreset
    max_results: int
    since: dt.date | None
    names: list[str]  # every source reported, in order
    sources: list[Source]  # the ones to ask now
    plan: list[SubQuery] = field(default_factory=list)
    todo: dict[str, list[int]] = field(default_factory=dict)  # source -> sub-questions to ask it
    earlier: list[Evidence] = field(default_factory=list)
    reports: dict[str, SourceReport] = field(default_factory=dict)
    round: int = 1


@dataclass
class _Outcome:
    """What one source did in this run."""

    source: str
    asked: int = 0
    answered: int = 0
    found: list[Evidence] = field(default_factory=list)
    problems: list[SourceProblem] = field(default_factory=list)
    pending: list[int] = field(default_factory=list)
    elapsed_s: float = 0.0


class ResearchService:
    """Research runs over the public sources and the local ones a call brings."""

    name = "research"

    def __init__(
        self,
        settings: ResearchSettings,
        http: WebClient | None,
        *,
        sources: Mapping[str, Source] | None = None,
        book: PaceBook | None = None,
    ) -> None:
        self.settings = settings
        self.book = book if book is not None else MemoryPaceBook()
        self.http = PoliteHttp(http, settings, self.book) if http is not None else None
        self.sources: dict[str, Source] = dict(public_sources() if sources is None else sources)

    async def aclose(self) -> None:
        """Let go of the pace book's connection (the web client belongs to the web capability)."""
        await self.book.aclose()

    def source_names(self, local: Sequence[Source] = ()) -> list[str]:
        """Names a request may list: the public sources and the given local ones."""
        return [*self.sources, *(s.name for s in local if s.name not in self.sources)]

    async def run(
        self,
        request: ResearchRequest,
        *,
        local: Sequence[Source] = (),
        progress: ProgressCallback | None = None,
        planner: Planner | None = None,
        synthesiser: Synthesiser | None = None,
        reader: Reader | None = None,
        continuation: Mapping[str, Any] | None = None,
        sealer: Sealer | None = None,
        public: bool = True,
    ) -> ResearchResult:
        """One research call.

        ``local``: the caller's own sources (scoped by the adapter). ``continuation``: the
        ``state`` of an earlier result (unsealed by the caller); the run then asks only what
        that one left pending. ``sealer`` turns a new state into the result's ``continuation``.
        ``public``: whether the caller may use the public sources at all; when not, they are
        absent from this call, as if not configured.
        """
        start = anyio.current_time()
        budget = request.time_budget_s or self.settings.time_budget_s
        deadline = start + budget
        call = self._prepare(request, local, continuation, public=public)
        reporter = Reporter(progress, total=len(call.sources) + 5, heartbeat_s=self.settings.heartbeat_s)
        await reporter.send("plan", f"planning: {clip(call.question, 120)}", step=False)
        async with reporter.heartbeat():
            if not call.plan:
                call.plan = await plan_with(call.question, call.depth.sub_questions, planner)
                for source in call.sources:
                    cap = min(call.depth.queries_per_source, source.max_queries or call.depth.queries_per_source)
                    call.todo[source.name] = [q.index for q in call.plan[:cap]]
            asked = ", ".join(call.names) or "nothing"
            await reporter.send("plan", f"plan: {len(call.plan)} sub-question(s); asking {asked}")
            gather_deadline = deadline - min(MAX_RESERVE_S, budget * RESERVE_SHARE)
            outcomes = await self._gather(call, start, gather_deadline, reporter)
            result = await self._conclude(call, outcomes, deadline, reporter, synthesiser=synthesiser, reader=reader)
        if result.state is not None and sealer is not None:
            result.continuation = sealer(result.state)
        await reporter.send("done", f"done in {anyio.current_time() - start:.1f} s")
        return result

    def _prepare(
        self, request: ResearchRequest, local: Sequence[Source], continuation: Mapping[str, Any] | None, *, public: bool
    ) -> _Call:
        public_sources = self.sources if public else {}
        everything = {**{s.name: s for s in local}, **public_sources}
        if continuation is None:
            names = self._selected(request.sources, everything, local, public_sources)
            return _Call(
                question=request.question,
                depth_name=request.depth,
                depth=self.settings.depth(request.depth),
                max_results=request.max_results,
                since=request.since,
                names=names,
                sources=[everything[n] for n in names],
            )
        state = from_state(continuation, max_bytes=self.settings.max_state_bytes)
        reports = state.restored_reports()
        return _Call(
            question=state.question,
            depth_name=state.depth,
            depth=self.settings.depth(state.depth),
            max_results=state.max_results,
            since=state.since,
            names=list(reports),
            sources=[everything[n] for n in state.pending if n in everything],
            plan=state.sub_queries(),
            todo={name: list(queries) for name, queries in state.pending.items()},
            earlier=state.restored_evidence(),
            reports=reports,
            round=state.round + 1,
        )

    async def _conclude(
        self,
        call: _Call,
        outcomes: list[_Outcome],
        deadline: float,
        reporter: Reporter,
        *,
        synthesiser: Synthesiser | None,
        reader: Reader | None,
    ) -> ResearchResult:
        evidence = list(call.earlier)
        for outcome in outcomes:
            call.reports[outcome.source] = _report(outcome, call.reports.get(outcome.source))
            evidence.extend(outcome.found)
        await reporter.send("rank", f"ranking {len(evidence)} results")
        weights = {name: config.weight for name, config in self.settings.sources.items()}
        ranked = rank(dedupe(_since(evidence, call.since)), call.plan, weights)
        top = ranked[: call.max_results]
        numbered = [(n, r.evidence) for n, r in enumerate(top, start=1)]
        if reader is not None and call.depth.read_pages:
            await reporter.send("read", "reading the top pages")
            await read_pages(reader, [e for _, e in numbered], call.plan, call.depth.read_pages, deadline - 0.5)
        items = [_item(n, r) for n, r in enumerate(top, start=1)]
        await reporter.send("synthesise", "writing the synthesis")
        text, route, removed = await synthesise(call.question, call.plan, numbered, items, synthesiser)
        reports = [call.reports[n] for n in call.names if n in call.reports]
        with_results = sum(1 for r in reports if r.results > 0)
        validation = validate(text, numbered, call.plan, ranked, sources_with_results=with_results, removed=removed)
        await reporter.send("validate", f"validated: score {validation.score:.2f}")
        pending = {o.source: sorted(o.pending) for o in outcomes if o.pending}
        state = None
        if pending:
            state = to_state(
                question=call.question,
                depth=call.depth_name,
                max_results=call.max_results,
                since=call.since,
                round_=call.round,
                plan=call.plan,
                evidence=[r.evidence for r in ranked],
                reports=reports,
                pending=pending,
                max_bytes=self.settings.max_state_bytes,
            )
        return ResearchResult(
            question=call.question,
            plan=[q.text for q in call.plan],
            evidence=items,
            synthesis=text,
            synthesis_route=route,
            sources=reports,
            validation=validation,
            confidence=confidence(validation),
            state=state,
        )

    def render(self, result: ResearchResult) -> str:
        """The readable report of a result (the tool's text content)."""
        return render(result)

    def _selected(
        self,
        requested: list[str] | None,
        everything: Mapping[str, Source],
        local: Sequence[Source],
        public: Mapping[str, Source],
    ) -> list[str]:
        if requested is None:
            enabled = [n for n, c in self.settings.sources.items() if c.enabled and n in public]
            extra = [n for n in public if n not in self.settings.sources]
            return [*(s.name for s in local), *enabled, *extra]
        unknown = [n for n in requested if n not in everything]
        if unknown:
            known = sorted(everything)
            raise InvalidInput(
                f"unknown research source(s): {', '.join(unknown)}",
                recovery_steps=[
                    f"Use names from: {', '.join(known)}; or leave 'sources' out to ask every enabled one."
                ],
                details={
                    "unknown": unknown,
                    "did_you_mean": [m for n in unknown for m in difflib.get_close_matches(n, known, n=1)],
                },
            )
        return list(dict.fromkeys(requested))

    def _skipped(self, chosen: list[Source]) -> dict[str, str]:
        skipped: dict[str, str] = {}
        for source in chosen:
            config = self.settings.sources.get(source.name)
            if config is not None and not config.enabled:
                skipped[source.name] = f"disabled ([research.sources.{source.name}] enabled = false)"
            elif isinstance(source, WebSource):
                if self.http is None:
                    skipped[source.name] = "no HTTP client is available to this server's research"
                elif reason := source.unusable(self.settings):
                    skipped[source.name] = reason
        return skipped

    async def _gather(self, call: _Call, start: float, gather_deadline: float, reporter: Reporter) -> list[_Outcome]:
        """Ask every usable source its queries, concurrently; report the skipped ones."""
        skipped = self._skipped(call.sources)
        for name, reason in skipped.items():
            call.reports[name] = SourceReport(name, "skipped", 0, reason, 0.0)
        sources = [s for s in call.sources if s.name not in skipped]
        plan, todo, limit, since = call.plan, call.todo, call.depth.results_per_query, call.since
        outcomes = [_Outcome(s.name) for s in sources]
        reporter.waiting = [s.name for s in sources]
        await reporter.send("gather", f"asking {len(sources)} source(s)", step=False)

        async def one_source(source: Source, outcome: _Outcome) -> None:
            config = self.settings.sources.get(source.name)
            own_deadline = start + (config.timeout_s if config else self.settings.time_budget_s)
            deadline = min(own_deadline, gather_deadline)
            ctx = SearchContext(
                source=source.name,
                settings=self.settings,
                config=config,
                limit=limit,
                since=since,
                deadline=deadline,
                http=self.http,
                rules=_rules(source, self.settings),
                memo=RunMemo(),
            )
            began = anyio.current_time()
            queries = [plan[i] for i in todo.get(source.name, []) if i < len(plan)]

            async def one_query(query: SubQuery) -> None:
                outcome.asked += 1
                with anyio.CancelScope(deadline=deadline) as scope:
                    try:
                        found = await source.search(query, ctx)
                    except SourceProblem as problem:
                        outcome.problems.append(problem)
                        if problem.status == "timeout" and deadline >= gather_deadline:
                            outcome.pending.append(query.index)
                        return
                    except Exception as exc:
                        log.warning(
                            "research source failed", exc_info=True, extra={"source": source.name, "query": query.text}
                        )
                        outcome.problems.append(SourceProblem("failed", f"{type(exc).__name__}: {exc}"))
                        return
                if scope.cancelled_caught:
                    if deadline >= gather_deadline:
                        outcome.problems.append(SourceProblem("timeout", BUDGET_CUT))
                        outcome.pending.append(query.index)
                    else:
                        outcome.problems.append(
                            SourceProblem("timeout", f"no answer within its timeout of {config.timeout_s:g} s")
                            if config
                            else SourceProblem("timeout", "no answer in time")
                        )
                    return
                outcome.answered += 1
                for item in found[:limit]:
                    if item.url is None and item.uri is None:
                        continue
                    item.source, item.query = source.name, query.index
                    item.hits = [(source.name, query.index, item.rank)]
                    outcome.found.append(item)

            async with anyio.create_task_group() as group:
                for query in queries:
                    group.start_soon(one_query, query)
            outcome.elapsed_s = anyio.current_time() - began
            reporter.waiting = [name for name in reporter.waiting if name != source.name]
            status = _status(outcome)
            await reporter.send("gather", f"{source.name}: {status}, {len(outcome.found)} results")

        async with anyio.create_task_group() as group:
            for source, outcome in zip(sources, outcomes, strict=True):
                group.start_soon(one_source, source, outcome)
        for name, reason in skipped.items():
            await reporter.send("gather", f"{name}: skipped ({reason})")
        return outcomes


def _rules(source: Source, settings: ResearchSettings) -> HostRules:
    if isinstance(source, WebSource):
        return source.etiquette(settings).configured(settings.sources.get(source.name))
    return HostRules()


def _status(outcome: _Outcome) -> SourceStatus:
    """The worst thing that happened to a source's queries."""
    for status in ("rate_limited", "timeout", "failed", "skipped"):
        if any(p.status == status for p in outcome.problems):
            return status
    return "ok"


def _report(outcome: _Outcome, earlier: SourceReport | None) -> SourceReport:
    status = _status(outcome)
    error = None
    if outcome.problems:
        first = next(p for p in outcome.problems if p.status == status)
        error = first.message
        if status == "timeout" and outcome.pending:
            error = f"{BUDGET_CUT} after {outcome.answered} of {outcome.asked} queries; the continuation asks the rest"
    results = len({item.key() for item in outcome.found})
    elapsed = outcome.elapsed_s * 1000
    if earlier is not None:
        results += earlier.results
        elapsed += earlier.elapsed_ms
    return SourceReport(outcome.source, status, results, error, round(elapsed, 1))


def _since(items: list[Evidence], since: Any) -> list[Evidence]:
    if since is None:
        return items
    floor = since.isoformat()
    return [i for i in items if not i.published or i.published >= floor[: len(i.published)]]


def _item(n: int, ranked: Ranked) -> EvidenceItem:
    e = ranked.evidence
    return EvidenceItem(
        n=n,
        id=e.key(),
        source=e.source,
        title=e.title,
        url=e.url,
        uri=e.uri,
        doi=e.doi,
        published=e.published,
        authors=e.authors[:10],
        excerpt=clip(e.text, EXCERPT_CHARS),
        score=ranked.score,
        also_at=list(e.also_at),
        also_from=list(e.also_from),
    )

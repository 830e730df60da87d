"""The analysis capability's domain API: ``analyze(args, caller, sampler)``.

It gathers the context (through the gatherers, on the caller's behalf), renders it within the
caps, and then, by mode and by the route the call has to a model: runs the loop, returns the
model-free brief, or scores the caller's draft. It knows no MCP: the model is reached through
the :class:`~mcp_workbench.platform.sampling.Sampler` the tool hands it, and on the guard route
the loop's result may be :class:`~mcp_workbench.platform.sampling.Pending` (the client answers
a round first), which the tool returns as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from mcp_workbench.analysis.brief import brief_result, score_result
from mcp_workbench.analysis.context import ContextGatherer, TextGatherer, gather_all, require_gatherers
from mcp_workbench.analysis.loop import AnalysisLoop, LoopSettings
from mcp_workbench.analysis.models import AnalyzeArgs
from mcp_workbench.analysis.render import RenderedContext, render_context
from mcp_workbench.analysis.result import DEFAULT_CRITERIA, AnalysisResult
from mcp_workbench.analysis.settings import AnalysisSettings
from mcp_workbench.platform.sampling import Budget, Pending, Progress, Route, Sampler

if TYPE_CHECKING:
    from mcp_workbench.platform.identity import Caller

CALL_BUDGET_MARGIN = 0.1
"""Share of the tool's own time budget kept back on the inline routes, to answer with the best so far
before the call is cut off."""


class AnalysisService:
    def __init__(
        self,
        settings: AnalysisSettings,
        *,
        gatherers: Mapping[str, ContextGatherer] | None = None,
        call_budget_s: float | None = None,
    ) -> None:
        self.settings = settings
        self.gatherers: dict[str, ContextGatherer] = {"text": TextGatherer(), **(gatherers or {})}
        self.call_budget_s = call_budget_s

    async def analyze(
        self, args: AnalyzeArgs, caller: Caller, sampler: Sampler, progress: Progress | None = None
    ) -> AnalysisResult | Pending:
        s = self.settings
        criteria = tuple(args.criteria) or DEFAULT_CRITERIA
        report = progress or _silent
        if sampler.continuing:  # a later guard round: the state holds the context gathered in the first
            loop = self._loop(args, criteria, sampler)
            outcome = await sampler.run(loop, self._budget(sampler.route), progress)
            return await _finished(outcome, report)
        require_gatherers(args.context, self.gatherers)
        rendered = await self._context(args, caller, report)
        threshold, words = args.quality_threshold, {"min_words": s.min_words, "max_words": s.max_words}
        if args.mode == "score":
            assert args.draft is not None
            await report(0, None, "checking the draft")
            return score_result(
                args.task, args.draft, criteria, bool(args.criteria), rendered, threshold=threshold, **words
            )
        if args.mode == "brief" or sampler.route is Route.NONE:
            await report(
                0, None, "writing the brief (no model on this call)" if args.mode == "auto" else "writing the brief"
            )
            return brief_result(args.task, criteria, rendered, threshold=threshold, requested=args.mode == "brief",
                                **words)  # fmt: skip
        loop = self._loop(args, criteria, sampler, rendered)
        outcome = await sampler.run(loop, self._budget(sampler.route), progress)
        return await _finished(outcome, report)

    async def _context(self, args: AnalyzeArgs, caller: Caller, report: Progress) -> RenderedContext:
        s = self.settings
        if args.context:
            await report(0, None, f"gathering {len(args.context)} context item(s)")
        gathered = await gather_all(args.context, caller, self.gatherers, max_rows=s.item_rows)
        rendered = render_context(gathered, args.task, item_chars=s.item_chars, total_chars=s.total_chars)
        cut = f", {len(rendered.cut)} cut(s) at the size caps" if rendered.cut else ""
        await report(0, None, f"context profiled: {len(rendered.text):,} characters{cut}")
        return rendered

    def _loop(
        self, args: AnalyzeArgs, criteria: tuple[str, ...], sampler: Sampler, rendered: RenderedContext | None = None
    ) -> AnalysisLoop:
        s = self.settings
        max_rounds = sampler.max_rounds
        settings = LoopSettings(
            task=args.task,
            criteria=criteria,
            custom_criteria=bool(args.criteria),
            max_iterations=args.max_iterations,
            threshold=args.quality_threshold,
            candidates=args.candidates,
            route=str(sampler.route),
            max_tokens=s.max_tokens,
            judge_max_tokens=s.judge_max_tokens,
            min_words=s.min_words,
            max_words=s.max_words,
            plateau_delta=s.plateau_delta,
            plateau_rounds=s.plateau_rounds,
            pipelined=max_rounds is not None and 2 * args.max_iterations > max_rounds,
        )
        if rendered is None:
            return AnalysisLoop(settings)
        return AnalysisLoop(settings, context=rendered.text, cut=rendered.cut)

    def _budget(self, route: Route) -> Budget:
        """The whole analysis's time; inline routes must also end within this call's own budget."""
        limit = self.settings.time_budget_s
        if route is not Route.GUARD and self.call_budget_s is not None:
            limit = min(limit, self.call_budget_s * (1 - CALL_BUDGET_MARGIN))
        return Budget(limit)


async def _silent(done: float, total: float | None, message: str) -> None:
    """Progress nobody asked for."""


async def _finished(outcome: AnalysisResult | Pending, report: Progress) -> AnalysisResult | Pending:
    if isinstance(outcome, AnalysisResult):
        await report(
            outcome.iterations_used, None, f"finished: {outcome.stop_reason}, score {outcome.quality_score:.2f}"
        )
    return outcome

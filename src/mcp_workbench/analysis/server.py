"""The analysis capability on MCP: the ``analyze`` tool and the ``analysis`` prompt.

Thin by design: the tool opens the call's route to a model (the sampling bridge), hands the
arguments to :class:`~mcp_workbench.analysis.service.AnalysisService`, and returns its result,
or, on the guard route, the round the client must answer first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from fastmcp import FastMCP
from fastmcp.server.dependencies import get_context
from fastmcp.tools.base import ToolResult
from mcp_types import ToolAnnotations

from mcp_workbench.analysis.gatherers import gatherers
from mcp_workbench.analysis.models import ITEM_MODELS, AnalyzeArgs
from mcp_workbench.analysis.settings import AnalysisSection, AnalysisSettings
from mcp_workbench.capability import Capability, Lazy, Services
from mcp_workbench.platform.identity import current_caller
from mcp_workbench.platform.sampling import Pending
from mcp_workbench.platform.sampling.bridge import SamplingBridge, pending_result
from mcp_workbench.platform.sampling.server_model import ServerModel
from mcp_workbench.platform.tool_adapters import Answer, ModelTool, model_schema
from mcp_workbench.scopes import ANALYZE, scope_tags

if TYPE_CHECKING:
    from mcp_workbench.analysis.context import ContextGatherer
    from mcp_workbench.analysis.service import AnalysisService

TOOL_NAME = "analyze"
PROMPT_NAME = "analysis"

ANALYZE_DESCRIPTION = """Analyse a task over context (text, and where this server offers them SQL results, tables,
files, web pages) and get a checked answer. Never changes anything.
With a model (your client's, when it supports sampling, or the server's): candidates are generated, checked by
the server (figures against the data, quotes against the context, criteria covered, length) and rated on the
rubric; the best is kept; it stops at quality_threshold, on a plateau or at max_iterations.
Without one (route "none"): the answer holds a brief (computed profiles of the data, key passages, a ready
prompt, the rubric). Write the analysis from it yourself, then call again with mode "score" and your draft to
get what to fix; repeat until threshold_met. The answer's next_step always says what to do."""

ANALYSIS_PROMPT = """Produce a checked analysis of: {task}

1. Decide what the analysis must rest on and pass it as `context` items to the `analyze` tool:
   {{"kind": "text", "text": "..."}} for text you have{kinds}.
2. Call `analyze` with {{"task": ..., "context": [...], "criteria": [...]}}.{criteria_line}
3. Read `route` and `next_step` in the answer:
   - a `result` came back: present it with its `quality_score`; mention any failed `checks`.
   - route "none": there is no model for the server to use. Write the analysis yourself from `brief.prompt`,
     then call `analyze` again with the same task, context and criteria, `"mode": "score"` and your text as
     `draft`. Fix every check it flags (figures must come from the context, quotes must be word for word)
     and score again until `threshold_met` is true, then present it.
4. Never present figures the checks flag as unmatched without saying where they come from."""


def _flat_item_schema() -> dict[str, Any]:
    """One object schema for a context item (``kind`` picks the fields), as clients accept it:
    several reject ``oneOf``. The union is enforced when the arguments are validated."""
    properties: dict[str, Any] = {}
    kinds = []
    for model in ITEM_MODELS:
        schema = model_schema(model)
        kinds.append(schema["properties"]["kind"]["const"])
        for name, prop in schema["properties"].items():
            if name != "kind":
                properties.setdefault(name, prop)
    description = "What kind of item: " + "; ".join(
        f"{kind}: {(model.__doc__ or '').strip()}" for kind, model in zip(kinds, ITEM_MODELS, strict=True)
    )
    return {
        "type": "object",
        "properties": {"kind": {"type": "string", "enum": kinds, "description": description}, **properties},
        "required": ["kind"],
        "additionalProperties": False,
    }


def analyze_tool(capability: AnalysisCapability) -> ModelTool:
    tool = ModelTool.build(
        name=TOOL_NAME,
        title="Analyse with checks and a rubric",
        description=ANALYZE_DESCRIPTION,
        model=AnalyzeArgs,
        handler=capability.handle,
        annotations=ToolAnnotations(readOnlyHint=True, destructiveHint=False, idempotentHint=False, openWorldHint=True),
        scope=ANALYZE,
    )
    tool.parameters["properties"]["context"]["items"] = _flat_item_schema()
    return tool


class AnalysisCapability(Capability):
    """The analysis capability as the composition root sees it.

    ``gatherers`` maps the context kinds other than ``text`` to what gathers them on the caller's
    behalf; a kind without one is refused with VALIDATION_ERROR.
    """

    name = "analysis"

    def __init__(
        self,
        settings: AnalysisSettings,
        *,
        max_state_bytes: int,
        call_budget_s: float | None = None,
        gatherers: Mapping[str, ContextGatherer] | None = None,
    ) -> None:
        self.settings = settings
        model = ServerModel(settings.model) if settings.model.configured else None
        self.bridge = SamplingBridge(
            prefer=settings.prefer,
            server_model=model,
            session_timeout_s=settings.request_timeout_s,
            max_state_bytes=max_state_bytes,
        )
        self.gatherers = dict(gatherers or {})
        self.service: Lazy[AnalysisService] = Lazy(lambda: _open(settings, self.gatherers, call_budget_s))

    async def aclose(self) -> None:
        await self.bridge.aclose()

    async def handle(self, args: AnalyzeArgs) -> Answer | ToolResult:
        call = self.bridge.open(get_context(), use_model=args.mode == "auto")
        outcome = await self.service.get().analyze(args, current_caller(), call, call.progress)
        if isinstance(outcome, Pending):
            return pending_result(outcome)
        return Answer(outcome.text(), outcome.data())

    def kinds(self) -> list[str]:
        return sorted({"text", *self.gatherers})


def _open(
    settings: AnalysisSettings, gatherers: Mapping[str, ContextGatherer], call_budget_s: float | None
) -> AnalysisService:
    from mcp_workbench.analysis.service import AnalysisService

    return AnalysisService(settings, gatherers=gatherers, call_budget_s=call_budget_s)


def install(mcp: FastMCP, section: AnalysisSection, services: Services) -> AnalysisCapability:
    capability = AnalysisCapability(
        section.analysis,
        max_state_bytes=section.max_state_bytes,
        call_budget_s=section.call_budget_s,
        gatherers=gatherers(services),
    )
    register_analysis(mcp, capability)
    return capability


def register_analysis(mcp: FastMCP, capability: AnalysisCapability) -> None:
    mcp.add_tool(analyze_tool(capability))

    @mcp.prompt(
        name=PROMPT_NAME,
        title="Checked analysis",
        description="Guide through the analyze loop: context, analysis, and (without a model) writing a draft "
        "from the brief and scoring it until it passes.",
        tags=scope_tags(ANALYZE),
    )
    def analysis(task: str, criteria: str = "") -> str:
        others = [k for k in capability.kinds() if k != "text"]
        examples = {
            "sql": '{"kind": "sql", "source": "workspace", "sql": "SELECT ..."}',
            "table": '{"kind": "table", "source": "workspace", "table": "..."}',
            "file": '{"kind": "file", "root": "...", "path": "..."}',
            "url": '{"kind": "url", "url": "https://..."}',
        }
        kinds = "".join(f", {examples[k]}" for k in others if k in examples)
        listed = [line.strip() for line in criteria.splitlines() if line.strip()]
        criteria_line = f"\n   Use these criteria: {'; '.join(listed)}." if listed else ""
        return ANALYSIS_PROMPT.format(task=task, kinds=kinds, criteria_line=criteria_line)

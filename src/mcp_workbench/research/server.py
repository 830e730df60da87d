"""The research capability on MCP: the ``research`` tool and the ``research_brief`` prompt.

Thin by design: per call, the tool works out what the caller may reach (its own databases and
files through their readers, the public sources through the web client, each only with the
key's scope), opens the call's route to a model, relays progress, seals the continuation, and
hands the rest to :class:`~mcp_workbench.research.service.ResearchService`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastmcp import FastMCP
from fastmcp.server.dependencies import get_context
from fastmcp.tools.base import ToolResult
from mcp_types import ToolAnnotations

from mcp_workbench.capability import Capability, Lazy, Services
from mcp_workbench.data.port import DataReader
from mcp_workbench.files.port import FilesReader
from mcp_workbench.platform.identity import Caller, current_caller
from mcp_workbench.platform.sampling import Budget, Pending, Route
from mcp_workbench.platform.sampling.bridge import SamplingBridge, SamplingCall, pending_result
from mcp_workbench.platform.sampling.endpoint import ModelEndpointSettings
from mcp_workbench.platform.sampling.server_model import ServerModel
from mcp_workbench.platform.sealing import Sealer, StateSettings, secrets_of
from mcp_workbench.platform.tool_adapters import Answer, ModelTool
from mcp_workbench.research.models import Progress, ResearchArgs, ResearchRequest, ResearchResult
from mcp_workbench.research.settings import ResearchSettings
from mcp_workbench.scopes import RESEARCH, scope_tags
from mcp_workbench.web.port import WebClient, WebReader

if TYPE_CHECKING:
    from mcp_workbench.research.service import ResearchService
    from mcp_workbench.research.sources.base import Source

TOOL_NAME = "research"
PROMPT_NAME = "research_brief"
CONTINUATION = "research-continuation"

DESCRIPTION = """Research a question across your own databases and files and public sources (Wikipedia, arXiv,
Crossref, Hacker News, GDELT news, configured feeds) in one call; never changes anything.
Returns ranked evidence (each with a url, or a data:// / files:// uri you can read), a synthesis whose [n] markers
cite that evidence, each source's status, a validation score and a confidence. Progress is reported as it works.
When time runs out it answers with what it has and a 'continuation': call again with it to finish the rest.
A source that fails or is slow is reported by name and costs nothing else."""

BRIEF_PROMPT = """Research this question and report what the evidence says: {question}

1. Call the `research` tool with {{"question": "{question}"{depth}}}.
2. If the answer has a `continuation`, call `research` again with it until it has none (or enough is known).
3. Report the `synthesis`, keeping its [n] markers, then the numbered sources (title and url or uri).
4. Say how sure the evidence lets you be: quote `confidence` and `validation.score`, and name any source whose
   status is not ok. Read the most important items yourself (web_fetch for urls, the resource for data:// and
   files:// uris) before relying on a single source."""


@dataclass(frozen=True)
class ResearchSection:
    """What the research capability is installed with: its ``[research]`` section, and what it
    shares with the rest of the server (sealing keys, the model the operator configured, where
    the turns at the providers are booked)."""

    research: ResearchSettings
    state: StateSettings
    prefer: Any = "client"
    model: ModelEndpointSettings | None = None
    request_timeout_s: float = 120.0
    pacing_storage: str = "memory://"


class ResearchCapability(Capability):
    name = "research"

    def __init__(self, section: ResearchSection, services: Services) -> None:
        self.section = section
        self.services = services
        model = section.model
        self.bridge = SamplingBridge(
            prefer=section.prefer,
            server_model=ServerModel(model) if model is not None and model.configured else None,
            session_timeout_s=section.request_timeout_s,
            max_state_bytes=section.state.max_bytes,
        )
        self.sealer = Sealer(secrets_of(section.state), ttl_s=section.state.ttl_s)
        self.service: Lazy[ResearchService] = Lazy(self._open)

    def _open(self) -> ResearchService:
        from mcp_workbench.research.pacing import open_pace_book
        from mcp_workbench.research.service import ResearchService

        client = self.services.for_caller(_BUILDER).get(WebClient) if self.services.offered(WebClient) else None
        return ResearchService(self.section.research, client, book=open_pace_book(self.section.pacing_storage))

    async def aclose(self) -> None:
        await self.bridge.aclose()
        if (service := self.service.built) is not None:
            await service.aclose()

    async def handle(self, args: ResearchArgs) -> Answer | ToolResult:
        from mcp_workbench.research import local, modelsteps

        ctx = get_context()
        call = self.bridge.open(ctx)
        if call.continuing:  # the client's model answered the synthesis round: the run itself is done
            return self._answer(await self._synthesis_round(call, None))
        caller = current_caller()
        reach = self.services.for_caller(caller)
        sources: list[Source] = []
        if reach.may(DataReader):
            sources.append(local.DataSource(reach.get(DataReader)))
        if reach.may(FilesReader):
            sources.append(local.FilesSource(reach.get(FilesReader)))
        binding = _binding(args, caller)
        continuation = (
            self.sealer.unseal(CONTINUATION, args.continuation, binding=binding) if args.continuation else None
        )

        async def progress(step: Progress) -> None:
            await ctx.report_progress(step.progress, step.total, step.message)

        async def read(url: str) -> str:
            return (await reach.get(WebReader).page(url, max_chars=20_000)).text

        service = self.service.get()
        request = ResearchRequest.model_validate(args.model_dump(exclude={"continuation"}))
        result = await service.run(
            request,
            local=sources,
            progress=progress,
            planner=modelsteps.planner(call),
            synthesiser=modelsteps.synthesiser(call),
            reader=read if reach.may(WebReader) else None,
            continuation=continuation,
            sealer=lambda state: self.sealer.seal(CONTINUATION, state, binding=binding),
            public=reach.may(WebClient),
        )
        if call.route is Route.GUARD and result.evidence:
            return self._answer(await self._synthesis_round(call, result))
        return self._answer(result)

    async def _synthesis_round(self, call: SamplingCall, result: ResearchResult | None) -> ResearchResult | Pending:
        """The guard route's synthesis: the round handed to the client, or (``result`` None, a
        later call) the result with the client's synthesis in it."""
        from mcp_workbench.research import modelsteps

        return await call.run(modelsteps.GuardSynthesis(result), Budget(modelsteps.STEP_BUDGET_S), call.progress)

    def _answer(self, outcome: ResearchResult | Pending) -> Answer | ToolResult:
        if isinstance(outcome, Pending):
            return pending_result(outcome)
        return Answer(self.service.get().render(outcome), outcome.to_dict())


_BUILDER = Caller("research", None)
"""Who builds the research service's client: the public sources' pacing lives as long as the
process, shared by every call. Each call still checks its own caller's ``web`` scope
(``public=``) before any public source is asked."""


def _binding(args: ResearchArgs, caller: Caller) -> str:
    """A continuation belongs to the question it continues and to the caller who got it."""
    return hashlib.sha256(f"{caller.identity}\n{args.question}".encode()).hexdigest()


def research_tool(capability: ResearchCapability) -> ModelTool:
    return ModelTool.build(
        name=TOOL_NAME,
        title="Research a question",
        description=DESCRIPTION,
        model=ResearchArgs,
        handler=capability.handle,
        annotations=ToolAnnotations(readOnlyHint=True, destructiveHint=False, idempotentHint=False, openWorldHint=True),
        scope=RESEARCH,
    )


def install(mcp: FastMCP, section: ResearchSection, services: Services) -> ResearchCapability:
    capability = ResearchCapability(section, services)
    mcp.add_tool(research_tool(capability))

    @mcp.prompt(
        name=PROMPT_NAME,
        title="Research brief",
        description="Guide for answering a question with the research tool: run it, finish it, report the cited "
        "synthesis with its confidence, and check the key sources.",
        tags=scope_tags(RESEARCH),
    )
    def research_brief(question: str, depth: str = "") -> str:
        depth_part = f', "depth": "{depth}"' if depth in {"quick", "standard", "deep"} else ""
        return BRIEF_PROMPT.format(question=question.replace('"', "'"), depth=depth_part)

    return capability

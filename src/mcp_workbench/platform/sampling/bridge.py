"""The sampling bridge on MCP: one tool call's route to a model, and the driver that runs it.

A tool holds one :class:`SamplingBridge` (what the operator configured) and, per call, opens a
:class:`SamplingCall` from FastMCP's request context. The call's route is decided from the
client's declared capabilities, the protocol era and the settings (see
:func:`~mcp_workbench.platform.sampling.routes.choose_route`); its ``run`` drives an algorithm
on that route. On the guard route ``run`` may return :class:`Pending` instead of a result: the
tool returns :func:`pending_result` of it, and the client calls again with the answers.
"""

from __future__ import annotations

from fastmcp.server.context import Context
from fastmcp.server.dependencies import get_context
from fastmcp.tools.base import InputRequiredToolResult
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from mcp_workbench.platform.sampling.core import Algorithm, Budget, Pending, Progress, R, Route
from mcp_workbench.platform.sampling.guard import MAX_GUARD_ROUNDS, GuardRound
from mcp_workbench.platform.sampling.inline import Complete, run_inline
from mcp_workbench.platform.sampling.routes import Prefer, choose_route
from mcp_workbench.platform.sampling.server_model import ServerModel
from mcp_workbench.platform.sampling.session import SessionCompleter, back_channel


class SamplingBridge:
    """What one tool may use to reach a model: the client's (when it samples) and the server's."""

    def __init__(
        self,
        *,
        prefer: Prefer = "client",
        server_model: ServerModel | None = None,
        session_timeout_s: float = 120.0,
        max_state_bytes: int = 262_144,
        guard_rounds: int = MAX_GUARD_ROUNDS,
    ) -> None:
        self.prefer = prefer
        self.server_model = server_model
        self.session_timeout_s = session_timeout_s
        self.max_state_bytes = max_state_bytes
        self.guard_rounds = guard_rounds

    def open(self, ctx: Context | None = None, *, use_model: bool = True) -> SamplingCall:
        """The route of the call in progress (``use_model=False``: none, whatever is available)."""
        ctx = ctx if ctx is not None else get_context()
        request_state = ctx.request_state
        if request_state is not None:  # a later round: the guard route, whatever else is true now
            guard = GuardRound(
                request_state, ctx.input_responses, max_rounds=self.guard_rounds, max_state_bytes=self.max_state_bytes
            )
            return SamplingCall(Route.GUARD, ctx, guard=guard)
        if not use_model:
            return SamplingCall(Route.NONE, ctx)
        session = ctx.session
        capabilities = session.client_capabilities
        modern = ctx.request_context is not None and ctx.request_context.protocol_version in MODERN_PROTOCOL_VERSIONS
        channel = None if modern else back_channel(session)
        model = self.server_model
        route = choose_route(
            modern=modern,
            client_samples=capabilities is not None and capabilities.sampling is not None,
            back_channel=channel is not None,
            server_model=model is not None and model.available,
            prefer=self.prefer,
        )
        if route is Route.GUARD:
            guard = GuardRound(None, None, max_rounds=self.guard_rounds, max_state_bytes=self.max_state_bytes)
            return SamplingCall(route, ctx, guard=guard)
        if route is Route.SESSION:
            assert channel is not None
            completer = SessionCompleter(session, ctx.request_id, channel=channel, timeout_s=self.session_timeout_s)
            return SamplingCall(route, ctx, complete=completer)
        if route is Route.SERVER_MODEL:
            assert model is not None
            return SamplingCall(route, ctx, complete=model.complete)
        return SamplingCall(Route.NONE, ctx)

    async def aclose(self) -> None:
        if self.server_model is not None:
            await self.server_model.aclose()


class SamplingCall:
    """One tool call's access to a model (the :class:`~mcp_workbench.platform.sampling.core.Sampler`
    domain code is written against)."""

    def __init__(
        self, route: Route, ctx: Context, *, guard: GuardRound | None = None, complete: Complete | None = None
    ) -> None:
        self._route = route
        self._ctx = ctx
        self._guard = guard
        self._complete = complete

    @property
    def route(self) -> Route:
        return self._route

    @property
    def continuing(self) -> bool:
        return self._guard is not None and self._guard.continuing

    @property
    def max_rounds(self) -> int | None:
        return self._guard.max_rounds if self._guard is not None else None

    async def progress(self, done: float, total: float | None, message: str) -> None:
        """A progress notification to the caller (nothing when it sent no progress token)."""
        await self._ctx.report_progress(done, total, message)

    async def run(self, algorithm: Algorithm[R], budget: Budget, progress: Progress | None = None) -> R | Pending:
        if self._guard is not None:
            return await self._guard.run(algorithm, budget, progress)
        if self._complete is None:
            raise RuntimeError("this call has no model: check route before running an algorithm")
        return await run_inline(algorithm, self._complete, budget, self._route, progress)


def pending_result(pending: Pending) -> InputRequiredToolResult:
    """What a tool returns for a round the client must answer first."""
    return InputRequiredToolResult(pending.payload)

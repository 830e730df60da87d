"""Composition root: ``build_server(settings)`` assembles the MCP server.

It installs each capability from the settings (a capability registers its own MCP
components), puts the production layer around every tool call, adds the health and metrics
routes, and closes every capability's resources when the server's lifespan ends.

The production layer is one middleware, :class:`ToolCallMiddleware`, which sequences the
separate concerns for every request that reaches a capability (tools/call, resources/read,
prompts/get, completion/complete): correlation id → scopes (does this component exist for
this caller? each component declares its scope where it is registered) → rate limit (has it
budget left?) → time budget → the work → log line and metrics.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import fastmcp
from fastmcp import FastMCP

from mcp_workbench import SERVER_NAME, __version__
from mcp_workbench.analysis import server as analysis_server
from mcp_workbench.analysis.settings import AnalysisSection
from mcp_workbench.backup_plan import scheduled_backups
from mcp_workbench.capability import Capability, Installer, Services
from mcp_workbench.data import server as data_server
from mcp_workbench.files import server as files_server
from mcp_workbench.platform.auth import ScopePolicy, build_auth_provider
from mcp_workbench.platform.call_middleware import ToolCallMiddleware
from mcp_workbench.platform.health import Health, add_routes
from mcp_workbench.platform.keys import KeyStore
from mcp_workbench.platform.limits import RateLimiter
from mcp_workbench.platform.metrics import Metrics
from mcp_workbench.platform.sealing import request_state_security, secrets_of
from mcp_workbench.platform.timeouts import Budgets, CommitHook
from mcp_workbench.research import server as research_server
from mcp_workbench.settings import Settings
from mcp_workbench.web import server as web_server

log = logging.getLogger("mcp_workbench.server")

INSTRUCTIONS = """mcp-workbench gives an agent safe tools over SQL databases, files and the web.
Tools come in read/write pairs: the *_read tools never change anything.
Failed calls return a JSON error with error_code and recovery_steps: follow the steps."""


@dataclass(frozen=True, slots=True)
class CapabilitySpec:
    """A capability as the composition root installs it: its group name in ``tools = [...]``, its
    settings section, and its installer."""

    group: str
    section: Callable[[Settings], Any]
    install: Installer[Any]


CAPABILITIES: tuple[CapabilitySpec, ...] = (
    CapabilitySpec("data", Settings.data_section, data_server.install),
    CapabilitySpec("files", lambda settings: settings.files, files_server.install),
    CapabilitySpec("web", lambda settings: settings.web, web_server.install),
    CapabilitySpec(
        "analysis",
        lambda settings: AnalysisSection(
            settings.analysis, settings.state.max_bytes, settings.timeouts.for_tool(analysis_server.TOOL_NAME)
        ),
        analysis_server.install,
    ),
    CapabilitySpec(
        "research",
        lambda settings: research_server.ResearchSection(
            settings.research,
            settings.state,
            prefer=settings.analysis.prefer,
            model=settings.analysis.model,
            request_timeout_s=settings.analysis.request_timeout_s,
            pacing_storage=settings.research_pacing_storage,
        ),
        research_server.install,
    ),
)
"""In install order: a capability may use the services of those before it."""


def build_server(
    settings: Settings,
    *,
    commit_hook: CommitHook | None = None,
    extra_capabilities: Sequence[CapabilitySpec] = (),
) -> FastMCP:
    """The server for ``settings``. ``commit_hook`` is a seam for tests that hold a write at
    its commit point (see :data:`~mcp_workbench.platform.timeouts.CommitHook`);
    ``extra_capabilities`` are installed after the configured ones, whatever ``tools`` says."""
    capabilities: list[Capability] = []
    metrics = Metrics(__version__, fastmcp.__version__)
    health = Health(__version__, lambda: [c.name for c in capabilities])
    metrics.add_source(health.samples)
    limiter = RateLimiter(
        default=settings.limits.default,
        tools=settings.limits.tools,
        costs=settings.limits.costs,
        storage=settings.limits.storage,
        fail_open=settings.limits.on_storage_error == "open",
        on_reject=lambda tool: metrics.rate_limited.labels(tool).inc(),
    )

    budgets = Budgets(settings.timeouts.for_tool, commit_hook=commit_hook)
    state_secrets = secrets_of(settings.state)  # one set per server, for all state sealed into clients' hands

    @asynccontextmanager
    async def lifespan(_server: FastMCP) -> AsyncIterator[dict[str, Any]]:
        for capability in capabilities:
            await capability.startup()
        health.ready = True
        try:
            yield {}
        finally:
            health.ready = False
            await budgets.settle(within=settings.http.shutdown_grace_s)  # commits under way finish first
            for capability in reversed(capabilities):
                try:
                    await capability.aclose()
                except Exception:
                    log.exception("closing a capability failed", extra={"capability": capability.name})

    auth = None
    if settings.transport == "http":
        auth = build_auth_provider(
            settings.http.auth,
            KeyStore.in_dir(settings.data_dir),
            settings.http.jwt.model_dump(),
            on_failure=lambda reason: metrics.auth_failures.labels(reason).inc(),
        )
        if auth is None:
            log.warning("HTTP without authentication: anyone who can reach this port can use every tool")

    mcp = FastMCP(
        SERVER_NAME,
        instructions=INSTRUCTIONS,
        version=__version__,
        auth=auth,
        lifespan=lifespan,
        middleware=[
            ToolCallMiddleware(
                metrics,
                scopes=ScopePolicy(),
                limiter=limiter,
                budgets=budgets,
                authenticated=auth is not None,
            )
        ],
        mask_error_details=True,
        on_duplicate="error",
        request_state_security=request_state_security(settings.state, state_secrets),
    )
    services = Services()
    specs = [spec for spec in CAPABILITIES if settings.enabled(spec.group)] + list(extra_capabilities)
    for spec in specs:
        if (capability := spec.install(mcp, spec.section(settings), services)) is not None:
            capabilities.append(capability)
            health.add_check(capability.check)
            metrics.add_source(capability.samples)
    if (backups := scheduled_backups(settings)) is not None:  # no MCP surface: lifespan and metrics only
        capabilities.append(backups)
        metrics.add_source(backups.samples)
    mcp.completion(_completions(capabilities))
    if limiter.shared:
        health.add_check(_storage_check(limiter))
    token = settings.http.metrics_token
    add_routes(mcp, health, metrics, token.get_secret_value() if token else None)
    return mcp


def _completions(capabilities: list[Capability]) -> Any:
    """One completion handler for the server: the first capability that knows the reference answers."""

    async def complete(ref: Any, argument: Any, context: Any) -> list[str]:
        for capability in capabilities:
            if (found := await capability.complete(ref, argument, context)) is not None:
                return found
        return []

    return complete


def _storage_check(limiter: RateLimiter) -> Any:
    async def rate_limit_storage() -> dict[str, str | None]:
        return {"rate_limit_storage": None if await limiter.check() else "unreachable"}

    return rate_limit_storage

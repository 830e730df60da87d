"""The HTTP app: the MCP server behind streamable HTTP, with the transport-level guards.

``mcp-workbench serve --transport http`` runs it (``--workers N``: one per worker process);
so can a deployment that runs uvicorn itself::

    WORKBENCH_CONFIG=/etc/workbench.toml uvicorn --factory mcp_workbench.asgi:create_app --workers 4

Each uvicorn worker builds its own server from the usual configuration layers. Several
workers cannot share in-memory sessions, so that app is stateless; point ``[limits] storage``
at Redis so the workers share rate limits. (``serve --workers N`` is the better way to run
several processes: see :mod:`mcp_workbench.cli.workers`.) Read deadlines and the per-address
connection cap (:mod:`mcp_workbench.platform.connections`) belong to ``serve``'s uvicorn; under
an uvicorn you run yourself, its own settings apply.
"""

from __future__ import annotations

from fastmcp import FastMCP
from starlette.middleware import Middleware
from starlette.types import ASGIApp

from mcp_workbench.platform.call_middleware import ToolCallMiddleware
from mcp_workbench.platform.challenge import CredentialsChallenge
from mcp_workbench.platform.disconnect import CancelOnDisconnect
from mcp_workbench.platform.identity import current_caller
from mcp_workbench.platform.param_headers import install_param_schema_lookup
from mcp_workbench.platform.protocol_guard import NullContinuationGuard
from mcp_workbench.platform.sessions import ManagerLocator, SessionGuard, SessionLimits
from mcp_workbench.server import build_server
from mcp_workbench.settings import Settings, load_settings


def http_app(settings: Settings, *, stateless: bool) -> ASGIApp:
    return server_app(build_server(settings), settings, stateless=stateless)


def server_app(mcp: FastMCP, settings: Settings, *, stateless: bool) -> ASGIApp:
    """The HTTP app of an already built server."""
    http = settings.http
    managers = ManagerLocator(http.path)
    limits = SessionLimits(total=http.max_sessions, per_caller=http.max_sessions_per_caller)
    app = mcp.http_app(
        path=http.path,
        middleware=[
            *([Middleware(CredentialsChallenge, mode=http.auth)] if http.auth != "none" else []),
            Middleware(CancelOnDisconnect),
            Middleware(SessionGuard, path=http.path, limits=limits, manager=managers),
            Middleware(NullContinuationGuard),
        ],
        json_response=http.json_response,
        stateless_http=stateless,
        host_origin_protection=http.host_origin_protection,
        allowed_hosts=http.allowed_hosts or None,
        allowed_origins=http.allowed_origins or None,
        session_idle_timeout=http.session_idle_timeout_s,
    )
    managers.attach(app)
    layer = next(m for m in mcp.middleware if isinstance(m, ToolCallMiddleware))
    # the rule every request follows: a hidden tool stays hidden
    install_param_schema_lookup(
        mcp, app, lambda tool: layer.may_use(layer.catalog.tools.get(tool), current_caller().scopes)
    )
    return app


def create_app() -> ASGIApp:
    from mcp_workbench.startup import start

    return start(load_settings(None, transport="http"), lambda settings: http_app(settings, stateless=True))

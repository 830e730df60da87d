"""ASGI entry point for running under uvicorn/gunicorn with several worker processes.

``mcp-workbench serve --workers N`` uses it; so can a deployment that runs uvicorn itself::

    WORKBENCH_CONFIG=/etc/workbench.toml uvicorn --factory mcp_workbench.asgi:create_app --workers 4

Each worker builds its own server from the same settings (passed by ``serve`` as JSON in
``WORKBENCH_SETTINGS_JSON``, or read from the usual layers). Several workers cannot share
in-memory sessions, so the app is stateless; point ``[limits] storage`` at Redis so the
workers share rate limits.
"""

from __future__ import annotations

import gc
import os

from starlette.middleware import Middleware
from starlette.types import ASGIApp

from mcp_workbench.platform.disconnect import CancelOnDisconnect
from mcp_workbench.platform.logging import configure_logging
from mcp_workbench.platform.protocol_guard import NullContinuationGuard
from mcp_workbench.server import build_server
from mcp_workbench.settings import Settings, load_settings

SETTINGS_ENV = "WORKBENCH_SETTINGS_JSON"


def http_app(settings: Settings, *, stateless: bool) -> ASGIApp:
    mcp = build_server(settings)
    http = settings.http
    return mcp.http_app(
        path=http.path,
        middleware=[Middleware(CancelOnDisconnect), Middleware(NullContinuationGuard)],
        json_response=http.json_response,
        stateless_http=stateless,
        host_origin_protection=http.host_origin_protection,
        allowed_hosts=http.allowed_hosts or None,
        allowed_origins=http.allowed_origins or None,
    )


def create_app() -> ASGIApp:
    raw = os.environ.get(SETTINGS_ENV)
    settings = Settings.model_validate_json(raw) if raw else load_settings(None, transport="http")
    configure_logging(settings.log_level)
    app = http_app(settings, stateless=True)
    gc.collect()
    gc.freeze()
    return app

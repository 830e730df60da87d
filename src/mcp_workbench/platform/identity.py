"""Who the current caller is, from FastMCP's request context (no MCP auth on stdio)."""

from __future__ import annotations

from dataclasses import dataclass

from fastmcp.server.dependencies import get_access_token
from mcp.server.auth.provider import AccessToken

LOCAL_IDENTITY = "local"


@dataclass(frozen=True, slots=True)
class Caller:
    """``identity`` names the caller in logs and rate limits; ``scopes`` None means every tool."""

    identity: str
    scopes: frozenset[str] | None


LOCAL = Caller(LOCAL_IDENTITY, None)


def current_caller() -> Caller:
    """The caller of the request in progress: ``key:<id>``, ``jwt:<subject>``, or ``local``."""
    return caller_of(get_access_token())


def caller_of(token: AccessToken | None) -> Caller:
    """The caller a verified token stands for (None: no MCP auth). Typed as the SDK's token, which
    FastMCP's extends, because the HTTP scope's user carries the SDK's type."""
    if token is None:
        return LOCAL
    scopes = frozenset(token.scopes or ())
    if token.client_id.startswith("key:"):
        return Caller(token.client_id, scopes)
    subject = token.claims.get("sub") if token.claims else None
    return Caller(f"jwt:{subject or token.client_id}", scopes)

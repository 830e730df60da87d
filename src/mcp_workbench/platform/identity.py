"""Who the current caller is, from FastMCP's request context (no MCP auth on stdio)."""

from __future__ import annotations

from fastmcp.server.dependencies import get_access_token

LOCAL_IDENTITY = "local"


def caller_identity() -> str:
    """The rate-limit and log identity: ``key:<id>``, ``jwt:<subject>``, or ``local``."""
    token = get_access_token()
    if token is None:
        return LOCAL_IDENTITY
    if token.client_id.startswith("key:"):
        return token.client_id
    subject = token.claims.get("sub") if token.claims else None
    return f"jwt:{subject or token.client_id}"


def caller_scopes() -> set[str] | None:
    """The caller's scopes, or None for an unauthenticated local caller (all tools)."""
    token = get_access_token()
    return None if token is None else set(token.scopes or [])

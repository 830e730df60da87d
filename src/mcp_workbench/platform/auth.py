"""Who is calling, and which tools they may use.

HTTP callers authenticate with an API key (:mod:`keys`) or a JWT (FastMCP's verifier);
FastMCP answers missing or invalid credentials with 401 and ``WWW-Authenticate`` before
any MCP handling. Scopes then open components: a caller without a component's scope neither
sees it in any listing nor can call, read or complete it. stdio is the local user's own
process: no credentials, everything ("local").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fastmcp.server.auth import AccessToken, AuthProvider, TokenVerifier
from fastmcp.utilities.components import FastMCPComponent

from mcp_workbench.platform.keys import ALL_SCOPES, KeyStore


class ApiKeyVerifier(TokenVerifier):
    """Bearer API keys checked against the key store; ``on_failure`` counts rejections."""

    def __init__(self, store: KeyStore, on_failure: Callable[[str], None] | None = None) -> None:
        super().__init__()
        self._store = store
        self._on_failure = on_failure or (lambda _reason: None)

    async def verify_token(self, token: str) -> AccessToken | None:
        record = self._store.verify(token)
        if record is None:
            self._on_failure("invalid_api_key")
            return None
        return AccessToken(
            token=token, client_id=f"key:{record.id}", scopes=record.scopes, claims={"name": record.name}
        )


_SCOPE_TAG = "scope:"


def scope_tags(scope: str) -> set[str]:
    """The tags that declare ``scope`` on a component (FastMCP's ``tags=``).

    Every component a capability registers (tool, resource, resource template, prompt) names
    its scope this way, where it is registered: that tag is the one place a scope is written
    down. The call layer reads it once (:class:`~mcp_workbench.platform.catalog.Catalog`) and
    checks every request and listing against it.
    """
    return {_SCOPE_TAG + scope}


def scope_of(component: FastMCPComponent) -> str:
    """The scope ``component`` declared, or ``*`` when it declared none: a component that
    says nothing stays hidden from scoped keys."""
    for tag in component.tags:
        if tag.startswith(_SCOPE_TAG):
            return tag[len(_SCOPE_TAG) :]
    return ALL_SCOPES


class ScopePolicy:
    """Which components a caller's scopes open: a component's own scope, or ``*``; no scopes
    (stdio, or HTTP without auth) opens all.

    A component the caller may not use is treated as absent everywhere (listings, calls,
    reads, completions): the refusal is the one a missing component gets, so a key cannot
    learn what exists beyond its scopes.
    """

    @staticmethod
    def allowed(needed: str, scopes: frozenset[str] | None) -> bool:
        return scopes is None or needed in scopes or ALL_SCOPES in scopes

    def visible(self, components: Sequence[Any], scopes: frozenset[str] | None) -> Sequence[Any]:
        """The components of a listing this caller may see."""
        if scopes is None or ALL_SCOPES in scopes:
            return components
        return [component for component in components if scope_of(component) in scopes]


def build_auth_provider(
    mode: str, store: KeyStore, jwt: Mapping[str, Any], on_failure: Callable[[str], None]
) -> AuthProvider | None:
    if mode == "keys":
        return ApiKeyVerifier(store, on_failure)
    if mode == "jwt":
        from mcp_workbench.platform.jwt import jwt_verifier

        return jwt_verifier(jwt, on_failure)
    return None

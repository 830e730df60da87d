"""Who is calling, and which tools they may use.

HTTP callers authenticate with an API key (:mod:`keys`) or a JWT (FastMCP's verifier);
FastMCP answers missing or invalid credentials with 401 and ``WWW-Authenticate`` before
any MCP handling. Scopes then map to tools: a caller without a tool's scope neither sees it
in tools/list nor can call it. stdio is the local user's own process: no credentials, all
tools ("local").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fastmcp.server.auth import AccessToken, AuthProvider, TokenVerifier

from mcp_workbench.platform.errors import PermissionDenied
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


class ScopePolicy:
    """Which tools a caller's scopes open. Unmapped tools need ``*``; no scopes (stdio) opens all."""

    def __init__(self, tool_scopes: Mapping[str, str]) -> None:
        self._tool_scopes = dict(tool_scopes)

    def allowed(self, tool: str, scopes: frozenset[str] | None) -> bool:
        if scopes is None or ALL_SCOPES in scopes:
            return True
        needed = self._tool_scopes.get(tool)
        return needed is not None and needed in scopes

    def visible(self, tools: Sequence[Any], scopes: frozenset[str] | None) -> list[Any]:
        """The tools of a tools/list answer this caller may see."""
        return [tool for tool in tools if self.allowed(tool.name, scopes)]

    def check(self, tool: str, scopes: frozenset[str] | None) -> None:
        """Raise PermissionDenied unless the caller may use ``tool``."""
        if self.allowed(tool, scopes):
            return
        needed = self._tool_scopes.get(tool, ALL_SCOPES)
        raise PermissionDenied(
            f"this API key may not use {tool} (needs scope '{needed}')",
            recovery_steps=[
                (
                    f"Use only the tools listed for you; ask the operator for a key with scope "
                    f"'{needed}' if this task needs {tool}."
                )
            ],
            details={"tool": tool, "required_scope": needed},
        )


def build_auth_provider(
    mode: str, store: KeyStore, jwt: Mapping[str, Any], on_failure: Callable[[str], None]
) -> AuthProvider | None:
    if mode == "keys":
        return ApiKeyVerifier(store, on_failure)
    if mode == "jwt":
        from mcp_workbench.platform.jwt import jwt_verifier

        return jwt_verifier(jwt, on_failure)
    return None

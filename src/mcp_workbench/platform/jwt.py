"""Bearer JWTs from an organisation's identity provider, with the time claims enforced.

FastMCP's verifier checks the signature, ``iss``, ``aud``, a past ``exp`` and an ``nbf`` more
than 30 s ahead, but it accepts a token without ``exp`` for ever. A token that never expires (a
leaked one then works until the key is rotated), or one minted for later, is refused here:

- ``exp`` must be present (unless ``[http.jwt] require_exp = false``) and a number; FastMCP
  refuses it once past;
- ``nbf``, when present, must be a number no later than now plus ``leeway_s`` (the clock skew
  allowed between the issuer and this server: at most FastMCP's own 30 s, which it applies
  first).

Rejections are counted through ``on_failure`` (the ``invalid_jwt`` reason of the auth metric).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from typing import Any

from fastmcp.server.auth import AccessToken, AuthProvider

# Our own [http.jwt] settings; everything else there is FastMCP's JWTVerifier's.
TIME_SETTINGS = ("require_exp", "leeway_s")
DEFAULT_LEEWAY_S = 30.0


def time_claims_problem(claims: Mapping[str, Any], *, now: float, leeway_s: float, require_exp: bool) -> str | None:
    # A past exp needs no check here: FastMCP's verifier has refused the token already.
    """Why the token's time claims make it unusable now, or None if they do not."""
    exp = claims.get("exp")
    if exp is None:
        if require_exp:
            return "no exp claim"
    elif not _is_time(exp):
        return "exp is not a number"
    nbf = claims.get("nbf")
    if nbf is not None:
        if not _is_time(nbf):
            return "nbf is not a number"
        if nbf > now + leeway_s:
            return "not valid yet (nbf)"
    return None


def _is_time(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def jwt_verifier(settings: Mapping[str, Any], on_failure: Callable[[str], None]) -> AuthProvider:
    """The verifier for ``auth = "jwt"``, from the ``[http.jwt]`` settings (as a mapping)."""
    from fastmcp.server.auth.providers.jwt import JWTVerifier  # its JOSE library only when JWTs are used

    require_exp = bool(settings.get("require_exp", True))
    leeway_s = float(settings.get("leeway_s", DEFAULT_LEEWAY_S))
    options = {k: v for k, v in settings.items() if k not in TIME_SETTINGS and v is not None}

    class TimeCheckedJWTVerifier(JWTVerifier):
        async def verify_token(self, token: str) -> AccessToken | None:
            verified = await super().verify_token(token)
            if verified is not None:
                problem = time_claims_problem(
                    verified.claims or {}, now=time.time(), leeway_s=leeway_s, require_exp=require_exp
                )
                if problem is not None:
                    self.logger.info("Bearer token rejected for client %s: %s", verified.client_id, problem)
                    verified = None
            if verified is None:
                on_failure("invalid_jwt")
            return verified

    return TimeCheckedJWTVerifier(**options)

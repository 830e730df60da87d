"""``[state]``: the keys that seal state a client carries between calls, and sealing for our own tokens.

Two kinds of state travel through clients and come back:

- the 2026-07-28 multi-round ``requestState`` (a tool that asks the client's model returns it and
  reads it back on the next round). The MCP SDK seals it (AES-256-GCM, bound to the tool, its
  arguments, the caller and this server's name); :func:`request_state_security` gives the SDK
  our keys and lifetime;
- continuation tokens of our own tools (a research run's "read on from here"), sealed by
  :class:`Sealer` under the same keys, bound to a purpose and whatever the tool names.

With ``keys`` set, every replica that shares them accepts what another sealed, so the rounds of
one call may land anywhere behind a load balancer. Without keys, each process makes its own at
start: right for stdio and a single HTTP process, and state from another process (or from
before a restart) is refused. ``keys[0]`` seals and every key unseals, so keys rotate without
downtime: add the new key second, then move it first, then drop the old one after ``ttl_s``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

if TYPE_CHECKING:  # the settings model loads without the MCP SDK; the sealing itself needs it
    from mcp.server.request_state import RequestStateSecurity

    from mcp_workbench.platform.errors import InvalidInput

MIN_KEY_BYTES = 32
_CONTINUATION_LABEL = b"mcp-workbench/continuation-token/v1"
_TOKEN_VERSION = 1


class StateSettings(BaseModel):
    """``[state]``: keys and limits of state sealed into what a client carries between calls."""

    model_config = ConfigDict(extra="forbid", validate_default=True)

    keys: list[SecretStr] = Field(
        default_factory=list,
        max_length=8,
        description="Secrets (each at least 32 bytes, e.g. `openssl rand -hex 32`) that seal state carried by "
        "clients between rounds of a call. The first seals, all unseal (rotation). Replicas behind one address "
        "must share them; empty: a key per process, made at start.",
    )
    ttl_s: float = Field(
        default=1800.0,
        ge=60,
        le=7 * 86400,
        description="How long sealed state stays valid after each round (a person may take minutes to approve "
        "a model request).",
    )
    max_bytes: int = Field(
        default=262_144,
        ge=4096,
        le=16 * 1024 * 1024,
        description="Largest sealed state a round may hand the client; a call whose state would grow past it "
        "finishes with what it has.",
    )

    @field_validator("keys")
    @classmethod
    def _long_enough(cls, keys: list[SecretStr]) -> list[SecretStr]:
        for index, key in enumerate(keys):
            size = len(key.get_secret_value().encode())
            if size < MIN_KEY_BYTES:
                raise ValueError(
                    f"key {index} has {size} bytes; each key needs at least {MIN_KEY_BYTES} "
                    "(make one with `openssl rand -hex 32`)"
                )
        if len({key.get_secret_value() for key in keys}) != len(keys):
            raise ValueError("the same key is listed twice")
        return keys


def shared_by_processes(settings: StateSettings) -> StateSettings:
    """``settings`` with a key made now when none is configured, for worker processes started
    together: each would otherwise make its own, and refuse the state the others sealed."""
    if settings.keys:
        return settings
    return settings.model_copy(update={"keys": [SecretStr(os.urandom(MIN_KEY_BYTES).hex())]})


def secrets_of(settings: StateSettings) -> list[bytes]:
    """The configured secrets, or one made now for this process when none are configured."""
    return [key.get_secret_value().encode() for key in settings.keys] or [os.urandom(MIN_KEY_BYTES)]


def request_state_security(settings: StateSettings, secrets: list[bytes]) -> RequestStateSecurity:
    """The SDK's sealing policy for multi-round ``requestState``: our keys and lifetime.

    The audience is left to FastMCP, which uses the server's name: every replica has the same
    name, and a different service sharing the keys cannot replay our state.
    """
    from mcp.server.request_state import RequestStateSecurity

    return RequestStateSecurity(keys=secrets, ttl=settings.ttl_s)


class Sealer:
    """Seal and unseal a tool's own continuation tokens (JSON objects), under the ``[state]`` keys.

    A token is bound to a ``purpose`` (which tool, which kind of token) and a ``binding`` (say, a
    digest of the arguments it continues, and the caller): a token is only accepted back for the
    same purpose and binding, before it expires. The keys used are derived from the configured
    secrets for this use alone, so a continuation token can never pass for a ``requestState``
    and the reverse. A refused token is :class:`InvalidInput` that says to start over.
    """

    def __init__(self, secrets: list[bytes], *, ttl_s: float) -> None:
        from mcp.server.request_state import AESGCMRequestStateCodec

        derived = [hmac.new(secret, _CONTINUATION_LABEL, hashlib.sha256).digest() for secret in secrets]
        self._codec = AESGCMRequestStateCodec(derived)
        self._ttl_s = ttl_s

    def seal(self, purpose: str, payload: dict[str, Any], *, binding: str = "") -> str:
        now = time.time()
        envelope = {"v": _TOKEN_VERSION, "p": purpose, "b": _digest(binding), "exp": now + self._ttl_s, "d": payload}
        return self._codec.seal(json.dumps(envelope, separators=(",", ":")).encode())

    def unseal(self, purpose: str, token: str, *, binding: str = "") -> dict[str, Any]:
        from mcp.server.request_state import InvalidRequestState

        try:
            envelope = json.loads(self._codec.unseal(token))
        except (InvalidRequestState, ValueError):
            raise _refused(purpose, "it was not made by this server (or its keys changed)") from None
        if not isinstance(envelope, dict) or envelope.get("v") != _TOKEN_VERSION or envelope.get("p") != purpose:
            raise _refused(purpose, "it was made for something else")
        if not hmac.compare_digest(str(envelope.get("b")), _digest(binding)):
            raise _refused(purpose, "it belongs to other arguments or another caller")
        expires = envelope.get("exp")
        if not isinstance(expires, int | float) or time.time() >= expires:
            raise _refused(purpose, "it has expired")
        data = envelope.get("d")
        if not isinstance(data, dict):
            raise _refused(purpose, "it is malformed")
        return data


def _digest(binding: str) -> str:
    return hashlib.sha256(binding.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _refused(purpose: str, why: str) -> InvalidInput:
    from mcp_workbench.platform.errors import InvalidInput

    return InvalidInput(
        f"the {purpose} token cannot be used: {why}",
        recovery_steps=["Start again without the token; a token is only valid for the call that produced it."],
        details={"field": "token", "purpose": purpose},
    )

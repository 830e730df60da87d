"""401 answers that tell the caller what to do, in a JSON body.

FastMCP's auth layer answers a missing credential with an empty 401 and a bad one with text
written for OAuth clients ("clear authentication tokens ... your client should automatically
re-register"), which is wrong advice for a server that takes API keys or JWTs from an identity
provider. This ASGI middleware sits outside that layer and rewrites only 401 responses: same
status and ``WWW-Authenticate: Bearer`` challenge (with ``error="invalid_token"`` when a
credential was sent, per RFC 6750), and a JSON body saying how to send a credential and where
to get one. Nothing else passes through it differently.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from starlette.types import ASGIApp, Message, Receive, Scope, Send

Mode = Literal["keys", "jwt"]


@dataclass(frozen=True)
class Advice:
    error: str
    description: str
    steps: tuple[str, ...]

    def body(self) -> bytes:
        payload = {"error": self.error, "error_description": self.description, "recovery_steps": list(self.steps)}
        return json.dumps(payload).encode()


_SEND = "Send it in every request as the header 'Authorization: Bearer <credential>'."
ADVICE: dict[tuple[Mode, bool], Advice] = {
    ("keys", False): Advice(
        "missing_api_key",
        "This server needs an API key. " + _SEND.replace("<credential>", "<key>"),
        (
            "Put the key in your client's configuration for this server as that header.",
            (
                "No key yet? The server's operator creates one with: mcp-workbench keys create --name NAME "
                "--scopes data:read,web (or --scopes '*' for every tool); it is printed once."
            ),
        ),
    ),
    ("keys", True): Advice(
        "invalid_api_key",
        "This API key is not valid: it is unknown, revoked or mistyped.",
        (
            "Send the whole key, starting 'wbk_', as 'Authorization: Bearer <key>'.",
            (
                "The server's operator lists keys with 'mcp-workbench keys list' and creates a new one with "
                "'mcp-workbench keys create'."
            ),
        ),
    ),
    ("jwt", False): Advice(
        "missing_token",
        "This server needs a JWT from your organisation's identity provider. "
        + _SEND.replace("<credential>", "<token>"),
        ("Get a token for this server's audience from the identity provider and send it as that header.",),
    ),
    ("jwt", True): Advice(
        "invalid_token",
        "The token was refused: its signature, issuer, audience or validity period does not match what this "
        "server accepts, or it has expired.",
        ("Get a fresh token for this server's audience from the identity provider and call again.",),
    ),
}


class CredentialsChallenge:
    """Rewrites 401 answers of the wrapped app with :data:`ADVICE` for the server's auth mode."""

    def __init__(self, app: ASGIApp, *, mode: Mode) -> None:
        self.app = app
        self.mode = mode

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        presented = any(name == b"authorization" for name, _ in scope.get("headers", ()))
        advice = ADVICE[(self.mode, presented)]
        rewriting = False

        async def relay(message: Message) -> None:
            nonlocal rewriting
            if message["type"] == "http.response.start" and message["status"] == 401:
                rewriting = True
                body = advice.body()
                await send({**message, "headers": _headers(message["headers"], advice, presented, len(body))})
                await send({"type": "http.response.body", "body": body})
            elif not rewriting:
                await send(message)

        await self.app(scope, receive, relay)


def _headers(original: Any, advice: Advice, presented: bool, length: int) -> list[tuple[bytes, bytes]]:
    replaced = {b"content-type", b"content-length", b"www-authenticate"}
    headers = [(name, value) for name, value in original if name.lower() not in replaced]
    challenge = f'Bearer error="invalid_token", error_description="{advice.description}"' if presented else "Bearer"
    return [
        *headers,
        (b"content-type", b"application/json"),
        (b"content-length", str(length).encode()),
        (b"www-authenticate", challenge.encode()),
    ]

"""An HTTP guard for one protocol rule the MCP SDK's models do not enforce.

In the 2026-07-28 era, ``tools/call`` may carry ``inputResponses`` and ``requestState``
(multi-round-trip calls). An explicit ``null`` for either is invalid and must be a JSON-RPC
error (invalid params), but mcp-types 2.3 accepts ``null`` as "absent" and the call runs as
if it were a first round. This guard answers such requests with 400 / -32602 before they
reach the MCP handler. It looks at the raw body bytes first and parses JSON only when the
pattern is present, so ordinary requests cost one regex scan.
"""

from __future__ import annotations

import json
import re
from typing import Any

from mcp.server.transport_security import DEFAULT_MAX_REQUEST_BODY_SIZE
from mcp_types import INVALID_PARAMS
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_NULL_CONTINUATION = re.compile(rb'"(?:inputResponses|requestState)"\s*:\s*null')


class NullContinuationGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > DEFAULT_MAX_REQUEST_BODY_SIZE:
            await self.app(scope, receive, send)  # the transport refuses it with 413, unread
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # a disconnect: let the app see it
                await self.app(scope, _replay(chunks, receive, first=message), send)
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
            if more and size > DEFAULT_MAX_REQUEST_BODY_SIZE:  # past the cap: the transport answers 413
                await self.app(scope, _replay(chunks, receive, more_body=True), send)
                return
        body = b"".join(chunks)
        if _NULL_CONTINUATION.search(body) and (answer := _refusal(body)) is not None:
            await _send_json(send, 400, answer)
            return
        await self.app(scope, _replay([body], receive), send)


def _refusal(body: bytes) -> dict[str, Any] | None:
    try:
        # The same parser the 2026-07-28 transport uses, so whatever it accepts, this sees too.
        # RecursionError is how it refuses deep nesting (ValueError covers bad UTF-8, huge integers).
        request = json.loads(body)
    except (ValueError, RecursionError):
        return None  # not JSON this guard can read: the transport answers it with a parse error
    if not isinstance(request, dict) or request.get("method") != "tools/call":
        return None
    params = request.get("params")
    if not isinstance(params, dict):
        return None
    nulls = [key for key in ("inputResponses", "requestState") if key in params and params[key] is None]
    if not nulls:
        return None
    return {
        "jsonrpc": "2.0",
        "id": request.get("id"),
        "error": {"code": INVALID_PARAMS, "message": f"Invalid params: {', '.join(nulls)} must not be null"},
    }


def _replay(
    chunks: list[bytes], original: Receive, first: Message | None = None, *, more_body: bool = False
) -> Receive:
    """The buffered body once, then the real channel (the rest of a body read only in part, or
    the client's disconnect a streaming response waits for)."""
    pending: list[Message] = [{"type": "http.request", "body": b"".join(chunks), "more_body": more_body}]
    if first is not None:
        pending.append(first)

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        return await original()

    return receive


async def _send_json(send: Send, status: int, payload: dict[str, Any]) -> None:
    body = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})

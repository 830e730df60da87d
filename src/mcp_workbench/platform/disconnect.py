"""Cancel a 2026-07-28 HTTP call when its client closes the connection.

2026-07-28 has no client-to-server notifications over HTTP: a client cancels a call by closing
the call's connection (the fastmcp client does exactly that). mcp 2.3 watches for it only while
it streams an answer as SSE; with plain JSON answers (``[http] json_response = true``, our
default) it runs the call to its end and answers nobody. This middleware watches the connection
once the request body has been read and cancels the call when the connection closes.
Handshake-era requests (session-bound) are left alone: there a dropped connection is not a
cancellation (2025-11-25, Transports).
"""

from __future__ import annotations

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class CancelOnDisconnect:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers") or []) if scope["type"] == "http" else {}
        modern = headers.get(b"mcp-protocol-version", b"").startswith(b"2026-")
        if scope["type"] != "http" or scope["method"] != "POST" or not modern or b"mcp-session-id" in headers:
            await self.app(scope, receive, send)
            return
        body_read = anyio.Event()

        async def tracked() -> Message:
            message = await receive()
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_read.set()
            return message

        async with anyio.create_task_group() as tasks:

            async def watch() -> None:
                await body_read.wait()
                while (await receive())["type"] != "http.disconnect":
                    pass
                tasks.cancel_scope.cancel()

            tasks.start_soon(watch)
            await self.app(scope, tracked, send)
            tasks.cancel_scope.cancel()

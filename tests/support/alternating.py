"""An HTTP transport that plays a load balancer: each request goes to the next replica in turn."""

from __future__ import annotations

import itertools

import httpx2


class Alternating(httpx2.AsyncHTTPTransport):
    """Sends each request to the next of ``ports`` in turn, and notes which port got each tools/call."""

    def __init__(self, ports: list[int]) -> None:
        super().__init__()
        self._next = itertools.cycle(ports)
        self.calls: list[tuple[int, bool]] = []  # (port, carries a requestState)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        port = next(self._next)
        request.url = request.url.copy_with(port=port)
        request.headers["host"] = f"127.0.0.1:{port}"
        body = request.content
        if b'"tools/call"' in body:
            self.calls.append((port, b'"requestState"' in body))
        return await super().handle_async_request(request)

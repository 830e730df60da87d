"""An HTTP transport that plays a load balancer: each request goes to the next replica in turn."""

from __future__ import annotations

import itertools
from typing import Any

import httpx2
from fastmcp import Client
from fastmcp.client.transports import StreamableHttpTransport


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


def alternating_client(url: str, ports: list[int], key: str, **options: Any) -> tuple[Client, Alternating]:
    """A client of ``url`` whose requests go to each of ``ports`` in turn, and its transport."""
    transport = Alternating(ports)

    def factory(**http: Any) -> httpx2.AsyncClient:
        return httpx2.AsyncClient(transport=transport, **http)

    return Client(StreamableHttpTransport(url, auth=key, httpx_client_factory=factory), **options), transport

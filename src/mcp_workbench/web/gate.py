"""A per-request gate below the HTTP cache: where a caller paces the requests that reach a host.

A request may carry a *gate* in its extensions (``GATE``): a factory of an async context
manager. :class:`GatedTransport` sits between the cache and the network, so the gate is entered
only for requests the cache cannot answer, and held until the response body is closed; a caller
that allows one request at a time to a host therefore sees one whole exchange at a time.
Requests without a gate pass straight through.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import httpx2

from mcp_workbench.web.port import Gate

GATE = "mcp_workbench.gate"


class GatedTransport(httpx2.AsyncBaseTransport):
    """Enter the request's gate around the exchange with ``inner`` (headers and body)."""

    def __init__(self, inner: httpx2.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        gate: Gate | None = request.extensions.get(GATE)
        if gate is None:
            return await self._inner.handle_async_request(request)
        held = AsyncExitStack()
        await held.enter_async_context(gate())
        try:
            response = await self._inner.handle_async_request(request)
        except BaseException:
            await held.aclose()
            raise
        response.stream = _ReleasedOnClose(response.stream, held)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


class _ReleasedOnClose(httpx2.AsyncByteStream):
    def __init__(self, inner: httpx2.SyncByteStream | httpx2.AsyncByteStream, held: AsyncExitStack) -> None:
        self._inner = inner
        self._held = held

    async def __aiter__(self) -> AsyncIterator[bytes]:
        assert isinstance(self._inner, httpx2.AsyncByteStream)
        async for chunk in self._inner:
            yield chunk

    async def aclose(self) -> None:
        try:
            if isinstance(self._inner, httpx2.AsyncByteStream):
                await self._inner.aclose()
        finally:
            await self._held.aclose()

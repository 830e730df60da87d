"""The pooled HTTP client whose every connection goes to an address the SSRF guard checked.

Imported when the first fetch builds the client, so server start-up does not pay for httpcore2.

httpx2 (already in the tree through FastMCP) sends the requests; underneath it, httpcore2
opens connections through a *network backend*. :class:`PinnedBackend` is that backend: its
``connect_tcp(host, port)`` resolves the host (through the :data:`Resolver` seam), checks
every answer with :func:`~mcp_workbench.web.ssrf.check_addresses`, and connects to the checked
IP itself. The URL, the ``Host`` header, TLS SNI and certificate verification all keep the
host name, so HTTPS works unchanged; only the address is pinned. There is no second DNS
lookup between check and connect for a rebinding attack to race.

Proxies from the environment are ignored (``trust_env=False``): a proxy would make the
connection (and the check) about the proxy's address, not the target's.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable
from typing import Any

import anyio
import httpcore2
import httpx2

from mcp_workbench.platform.errors import NotFound
from mcp_workbench.web.resolver import Resolver
from mcp_workbench.web.ssrf import HostPolicy, check_addresses, parse_ip_host


class PinnedBackend(httpcore2.AsyncNetworkBackend):
    """Resolve, check, and connect to the checked address, in one step."""

    def __init__(self, resolver: Resolver, policy: HostPolicy) -> None:
        self._resolver = resolver
        self._policy = policy
        self._inner = httpcore2.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore2's interface
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        literal = parse_ip_host(host)
        if literal is not None:
            candidates = [literal]
        else:
            with anyio.fail_after(timeout):
                candidates = await self._resolver(host, port)
        addresses = check_addresses(host, candidates, self._policy, resolved=literal is None)
        if not addresses:
            raise NotFound(f"host {host} has no address", details={"host": host})
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(address), port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except httpcore2.ConnectError as exc:
                failure = exc  # try the next address
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore2's interface
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        raise httpcore2.ConnectError("unix sockets are never used for web fetches")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class PinnedTransport(httpx2.AsyncHTTPTransport):
    """httpx2's transport with its connection pool rebuilt on :class:`PinnedBackend`."""

    def __init__(
        self,
        backend: PinnedBackend,
        *,
        ssl_context: ssl.SSLContext,
        max_connections: int,
        keepalive_expiry: float = 30.0,
    ) -> None:
        super().__init__(verify=ssl_context, trust_env=False)
        if not isinstance(getattr(self, "_pool", None), httpcore2.AsyncConnectionPool):
            # Refuse to run unpinned if httpx2's internals ever change shape.
            raise RuntimeError("httpx2.AsyncHTTPTransport has no connection pool to pin; check the httpx2 version")
        self._pool = httpcore2.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=max_connections,
            max_keepalive_connections=max(1, max_connections // 2),
            keepalive_expiry=keepalive_expiry,
            http1=True,
            http2=False,
            retries=0,
            network_backend=backend,
        )


def ssl_context(ca_file: str | None = None) -> ssl.SSLContext:
    """The system's trust store, plus ``[web] ca_file`` for intranet CAs."""
    context = httpx2.create_ssl_context(trust_env=False)
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context

"""HTTP connections: deadlines for reading a request, and a cap on connections per client address.

uvicorn's h11 protocol times out only idle keep-alive connections. A connection that sends
nothing, or trickles its headers, or never finishes its body, stays open for as long as the
client likes, before any authentication; a few hundred of them hold the server's sockets
and memory (slowloris). :class:`GuardedH11Protocol` adds what is missing:

- **headers**: from a new connection, or from the first byte of a further request on a
  kept-alive one, the headers must be complete within ``header_timeout_s``;
- **body**: once the headers are in, the body must be complete within ``body_timeout_s``
  (a deadline for the whole body, so trickling a byte now and then does not extend it);
- **per address**: a client address may hold ``max_connections_per_address`` connections
  at once (per server process); more are answered 503 and closed at once.

A deadline that passes closes the connection (with 408 if no response has started); the
application sees a disconnect. While the application works on a request and while it
streams its answer, no read deadline runs.

``serve --transport http`` (with or without ``--workers``) uses it. Under an external ASGI
server (``uvicorn --factory mcp_workbench.asgi:create_app``) that server's own settings
apply, so put a proxy with read timeouts in front of it.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger("mcp_workbench.connections")

_TIMEOUT_RESPONSE = b"HTTP/1.1 408 Request Timeout\r\nconnection: close\r\ncontent-length: 0\r\n\r\n"
_BUSY_BODY = b"Too many open connections from this address; close some, then retry.\n"
_BUSY_RESPONSE = (
    b"HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\nretry-after: 5\r\ncontent-type: text/plain\r\n"
    b"content-length: %d\r\n\r\n%s" % (len(_BUSY_BODY), _BUSY_BODY)
)


@dataclass(frozen=True)
class ConnectionLimits:
    header_timeout_s: float
    body_timeout_s: float
    max_per_address: int  # 0: no cap


def guarded_protocol(limits: ConnectionLimits) -> Callable[..., asyncio.Protocol]:
    """The ``http`` protocol factory for ``uvicorn.Config``: one address count per server."""
    return functools.partial(GuardedH11Protocol, limits=limits, addresses=Counter())


class GuardedH11Protocol(H11Protocol):
    def __init__(self, *args: Any, limits: ConnectionLimits, addresses: Counter[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._limits = limits
        self._addresses = addresses
        self._counted: str | None = None
        self._reading: str | None = None  # "headers" or "body" while a deadline runs
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[arg-type]  # uvicorn narrows it to Transport, which the loop gives
        address = self.client[0] if self.client else None
        cap = self._limits.max_per_address
        if address is not None and cap:
            if self._addresses[address] >= cap:
                log.info("connection refused: too many from this address", extra={"client": address})
                self.transport.write(_BUSY_RESPONSE)
                self.transport.close()
                return
            self._addresses[address] += 1
            self._counted = address
        self._expect("headers")

    def connection_lost(self, exc: Exception | None) -> None:
        self._expect(None)
        if self._counted is not None:
            self._addresses[self._counted] -= 1
            if not self._addresses[self._counted]:
                del self._addresses[self._counted]
            self._counted = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._follow(self.conn.their_state)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # Idle between requests, uvicorn's keep-alive timeout applies; the next request's
        # first byte starts its header deadline.
        state = self.conn.their_state
        self._follow(state if state is not h11.IDLE else None)

    def _follow(self, state: Any) -> None:
        """Run the deadline that fits what the client still owes us."""
        if self.transport.is_closing():
            self._expect(None)
        elif state is h11.IDLE:
            self._expect("headers")
        elif state is h11.SEND_BODY:
            self._expect("body")
        else:  # the request is in (or the connection is ending): the application has it
            self._expect(None)

    def _expect(self, reading: str | None) -> None:
        if reading == self._reading:
            return  # a deadline already running keeps running: more bytes do not extend it
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        self._reading = reading
        if reading is not None:
            limits = self._limits
            delay = limits.header_timeout_s if reading == "headers" else limits.body_timeout_s
            self._deadline = self.loop.call_later(delay, self._too_slow)

    def _too_slow(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        client = self.client[0] if self.client else None
        log.info("slow client disconnected", extra={"client": client, "reading": self._reading})
        if self.cycle is None or self.cycle.response_complete or not self.cycle.response_started:
            self.transport.write(_TIMEOUT_RESPONSE)
        self.transport.close()

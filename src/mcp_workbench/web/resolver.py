"""How host names become addresses: the seam between the SSRF guard and DNS.

A :data:`Resolver` is any ``async (host, port) -> [addresses]``; :class:`SystemResolver` is the
default (``getaddrinfo``, after the fixed answers of ``[web] resolve``). Tests and special
deployments pass their own to :class:`~mcp_workbench.web.fetch.Fetcher`.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Awaitable, Callable, Mapping

import anyio

from mcp_workbench.platform.errors import NotFound, UpstreamError
from mcp_workbench.web.ssrf import IPAddress, normalize_host

Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]
"""``await resolver(host, port)`` → the host's addresses; raises NotFound / UpstreamError."""

_NO_SUCH_NAME = {code for code in (getattr(socket, "EAI_NONAME", None), getattr(socket, "EAI_NODATA", None)) if code}


class SystemResolver:
    """The system's resolver (``getaddrinfo``), after fixed answers from ``[web] resolve``."""

    def __init__(self, overrides: Mapping[str, list[str]] | None = None) -> None:
        self._overrides = {
            name: [ipaddress.ip_address(a) for a in addresses] for name, addresses in (overrides or {}).items()
        }

    async def __call__(self, host: str, port: int) -> list[IPAddress]:
        name = normalize_host(host)
        fixed = self._overrides.get(name)
        if fixed is not None:
            return list(fixed)
        if name == "invalid" or name.endswith(".invalid"):  # RFC 6761: never resolves
            raise dns_error(host, socket.gaierror(socket.EAI_NONAME, "Name or service not known"))
        try:
            answers = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise dns_error(host, exc) from None
        except UnicodeError:
            raise NotFound(f"{host!r} is not a valid host name", details={"host": host}) from None
        addresses: list[IPAddress] = []
        for _family, _type, _proto, _name, sockaddr in answers:
            address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
            if address not in addresses:
                addresses.append(address)
        return addresses


def dns_error(host: str, exc: socket.gaierror) -> NotFound | UpstreamError:
    """A name that does not exist is NOT_FOUND; any other DNS failure is a retryable UPSTREAM_ERROR."""
    if exc.errno in _NO_SUCH_NAME:
        return NotFound(
            f"host {host} does not exist (DNS has no address for it)",
            recovery_steps=["Check the spelling of the host name, or search for the right site first."],
            details={"host": host},
        )
    return UpstreamError(
        f"could not resolve {host}: {exc.strerror or exc}",
        recovery_steps=["Retry in a few seconds; DNS lookups can fail temporarily."],
        details={"host": host},
    )

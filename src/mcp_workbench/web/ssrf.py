"""The SSRF guard: which URLs, host names and addresses a model-initiated fetch may reach.

Pure functions (no I/O): the fetcher calls :func:`check_url` before every hop, and the pinned
network backend (:mod:`mcp_workbench.web.transport`) calls :func:`check_addresses` on the
DNS answers it is about to connect to. That second check is the one that matters: the
connection goes to the address that was checked, so neither DNS rebinding nor a parser that
reads the URL differently can slip past it. The first check gives early, precise refusals
(schemes, credentials, odd IP spellings, names such as ``localhost``) without touching DNS.

Refused (unless ``[web] allow_hosts`` names the address, its network or the host): loopback,
private (RFC 1918, unique-local), link-local, shared/CGNAT (100.64/10), unspecified,
multicast, broadcast, reserved, documentation and benchmarking ranges, cloud-metadata
endpoints, and IPv6 forms that embed such an IPv4 address (IPv4-mapped, IPv4-compatible,
NAT64, 6to4, Teredo). Every port is allowed: the address decides, not the port.
"""

from __future__ import annotations

import ipaddress
import re
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx2

from mcp_workbench.platform.errors import InvalidInput, PermissionDenied

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

ALLOWED_SCHEMES = ("http", "https")

CLOUD_METADATA = "cloud metadata"
LOOPBACK = "loopback"

_V4 = ipaddress.IPv4Network
_V6 = ipaddress.IPv6Network

# First match names the class; the order puts the most specific ranges first.
_V4_CLASSES: tuple[tuple[IPNetwork, str], ...] = (
    (_V4("169.254.169.254/32"), CLOUD_METADATA),  # AWS, GCP, Azure, OpenStack, DigitalOcean ...
    (_V4("169.254.170.2/32"), CLOUD_METADATA),  # AWS ECS task metadata
    (_V4("169.254.169.253/32"), CLOUD_METADATA),  # AWS VPC DNS
    (_V4("100.100.100.200/32"), CLOUD_METADATA),  # Alibaba Cloud
    (_V4("192.0.0.192/32"), CLOUD_METADATA),  # Oracle Cloud
    (_V4("0.0.0.0/8"), "unspecified ('this network')"),
    (_V4("127.0.0.0/8"), LOOPBACK),
    (_V4("10.0.0.0/8"), "private"),
    (_V4("172.16.0.0/12"), "private"),
    (_V4("192.168.0.0/16"), "private"),
    (_V4("169.254.0.0/16"), "link-local"),
    (_V4("100.64.0.0/10"), "shared (carrier-grade NAT)"),
    (_V4("192.0.0.0/24"), "reserved (IETF protocol assignments)"),
    (_V4("192.0.2.0/24"), "reserved (documentation)"),
    (_V4("198.51.100.0/24"), "reserved (documentation)"),
    (_V4("203.0.113.0/24"), "reserved (documentation)"),
    (_V4("198.18.0.0/15"), "reserved (benchmarking)"),
    (_V4("192.88.99.0/24"), "reserved (6to4 relay anycast)"),
    (_V4("224.0.0.0/4"), "multicast"),
    (_V4("255.255.255.255/32"), "broadcast"),
    (_V4("240.0.0.0/4"), "reserved"),
)

_V6_CLASSES: tuple[tuple[IPNetwork, str], ...] = (
    (_V6("fd00:ec2::254/128"), CLOUD_METADATA),  # AWS IMDS over IPv6
    (_V6("::/128"), "unspecified"),
    (_V6("::1/128"), LOOPBACK),
    (_V6("64:ff9b:1::/48"), "private (local-use NAT64)"),
    (_V6("100::/64"), "reserved (discard-only)"),
    (_V6("2001:db8::/32"), "reserved (documentation)"),
    (_V6("3fff::/20"), "reserved (documentation)"),
    (_V6("2001:2::/48"), "reserved (benchmarking)"),
    (_V6("fc00::/7"), "private (unique-local)"),
    (_V6("fe80::/10"), "link-local"),
    (_V6("fec0::/10"), "site-local (deprecated)"),
    (_V6("ff00::/8"), "multicast"),
)

_MAPPED = _V6("::ffff:0:0/96")
_COMPATIBLE = _V6("::/96")
_NAT64 = _V6("64:ff9b::/96")
_SIX_TO_FOUR = _V6("2002::/16")
_TEREDO = _V6("2001::/32")

# Names refused without asking DNS (RFC 6761 loopback names and cloud metadata hosts).
_DENIED_NAMES: dict[str, str] = {
    "localhost": LOOPBACK,
    "localhost.localdomain": LOOPBACK,
    "ip6-localhost": LOOPBACK,
    "ip6-loopback": LOOPBACK,
    "metadata.google.internal": CLOUD_METADATA,
    "metadata.goog": CLOUD_METADATA,
    "metadata": CLOUD_METADATA,
    "instance-data": CLOUD_METADATA,
    "instance-data.ec2.internal": CLOUD_METADATA,
}


def classify_address(address: IPAddress) -> str | None:
    """The class that makes ``address`` unreachable for model fetches, or None if it is public."""
    if isinstance(address, ipaddress.IPv6Address):
        return _classify_v6(address)
    for network, label in _V4_CLASSES:
        if address in network:
            return label
    return None if address.is_global else "reserved"


def _classify_v6(address: ipaddress.IPv6Address) -> str | None:
    if address.scope_id:
        address = ipaddress.IPv6Address(str(address).split("%", 1)[0])
    for network, label in _V6_CLASSES:
        if address in network:
            return label
    embedded: tuple[str, ipaddress.IPv4Address] | None = None
    if address in _MAPPED:
        embedded = ("IPv4-mapped", ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    elif address in _COMPATIBLE:
        embedded = ("IPv4-compatible", ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    elif address in _NAT64:
        embedded = ("NAT64", ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    elif address in _SIX_TO_FOUR:
        embedded = ("6to4", ipaddress.IPv4Address((int(address) >> 80) & 0xFFFFFFFF))
    elif address in _TEREDO:
        client = address.teredo[1] if address.teredo else None
        inner = classify_address(client) if client else None
        return f"Teredo tunnel to {inner} {client}" if inner else "Teredo tunnel"
    if embedded is not None:
        kind, v4 = embedded
        inner = classify_address(v4)
        if inner is not None:
            return f"{kind} form of {inner} {v4}"
        return "IPv4-compatible (deprecated)" if kind == "IPv4-compatible" else None
    return None if address.is_global else "reserved"


def parse_ip_host(host: str) -> IPAddress | None:
    """The address ``host`` denotes if it is an IP literal in any spelling, else None.

    Accepts what C's ``inet_aton`` and browsers accept: ``127.0.0.1``, ``2130706433``,
    ``0x7f000001``, ``0177.0.0.1``, ``127.1``, a trailing dot, percent-encoding, and IPv6
    with or without brackets and zone (``[::ffff:127.0.0.1]``, ``fe80::1%eth0``).
    """
    text = urllib.parse.unquote(host).strip().lower()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if ":" in text:
        try:
            return ipaddress.IPv6Address(text.split("%", 1)[0])
        except ValueError:
            return None
    value = _lenient_ipv4(text)
    return ipaddress.IPv4Address(value) if value is not None else None


_HEX_PART = re.compile(r"0[xX][0-9a-fA-F]+")
_OCTAL_PART = re.compile(r"0[0-7]+")
_DECIMAL_PART = re.compile(r"0|[1-9][0-9]*")


def _lenient_ipv4(text: str) -> int | None:
    parts = text.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()  # one trailing dot
    if not 1 <= len(parts) <= 4:
        return None
    numbers = []
    for part in parts:
        number = _ipv4_number(part)
        if number is None:
            return None
        numbers.append(number)
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(numbers)):
        return None
    value = last
    for index, number in enumerate(head):
        value += number << (8 * (3 - index))
    return value


def _ipv4_number(part: str) -> int | None:
    if part in ("0x", "0X"):
        return 0
    if _HEX_PART.fullmatch(part):
        return int(part, 16)
    if _OCTAL_PART.fullmatch(part):
        return int(part, 8)
    if _DECIMAL_PART.fullmatch(part):
        return int(part, 10)
    return None


@dataclass(frozen=True)
class HostPolicy:
    """The operator's exceptions to the guard (``[web] allow_hosts``)."""

    networks: tuple[IPNetwork, ...] = ()
    names: frozenset[str] = frozenset()
    suffixes: tuple[str, ...] = ()

    @classmethod
    def from_entries(cls, entries: Iterable[str]) -> HostPolicy:
        networks: list[IPNetwork] = []
        names: set[str] = set()
        suffixes: list[str] = []
        for entry in entries:
            value = entry.strip().lower().rstrip(".")
            try:
                networks.append(ipaddress.ip_network(value, strict=False))
            except ValueError:
                if value.startswith("*."):
                    suffixes.append(value[1:])
                else:
                    names.add(value)
        return cls(tuple(networks), frozenset(names), tuple(suffixes))

    def allows_name(self, host: str) -> bool:
        name = normalize_host(host)
        return name in self.names or any(name.endswith(suffix) for suffix in self.suffixes)

    def allows_address(self, address: IPAddress) -> bool:
        return any(address in network for network in self.networks if network.version == address.version)


def normalize_host(host: str) -> str:
    return host.strip().lower().rstrip(".").removeprefix("[").removesuffix("]")


class AddressRefused(PermissionDenied):
    """The guard refused a URL, a host or an address."""

    default_recovery = (
        (
            "Fetch a public http(s) URL instead; private, loopback, link-local and cloud-metadata "
            "addresses are never fetched for a model."
        ),
        (
            "If this host is meant to be reachable (an intranet site), ask the server's operator to add it "
            "to [web] allow_hosts."
        ),
    )


def refused(
    host: str, address: IPAddress | None, label: str, *, resolved: bool = False, via: str | None = None
) -> AddressRefused:
    """The refusal of ``host``, naming the address class so the model knows why."""
    where = f" (redirected from {via})" if via else ""
    if address is None:
        reason = f"it names a {label} host"
    elif resolved:
        reason = f"it resolves to {address}, a {label} address"
    elif str(address) != normalize_host(host):
        reason = f"it means {address}, a {label} address"
    else:
        reason = f"it is a {label} address"
    details: dict[str, Any] = {"host": host, "address_class": label}
    if address is not None:
        details["address"] = str(address)
    if via:
        details["redirected_from"] = via
    return AddressRefused(f"refused to fetch {host}{where}: {reason}, which the SSRF guard blocks", details=details)


def check_url(url: str, policy: HostPolicy, *, via: str | None = None) -> httpx2.URL:
    """Parse ``url`` and refuse what can be refused without DNS; return the URL to request.

    ``via`` names the page that redirected here, for the message.
    """
    try:
        parsed = httpx2.URL(url)
    except (httpx2.InvalidURL, ValueError, TypeError) as exc:
        # Parsers disagree on odd URLs: if another parser reads an IP literal here, refuse it by class.
        _refuse_literal(_urllib_host(url), policy, via)
        raise InvalidInput(
            f"not a valid URL: {exc}",
            recovery_steps=["Pass a complete http(s) URL such as https://example.com/page."],
            details={"field": "url"},
        ) from None
    scheme = parsed.scheme.lower()
    if not scheme or (not parsed.host and scheme in ALLOWED_SCHEMES):
        raise InvalidInput(
            f"{url[:200]!r} is not an absolute URL",
            recovery_steps=["Pass a complete http(s) URL such as https://example.com/page."],
            details={"field": "url"},
        )
    if scheme not in ALLOWED_SCHEMES:
        raise PermissionDenied(
            f"only http and https URLs can be fetched; scheme {scheme!r} is refused",
            recovery_steps=["Use an http:// or https:// URL; file, ftp, gopher and other schemes are never fetched."],
            details={"scheme": scheme},
        )
    if parsed.port is not None and not 0 < parsed.port < 65536:
        raise InvalidInput(
            f"port {parsed.port} is out of range",
            recovery_steps=["Use a port between 1 and 65535, or none."],
            details={"field": "url"},
        )
    # Check the host as this parser and as urllib read it: a disagreement must not help.
    for candidate in dict.fromkeys((parsed.host, _urllib_host(url))):
        if candidate:
            _refuse_literal(candidate, policy, via)
    if parsed.userinfo:
        raise PermissionDenied(
            "URLs with credentials (user:password@host) are refused",
            recovery_steps=["Remove the user:password@ part; web_fetch never sends credentials."],
            details={"host": parsed.host},
        )
    return parsed.copy_with(fragment=None) if parsed.fragment else parsed  # fragments are never sent


def _urllib_host(url: str) -> str:
    try:
        return urllib.parse.urlsplit(url.strip()).hostname or ""
    except ValueError:
        return ""


def _refuse_literal(host: str, policy: HostPolicy, via: str | None) -> None:
    if not host or policy.allows_name(host):
        return
    name = normalize_host(urllib.parse.unquote(host))
    label = _DENIED_NAMES.get(name) or (LOOPBACK if name.endswith(".localhost") else None)
    if label is not None:
        raise refused(host, None, label, via=via)
    address = parse_ip_host(host)
    if address is not None:
        check_addresses(host, [address], policy, via=via)


def check_addresses(
    host: str,
    addresses: Iterable[IPAddress],
    policy: HostPolicy,
    *,
    resolved: bool = False,
    via: str | None = None,
) -> list[IPAddress]:
    """Return ``addresses`` if every one may be reached; refuse them all if any may not.

    All, not some: a name that resolves to a public and a private address is an attack
    (or a misconfiguration) either way, and the connection must not pick between them.
    """
    checked = list(addresses)
    if policy.allows_name(host):
        return checked
    for address in checked:
        if policy.allows_address(address):
            continue
        label = classify_address(address)
        if label is not None:
            raise refused(host, address, label, resolved=resolved, via=via)
    return checked

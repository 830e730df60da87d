"""The pinned transport: connections go to the address the guard checked, by name for HTTP and TLS.

These drive :class:`~mcp_workbench.web.fetch.Fetcher` directly, with a resolver injected at
the designed seam (real DNS is not available here), plus one HTTPS case through the tool.
"""

from __future__ import annotations

import ipaddress
import socket

import pytest

from mcp_workbench.platform.errors import NotFound, PermissionDenied, UpstreamError
from mcp_workbench.web.fetch import Fetcher
from mcp_workbench.web.resolver import SystemResolver, dns_error
from mcp_workbench.web.settings import WebSettings
from mcp_workbench.web.ssrf import IPAddress
from tests.support.loopback_site import SITE, Reply, Site

pytestmark = pytest.mark.anyio


class Resolver:
    """Answers from a table and remembers every question."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> list[IPAddress]:
        self.asked.append(host)
        if host not in self.table:
            raise dns_error(host, socket.gaierror(socket.EAI_NONAME, "Name or service not known"))
        return [ipaddress.ip_address(a) for a in self.table[host]]


def _fetcher(resolver: Resolver, **settings) -> Fetcher:
    return Fetcher(WebSettings(ignore_robots=True, **settings), resolver=resolver)


async def test_the_connection_goes_to_the_checked_address_and_keeps_the_name(site: Site) -> None:
    site.route("/", Reply(200, "pinned"))
    resolver = Resolver({"pinned.test": ["127.0.0.1"]})
    fetcher = _fetcher(resolver, allow_hosts=["127.0.0.1"])
    try:
        fetched = await fetcher.fetch(site.url("/", host="pinned.test"))
    finally:
        await fetcher.aclose()
    assert fetched.body == b"pinned"
    assert resolver.asked == ["pinned.test"]  # one lookup: checked and connected with the same answer
    assert site.seen[0].headers["host"] == f"pinned.test:{site.port}"


async def test_a_refused_answer_stops_before_connecting(site: Site) -> None:
    resolver = Resolver({"rebind.test": ["127.0.0.1"]})
    fetcher = _fetcher(resolver)
    try:
        with pytest.raises(PermissionDenied, match=r"resolves to 127\.0\.0\.1, a loopback address"):
            await fetcher.fetch(site.url("/", host="rebind.test"))
    finally:
        await fetcher.aclose()
    assert resolver.asked == ["rebind.test"] and site.seen == []


async def test_every_new_connection_is_checked_again(site: Site) -> None:
    """A name that turns private later (DNS rebinding) is refused on its next connection."""
    site.route("/", Reply(200, "ok", {"connection": "close"}))
    resolver = Resolver({"flip.test": ["127.0.0.1"]})
    fetcher = _fetcher(resolver, allow_hosts=["127.0.0.1/32"], cache_max_entries=0)
    try:
        await fetcher.fetch(site.url("/", host="flip.test"))
        resolver.table["flip.test"] = ["10.0.0.1"]
        with pytest.raises(PermissionDenied, match=r"10\.0\.0\.1, a private address"):
            await fetcher.fetch(site.url("/", host="flip.test"))
    finally:
        await fetcher.aclose()
    assert resolver.asked == ["flip.test", "flip.test"]


async def test_the_next_address_is_tried_when_one_refuses_connections(site: Site) -> None:
    site.route("/", Reply(200, "second address"))  # the site listens on 127.0.0.1 only: 127.0.0.2 refuses
    resolver = Resolver({"two.test": ["127.0.0.2", "127.0.0.1"]})
    fetcher = _fetcher(resolver, allow_hosts=["127.0.0.0/8"])
    try:
        assert (await fetcher.fetch(site.url("/", host="two.test"))).body == b"second address"
    finally:
        await fetcher.aclose()


async def test_a_missing_name_is_not_found_and_a_dns_outage_is_retryable() -> None:
    missing = dns_error("gone.test", socket.gaierror(socket.EAI_NONAME, "Name or service not known"))
    outage = dns_error("slow.test", socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"))
    assert isinstance(missing, NotFound)
    assert isinstance(outage, UpstreamError) and outage.retryable


async def test_fixed_answers_override_dns() -> None:
    resolver = SystemResolver({"wiki.corp.example": ["10.0.0.7", "fd00::7"]})
    assert await resolver("WIKI.corp.example.", 443) == [
        ipaddress.ip_address("10.0.0.7"),
        ipaddress.ip_address("fd00::7"),
    ]
    assert await resolver("127.0.0.1", 80) == [ipaddress.ip_address("127.0.0.1")]


async def test_the_client_is_made_on_first_use_and_closed_by_aclose(site: Site) -> None:
    site.route("/", Reply(200, "x"))
    fetcher = _fetcher(Resolver({SITE: ["127.0.0.1"]}), allow_hosts=[SITE])
    assert fetcher._client is None
    await fetcher.fetch(site.url("/"))
    client = fetcher.client()
    await fetcher.aclose()
    assert client.is_closed and fetcher._client is None
    await fetcher.aclose()  # idempotent


async def test_https_is_verified_against_the_host_name_not_the_pinned_address(
    connect, web_settings, tls_site: Site, certs
) -> None:
    url = tls_site.route("/", Reply(200, "over tls"))
    settings = web_settings(
        ca_file=str(certs.ca_file), resolve={"other.test": ["127.0.0.1"]}, allow_hosts=[SITE, "other.test"]
    )
    async with connect(settings) as session:
        outcome = await session.call("web_fetch", url=url)
        assert outcome.text == "over tls", outcome.text
        # Same address, a name the certificate does not carry: the TLS check must fail.
        error = await session.error("web_fetch", "UPSTREAM_ERROR", url=tls_site.url("/", host="other.test"))
    assert "certificate" in error["error"] and error["retryable"] is False
    assert [seen.path for seen in tls_site.seen if seen.path != "/robots.txt"] == ["/"]


async def test_https_without_the_ca_is_refused(connect, web_settings, tls_site: Site) -> None:
    url = tls_site.route("/", Reply(200, "over tls"))
    async with connect(web_settings(ignore_robots=True)) as session:
        error = await session.error("web_fetch", "UPSTREAM_ERROR", url=url)
    assert "certificate" in error["error"]
    assert tls_site.seen == []


def test_settings_refuse_bad_allow_entries_overrides_and_ca_files(tmp_path) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="neither an address"):
        WebSettings(allow_hosts=["http://example.com/"])
    with pytest.raises(ValidationError, match="not a host name"):
        WebSettings(resolve={"bad name": ["10.0.0.1"]})
    with pytest.raises(ValidationError, match="does not appear to be an IPv4 or IPv6 address"):
        WebSettings(resolve={"ok.example": ["not-an-ip"]})
    with pytest.raises(ValidationError, match="is not a file"):
        WebSettings(ca_file=str(tmp_path / "missing.pem"))
    settings = WebSettings(allow_hosts=[" Wiki.Corp.Example. ", "10.0.0.0/8", "*.intra.example"])
    assert settings.allow_hosts == ["wiki.corp.example", "10.0.0.0/8", "*.intra.example"]

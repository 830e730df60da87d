"""SSRF attacks through the real tool: each one is refused with PERMISSION_DENIED, and the
loopback server it aims at (``target``) never receives a request."""

from __future__ import annotations

import pytest

from tests.support.loopback_site import EVIL, SITE, Reply, Site

pytestmark = pytest.mark.anyio

# {t} is the target's port: a real server on 127.0.0.1 that must stay untouched.
DIRECT = [
    "http://127.0.0.1:{t}/",
    "http://localhost:{t}/",
    "http://LOCALHOST.:{t}/",
    "http://app.localhost:{t}/",
    f"http://{EVIL}:{{t}}/",  # a name whose DNS answer is 127.0.0.1
    "http://2130706433:{t}/",
    "http://0x7f000001:{t}/",
    "http://0177.0.0.1:{t}/",
    "http://127.1:{t}/",
    "http://127.0.1:{t}/",
    "http://0:{t}/",
    "http://0.0.0.0:{t}/",
    "http://127.0.0.1.:{t}/",
    "http://%31%32%37.0.0.1:{t}/",
    "http://[::1]:{t}/",
    "http://[::ffff:127.0.0.1]:{t}/",
    "http://[::ffff:7f00:1]:{t}/",
    "http://[::127.0.0.1]:{t}/",
    "http://[64:ff9b::7f00:1]:{t}/",
    "http://[2002:7f00:1::]:{t}/",
    "http://evil.com\\@127.0.0.1:{t}/",
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "http://[::ffff:169.254.169.254]/latest/meta-data/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://[fd00:ec2::254]/latest/meta-data/",
    "http://100.100.100.200/latest/meta-data/",
    "http://10.0.0.1/",
    "http://172.16.0.1/",
    "http://192.168.1.1/admin",
    "http://100.64.0.1/",
    "http://[fe80::1%25eth0]/",
    "http://[fc00::1]/",
    "http://224.0.0.1/",
    "http://198.18.0.1/",
]


@pytest.mark.parametrize("attack", DIRECT)
async def test_direct_fetches_of_internal_addresses_are_refused(connect, web_settings, target: Site, attack) -> None:
    async with connect(web_settings()) as session:
        error = await session.error("web_fetch", "PERMISSION_DENIED", url=attack.format(t=target.port))
    assert error["details"]["address_class"] in error["error"]
    assert error["retryable"] is False and len(error["recovery_steps"]) == 2
    assert target.seen == []


def test_every_direct_attack_is_a_distinct_case() -> None:
    assert len(set(DIRECT)) == len(DIRECT)


@pytest.mark.parametrize(
    "attack", ["file:///etc/passwd", "ftp://{site}:{t}/", "gopher://127.0.0.1:{t}/_GET%20/", "dict://127.0.0.1:{t}/"]
)
async def test_other_schemes_are_refused(connect, web_settings, target: Site, attack) -> None:
    async with connect(web_settings()) as session:
        error = await session.error("web_fetch", "PERMISSION_DENIED", url=attack.format(site=SITE, t=target.port))
    assert "only http and https" in error["error"]
    assert target.seen == []


async def test_urls_with_credentials_are_refused(connect, web_settings, site: Site) -> None:
    async with connect(web_settings()) as session:
        await session.error("web_fetch", "PERMISSION_DENIED", url=f"http://admin:hunter2@{SITE}:{site.port}/")
    assert site.seen == []


async def test_a_name_with_one_internal_address_among_public_ones_is_refused(connect, web_settings, target) -> None:
    settings = web_settings(resolve={"mixed.test": ["93.184.216.34", "127.0.0.1"]})
    async with connect(settings) as session:
        error = await session.error("web_fetch", "PERMISSION_DENIED", url=f"http://mixed.test:{target.port}/")
    assert error["details"] == {"host": "mixed.test", "address_class": "loopback", "address": "127.0.0.1"}
    assert target.seen == []


REDIRECTS = [
    "http://127.0.0.1:{t}/",
    "http://localhost:{t}/",
    f"http://{EVIL}:{{t}}/",
    "http://[::1]:{t}/",
    "http://[::ffff:127.0.0.1]:{t}/",
    "http://2130706433:{t}/",
    "//127.0.0.1:{t}/",  # scheme-relative
    "http://169.254.169.254/latest/meta-data/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://10.0.0.1/",
    "http://192.168.0.1/",
    "file:///etc/passwd",
    "gopher://127.0.0.1:{t}/_",
]


@pytest.mark.parametrize("status", [302, 308])
@pytest.mark.parametrize("location", REDIRECTS)
async def test_redirects_to_internal_addresses_are_refused(
    connect, web_settings, *, site: Site, target: Site, location: str, status: int
) -> None:
    start = site.route("/go", Reply(status, "", {"location": location.format(t=target.port)}))
    async with connect(web_settings()) as session:
        error = await session.error("web_fetch", "PERMISSION_DENIED", url=start)
    assert site.pages_seen == ["/go"]
    assert target.seen == []
    if "address_class" in error["details"]:
        assert error["details"]["redirected_from"] == start


async def test_a_later_hop_is_checked_too(connect, web_settings, site: Site, target: Site) -> None:
    site.route("/one", Reply(302, "", {"location": "/two"}))
    site.route("/two", Reply(302, "", {"location": f"http://127.0.0.1:{target.port}/"}))
    async with connect(web_settings()) as session:
        error = await session.error("web_fetch", "PERMISSION_DENIED", url=site.url("/one"))
    assert error["details"]["redirected_from"] == site.url("/two")
    assert target.seen == []


async def test_robots_txt_cannot_be_used_to_reach_internal_addresses(connect, web_settings, site, target) -> None:
    site.route("/robots.txt", Reply(301, "", {"location": f"http://127.0.0.1:{target.port}/"}))
    page = site.route("/page", Reply(200, "public"))
    async with connect(web_settings()) as session:
        await session.error("web_fetch", "PERMISSION_DENIED", url=page)
    assert site.pages_seen == []
    assert target.seen == []


async def test_the_allow_list_opens_exactly_what_it_names(connect, web_settings, target: Site) -> None:
    """Allowing the target's address lets it through: the refusals above are the guard, not the network."""
    async with connect(web_settings(allow_hosts=["127.0.0.1"])) as session:
        outcome = await session.call("web_fetch", url=target.url("/", host="127.0.0.1"))
        assert outcome.text == "internal secret"
        await session.error("web_fetch", "PERMISSION_DENIED", url=target.url("/", host="localhost"))
        await session.error("web_fetch", "PERMISSION_DENIED", url=target.url("/", host="127.0.0.2"))
    assert [seen.path for seen in target.seen if seen.path != "/robots.txt"] == ["/"]

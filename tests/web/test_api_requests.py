"""``Fetcher.request``: the API path of the fetcher, used by the research sources.

Driven directly against real loopback sites, with ``site.test`` resolving to 127.0.0.1 at the
resolver seam as in the other web tests.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import pytest

from mcp_workbench.platform.errors import PermissionDenied, TooLarge
from mcp_workbench.web.fetch import Fetcher
from mcp_workbench.web.settings import WebSettings
from tests.support.loopback_site import SITE, Reply, Seen, Site

pytestmark = pytest.mark.anyio


def _fetcher(**settings) -> Fetcher:
    settings.setdefault("allow_hosts", [SITE])
    return Fetcher(WebSettings(resolve={SITE: ["127.0.0.1"]}, **settings))


async def test_any_status_comes_back_with_its_headers_and_body(site: Site) -> None:
    site.route("/busy", Reply(429, '{"error": "slow down"}', {"retry-after": "7", "content-type": "application/json"}))
    fetcher = _fetcher()
    try:
        answer = await fetcher.request(site.url("/busy"))
    finally:
        await fetcher.aclose()
    assert answer.status == 429 and answer.body == b'{"error": "slow down"}'
    assert answer.headers["retry-after"] == "7" and answer.headers["content-type"] == "application/json"


async def test_params_and_headers_are_sent_and_robots_txt_is_not_asked(site: Site) -> None:
    site.route("/api", Reply(200, "ok"))
    site.route("/robots.txt", Reply(200, "User-agent: *\nDisallow: /"))
    fetcher = _fetcher()
    try:
        await fetcher.request(
            site.url("/api?fixed=1"),
            params={"q": "graph neural networks", "rows": "5"},
            headers={"User-Agent": "tester/1 (mailto:ops@example.org)", "accept": "application/json"},
        )
    finally:
        await fetcher.aclose()
    assert [seen.path for seen in site.seen] == ["/api?fixed=1&q=graph+neural+networks&rows=5"]
    headers = site.seen[0].headers
    assert headers["user-agent"] == "tester/1 (mailto:ops@example.org)"
    assert headers["accept"] == "application/json"


async def test_a_body_over_the_cap_is_too_large(site: Site) -> None:
    site.route("/big", Reply(200, b"x" * 50_000))
    fetcher = _fetcher()
    try:
        with pytest.raises(TooLarge):
            await fetcher.request(site.url("/big"), max_bytes=10_000)
    finally:
        await fetcher.aclose()


async def test_private_addresses_stay_refused_without_allow_hosts(site: Site) -> None:
    site.route("/api", Reply(200, "ok"))
    fetcher = _fetcher(allow_hosts=[])
    try:
        with pytest.raises(PermissionDenied):
            await fetcher.request(site.url("/api"))
        with pytest.raises(PermissionDenied):
            await fetcher.request(f"http://127.0.0.1:{site.port}/api")
    finally:
        await fetcher.aclose()
    assert site.seen == []


class CountingGate:
    """A gate that lets one request through at a time and counts how often it was entered."""

    def __init__(self) -> None:
        self.entered = 0
        self._lock = anyio.Lock()

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[None]:
        async with self._lock:
            self.entered += 1
            yield


async def test_the_gate_is_entered_for_the_network_and_not_for_cache_hits(site: Site) -> None:
    site.route("/fresh", Reply(200, "cached", {"cache-control": "max-age=600"}))
    gate = CountingGate()
    fetcher = _fetcher()
    try:
        first = await fetcher.request(site.url("/fresh"), gate=gate)
        second = await fetcher.request(site.url("/fresh"), gate=gate)
    finally:
        await fetcher.aclose()
    assert (first.from_cache, second.from_cache) == (False, True)
    assert gate.entered == 1 and site.hits("/fresh") == 1


async def test_the_gate_is_held_until_the_body_is_read(site: Site) -> None:
    """A gate of one lets the second request reach the site only after the first body has arrived."""
    in_flight = 0
    most = 0
    lock = threading.Lock()
    release = threading.Event()
    second_arrived = threading.Event()

    def chunks():
        yield b"part one "
        release.wait(5)  # the body is still streaming while the other request waits at the gate
        yield b"part two"

    def slow(seen: Seen) -> Reply:
        nonlocal in_flight, most
        with lock:
            in_flight += 1
            most = max(most, in_flight)
            if site.hits("/slow") >= 2:
                second_arrived.set()

        def body():
            nonlocal in_flight
            yield from chunks()
            with lock:
                in_flight -= 1

        return Reply(200, body(), {"cache-control": "no-store"})

    site.route("/slow", slow)
    gate = CountingGate()
    fetcher = _fetcher()
    bodies: list[bytes] = []

    async def one() -> None:
        bodies.append((await fetcher.request(site.url("/slow"), gate=gate)).body)

    try:
        async with anyio.create_task_group() as group:
            group.start_soon(one)
            group.start_soon(one)
            # A gate released too early would let the second request reach the site within this wait.
            assert not await anyio.to_thread.run_sync(second_arrived.wait, 0.5)
            release.set()
    finally:
        await fetcher.aclose()
    assert bodies == [b"part one part two"] * 2 and most == 1 and gate.entered == 2

"""robots.txt is honoured for model fetches: disallowed pages are never requested."""

from __future__ import annotations

import threading

import anyio
import anyio.lowlevel
import httpx2
import pytest

from mcp_workbench.platform.errors import NotFound, UpstreamError
from mcp_workbench.web.robots import RobotsDisallowed, RobotsRules, RobotsUnavailable
from tests.support.loopback_site import Reply, Site

pytestmark = pytest.mark.anyio

RULES = """User-agent: *
Disallow: /private/
Allow: /private/press-kit

User-agent: mcp-workbench
Disallow: /no-agents/
Disallow: /*.pdf$
"""


async def test_a_disallowed_page_is_refused_and_never_requested(connect, web_settings, site: Site) -> None:
    site.route("/robots.txt", Reply(200, RULES))
    site.route("/no-agents/page", Reply(200, "secret"))
    async with connect(web_settings()) as session:
        error = await session.error("web_fetch", "PERMISSION_DENIED", url=site.url("/no-agents/page"))
    assert "robots.txt" in error["error"] and "'mcp-workbench'" in error["error"]
    assert error["retryable"] is False
    assert any("Do not retry" in step for step in error["recovery_steps"])
    assert site.pages_seen == []


async def test_rules_for_the_agent_replace_the_wildcard_group(connect, web_settings, site: Site) -> None:
    site.route("/robots.txt", Reply(200, RULES))
    site.route("/private/page", Reply(200, "wildcard rules do not apply to a named agent"))
    site.route("/report.pdf", Reply(200, "pdf"))
    site.route("/report.pdf.html", Reply(200, "html"))
    async with connect(web_settings()) as session:
        await session.ok("web_fetch", url=site.url("/private/page"))
        await session.error("web_fetch", "PERMISSION_DENIED", url=site.url("/report.pdf"))
        await session.ok("web_fetch", url=site.url("/report.pdf.html"))
    assert site.pages_seen == ["/private/page", "/report.pdf.html"]


async def test_the_wildcard_group_applies_to_other_agents(connect, web_settings, site: Site) -> None:
    site.route("/robots.txt", Reply(200, RULES))
    site.route("/private/page", Reply(200, "no"))
    site.route("/private/press-kit", Reply(200, "yes"))
    async with connect(web_settings(user_agent="other-bot/2.0")) as session:
        await session.error("web_fetch", "PERMISSION_DENIED", url=site.url("/private/page"))
        await session.ok("web_fetch", url=site.url("/private/press-kit"))
    assert site.pages_seen == ["/private/press-kit"]


async def test_no_robots_txt_allows_everything(connect, web_settings, site: Site) -> None:
    url = site.route("/anything", Reply(200, "fine"))  # /robots.txt answers 404
    async with connect(web_settings()) as session:
        await session.ok("web_fetch", url=url)
    assert site.pages_seen == ["/anything"]


async def test_a_failing_robots_txt_disallows_for_now(connect, web_settings, site: Site) -> None:
    site.route("/robots.txt", Reply(500, "oops"))
    url = site.route("/page", Reply(200, "content"))
    async with connect(web_settings()) as session:
        error = await session.error("web_fetch", "PERMISSION_DENIED", url=url)
        assert error["retryable"] is True and "could not be read" in error["error"]
        site.route("/robots.txt", Reply(200, "User-agent: *\nAllow: /\n"))
        await session.ok("web_fetch", url=url)  # a failure is not remembered
    assert site.pages_seen == ["/page"]


async def test_a_robots_txt_that_never_answers_stops_the_fetch(connect, web_settings, site: Site) -> None:
    answered = threading.Event()
    site.route("/robots.txt", Reply(200, "User-agent: *\nAllow: /\n", wait=answered))
    url = site.route("/page", Reply(200, "content"))
    try:
        async with connect(web_settings(timeout_s=0.5)) as session:
            await session.error("web_fetch", "TIMEOUT", url=url)
    finally:
        answered.set()
    assert site.pages_seen == []


async def test_robots_txt_is_fetched_once_per_site(connect, web_settings, site: Site) -> None:
    site.route("/robots.txt", Reply(200, "User-agent: *\nDisallow: /x\n"))
    site.route("/a", Reply(200, "a"))
    site.route("/b", Reply(200, "b"))
    async with connect(web_settings()) as session:
        await session.ok("web_fetch", url=site.url("/a"))
        await session.ok("web_fetch", url=site.url("/b"))
        await session.error("web_fetch", "PERMISSION_DENIED", url=site.url("/x"))
    assert site.hits("/robots.txt") == 1


async def test_ignore_robots_skips_it(connect, web_settings, site: Site) -> None:
    site.route("/robots.txt", Reply(200, "User-agent: *\nDisallow: /\n"))
    url = site.route("/page", Reply(200, "content"))
    async with connect(web_settings(ignore_robots=True)) as session:
        await session.ok("web_fetch", url=url)
    assert site.hits("/robots.txt") == 0 and site.pages_seen == ["/page"]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Robots:
    """The robots.txt a RobotsRules sees: a status and a body per fetch, and how often it asked."""

    def __init__(self, status: int, text: str = "") -> None:
        self.status, self.text, self.fetched = status, text, 0

    async def __call__(self, url: str) -> tuple[int, str]:
        self.fetched += 1
        return self.status, self.text


async def test_answers_are_reused_until_their_ttl_runs_out() -> None:
    clock, robots = Clock(), Robots(200, "User-agent: *\nDisallow: /x\n")
    rules = RobotsRules(robots, user_agent="mcp-workbench", ttl_s=60, clock=clock)
    await rules.check(httpx2.URL("http://a.example/ok"))
    clock.now = 59
    with pytest.raises(RobotsDisallowed):
        await rules.check(httpx2.URL("http://a.example/x"))
    assert robots.fetched == 1
    clock.now = 61
    await rules.check(httpx2.URL("http://a.example/ok"))
    assert robots.fetched == 2


async def test_each_origin_has_its_own_robots_txt() -> None:
    robots = Robots(404)
    rules = RobotsRules(robots, user_agent="mcp-workbench", ttl_s=60)
    for url in ("http://a.example/", "https://a.example/", "http://a.example:8080/", "http://b.example/"):
        await rules.check(httpx2.URL(url))
    assert robots.fetched == 4


async def test_origins_kept_are_bounded() -> None:
    robots = Robots(404)
    rules = RobotsRules(robots, user_agent="mcp-workbench", ttl_s=60, max_origins=2)
    for host in ("a", "b", "c", "a"):
        await rules.check(httpx2.URL(f"http://{host}.example/"))
    assert robots.fetched == 4  # a was evicted by c


@pytest.mark.parametrize("status", [429, 500, 503, 302])
async def test_server_trouble_is_unavailable_not_allowed(status: int) -> None:
    rules = RobotsRules(Robots(status), user_agent="mcp-workbench", ttl_s=60)
    with pytest.raises(RobotsUnavailable):
        await rules.check(httpx2.URL("http://a.example/page"))


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410])
async def test_client_errors_mean_no_rules(status: int) -> None:
    await RobotsRules(Robots(status), user_agent="mcp-workbench", ttl_s=60).check(httpx2.URL("http://a.example/"))


@pytest.mark.parametrize("failure", [NotFound("host a.example does not exist"), UpstreamError("connection reset")])
async def test_an_unreachable_robots_txt_reports_why(failure) -> None:
    async def unreachable(url: str) -> tuple[int, str]:
        raise failure

    with pytest.raises(type(failure)):
        await RobotsRules(unreachable, user_agent="x", ttl_s=60).check(httpx2.URL("http://a.example/"))


def _big_robots(chars: int) -> str:
    lines = ["User-agent: *"]
    size = len(lines[0]) + 1
    index = 0
    while size < chars:
        line = f"Disallow: /archive/{index}/*.html$"
        lines.append(line)
        size += len(line) + 1
        index += 1
    return "\n".join(lines) + "\n"


class TestWhatRobotsTxtMayCost:
    """A large robots.txt is read to a cap, kept within a bound shared by all sites, and parsed
    without stopping the event loop."""

    async def test_the_rules_kept_for_all_origins_stay_within_a_bound_of_text(self) -> None:
        big, small = Robots(200, _big_robots(150_000)), Robots(200, "User-agent: *\nDisallow: /x\n")
        fetchers = {"big": big, "small": small}

        async def fetch(url: str) -> tuple[int, str]:
            return await fetchers["big" if url.startswith("http://big") else "small"](url)

        rules = RobotsRules(fetch, user_agent="mcp-workbench", ttl_s=600, max_chars=400_000)
        for host in ("big-1", "small-a", "big-2", "big-3", "small-a"):
            await rules.check(httpx2.URL(f"http://{host}.example/page"))
        assert big.fetched == 3 and small.fetched == 1  # big-1, least recently used, made room; small-a stayed
        await rules.check(httpx2.URL("http://big-1.example/page"))
        assert big.fetched == 4  # big-1 had to go to keep the bound
        await rules.check(httpx2.URL("http://big-3.example/page"))
        assert big.fetched == 4  # the most recent big one is still kept

    async def test_parsing_a_large_robots_txt_lets_the_event_loop_run(self) -> None:
        rules = RobotsRules(Robots(200, _big_robots(500_000)), user_agent="mcp-workbench", ttl_s=600)
        ticks = 0
        done = anyio.Event()

        async def ticker() -> None:
            nonlocal ticks
            while not done.is_set():
                ticks += 1
                await anyio.lowlevel.checkpoint()

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(ticker)
            await anyio.lowlevel.checkpoint()
            before = ticks
            await rules.check(httpx2.URL("http://a.example/page"))
            during = ticks - before
            with pytest.raises(RobotsDisallowed):
                await rules.check(httpx2.URL("http://a.example/archive/3/x.html"))
            done.set()
        assert during > 20, f"the event loop ran {during} times while robots.txt was parsed"

    @pytest.mark.parametrize("cut", ["Disallow: /", "Disallow: /se", "Allow: /"])
    async def test_a_robots_txt_over_the_cap_loses_the_line_cut_at_the_cap(
        self, connect, web_settings, site: Site, cut: str
    ) -> None:
        from mcp_workbench.web.robots import ROBOTS_MAX_BYTES

        head = "User-agent: *\n"
        whole = "Disallow: /secret\n" if cut.startswith("Disallow") else "Allow: /secret-is-fine\n"
        filler_line = "Allow: /public/\n"
        room = ROBOTS_MAX_BYTES - len(head) - len(cut)
        filler = filler_line * (room // len(filler_line))
        padding = "#" * (room - len(filler) - 1) + "\n"  # a comment line fills the rest exactly
        body = head + filler + padding + whole + "Disallow: /tail-beyond-the-cap\n" * 100
        assert body.encode()[:ROBOTS_MAX_BYTES].endswith(cut.encode())
        site.route("/robots.txt", Reply(200, body))
        url = site.route("/page", Reply(200, "content"))
        async with connect(web_settings()) as session:
            await session.ok("web_fetch", url=url)
        assert site.pages_seen == ["/page"]

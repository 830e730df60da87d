"""web_fetch through a real MCP client against real loopback sites: formats, pages, redirects,
upstream failures and caps."""

from __future__ import annotations

import gzip
import json
import threading

import pytest

from tests.support.loopback_site import Reply, Site

pytestmark = pytest.mark.anyio

HTML = {"content-type": "text/html; charset=utf-8"}
ARTICLE = """<!doctype html>
<html><head><title>Release notes</title></head>
<body>
<nav><a href="/">Home</a> | <a href="/about">About us</a> | <a href="/jobs">Careers</a></nav>
<article>
<h1>Version 2.0 is out</h1>
<p>This release brings a new query planner that makes joins about twice as fast on large tables.
It also adds <a href="/docs/upgrade">an upgrade guide</a> for people moving from 1.x.</p>
<h2>Changes</h2>
<ul><li>Faster joins</li><li>Smaller wheels</li></ul>
<table><tr><th>metric</th><th>before</th><th>after</th></tr><tr><td>join</td><td>10 ms</td><td>5 ms</td></tr></table>
<pre><code>pip install example==2.0</code></pre>
</article>
<footer>Copyright 2026 Example Corp. All rights reserved. Cookie settings.</footer>
</body></html>"""


async def test_html_becomes_markdown_of_the_main_content(connect, web_settings, site: Site) -> None:
    url = site.route("/notes", Reply(200, ARTICLE, HTML))
    async with connect(web_settings()) as session:
        outcome = await session.call("web_fetch", url=url)
    assert not outcome.is_error, outcome.text
    text = outcome.text
    assert "# Version 2.0 is out" in text and "## Changes" in text
    assert "- Faster joins" in text
    assert "| join | 10 ms | 5 ms |" in text
    assert f"[an upgrade guide]({site.url('/docs/upgrade')})" in text  # links made absolute
    assert "pip install example==2.0" in text
    assert "Careers" not in text and "Cookie settings" not in text  # navigation and footer dropped
    assert outcome.data == {
        "url": url,
        "final_url": url,
        "status": 200,
        "content_type": "text/html; charset=utf-8",
        "format": "markdown",
        "start_index": 0,
        "next_start_index": None,
        "total_length": len(text),
        "truncated": False,
        "from_cache": False,
    }


async def test_text_format_is_plain_text_without_markup(connect, web_settings, site: Site) -> None:
    url = site.route("/notes", Reply(200, ARTICLE, HTML))
    async with connect(web_settings()) as session:
        text = (await session.call("web_fetch", url=url, format="text")).text
    assert "Version 2.0 is out" in text and "twice as fast" in text
    assert "](" not in text and "<p>" not in text and "# Version" not in text


async def test_raw_format_is_the_body_as_received(connect, web_settings, site: Site) -> None:
    url = site.route("/notes", Reply(200, ARTICLE, HTML))
    async with connect(web_settings()) as session:
        outcome = await session.call("web_fetch", url=url, format="raw", max_length=100_000)
    assert outcome.text == ARTICLE


async def test_raw_format_decodes_the_declared_charset(connect, web_settings, site: Site) -> None:
    latin = {"content-type": "text/plain; charset=ISO-8859-1"}
    url = site.route("/latin", Reply(200, "Ærøskøbing, façade".encode("iso-8859-1"), latin))
    async with connect(web_settings()) as session:
        assert (await session.call("web_fetch", url=url, format="raw")).text == "Ærøskøbing, façade"


async def test_json_format_pretty_prints_json(connect, web_settings, site: Site) -> None:
    url = site.route("/api", Reply(200, '{"items":[1,2],"name":"Zoë"}', {"content-type": "application/json"}))
    async with connect(web_settings()) as session:
        outcome = await session.call("web_fetch", url=url, format="json")
    assert outcome.text == json.dumps({"items": [1, 2], "name": "Zoë"}, indent=2, ensure_ascii=False)
    assert site.seen[-1].headers["accept"].startswith("application/json")


async def test_json_format_on_a_page_that_is_not_json_is_a_validation_error(connect, web_settings, site: Site) -> None:
    url = site.route("/notes", Reply(200, ARTICLE, HTML))
    async with connect(web_settings()) as session:
        error = await session.error("web_fetch", "VALIDATION_ERROR", url=url, format="json")
    assert "did not return JSON" in error["error"]
    assert any("format 'markdown'" in step for step in error["recovery_steps"])


async def test_json_in_markdown_format_comes_back_readable(connect, web_settings, site: Site) -> None:
    url = site.route("/api", Reply(200, '{"a":{"b":1}}', {"content-type": "application/json"}))
    async with connect(web_settings()) as session:
        assert (await session.call("web_fetch", url=url)).text == '{\n  "a": {\n    "b": 1\n  }\n}'


async def test_binary_content_is_refused_with_advice(connect, web_settings, site: Site) -> None:
    url = site.route("/logo.png", Reply(200, b"\x89PNG\r\n\x1a\n\0\0\0", {"content-type": "image/png"}))
    async with connect(web_settings()) as session:
        error = await session.error("web_fetch", "VALIDATION_ERROR", url=url)
    assert "image/png" in error["error"]


async def test_long_content_is_read_page_by_page(connect, web_settings, site: Site) -> None:
    lines = [f"line {n:05d} " + "lorem ipsum dolor sit amet " * 3 for n in range(400)]
    document = "\n".join(lines)
    url = site.route("/long.txt", Reply(200, document))
    pages: list[str] = []
    async with connect(web_settings()) as session:
        start: int | None = 0
        while start is not None:
            outcome = await session.call("web_fetch", url=url, max_length=5000, start_index=start)
            data = outcome.data
            assert data["start_index"] == start and data["total_length"] == len(document)
            if data["next_start_index"] is not None:
                assert data["truncated"] is True
                assert outcome.text.endswith(f"start_index={data['next_start_index']}.]")
                assert "call web_fetch again" in outcome.text
            else:
                assert data["truncated"] is False
            assert data["next_start_index"] is None or start < data["next_start_index"] <= start + 5000
            pages.append(document[start : data["next_start_index"] or len(document)])
            start = data["next_start_index"]
    assert "".join(pages) == document
    assert len(pages) >= 4
    assert all(page.endswith("\n") for page in pages[:-1])  # pages end at line ends when one is near


async def test_a_start_index_past_the_end_is_a_validation_error(connect, web_settings, site: Site) -> None:
    url = site.route("/short.txt", Reply(200, "short"))
    async with connect(web_settings()) as session:
        error = await session.error("web_fetch", "VALIDATION_ERROR", url=url, start_index=5)
    assert error["details"]["total_length"] == 5


@pytest.mark.parametrize(
    "arguments",
    [
        {},
        {"url": ""},
        {"url": "https://example.com/" + "a" * 9000},
        {"url": "https://example.com/", "format": "pdf"},
        {"url": "https://example.com/", "max_length": 0},
        {"url": "https://example.com/", "max_length": 100_001},
        {"url": "https://example.com/", "start_index": -1},
        {"url": "https://example.com/", "operation": "fetch"},
        {"url": ["https://example.com/"]},
    ],
)
async def test_bad_arguments_are_validation_errors_with_recovery_steps(connect, web_settings, arguments) -> None:
    async with connect(web_settings()) as session:
        error = await session.error("web_fetch", "VALIDATION_ERROR", **arguments)
    assert error["recovery_steps"] and error["details"]["problems"]
    assert error["correlation_id"]


async def test_redirects_are_followed_and_the_final_url_reported(connect, web_settings, site: Site) -> None:
    site.route("/old", Reply(301, "", {"location": "/middle"}))
    site.route("/middle", Reply(302, "", {"location": site.url("/new")}))
    final = site.route("/new", Reply(200, "moved here"))
    async with connect(web_settings()) as session:
        outcome = await session.call("web_fetch", url=site.url("/old"))
    assert outcome.data["final_url"] == final and outcome.data["status"] == 200
    assert outcome.text == f"[Redirected to {final}]\n\nmoved here"


async def test_a_redirect_loop_is_refused_and_not_retryable(connect, web_settings, site: Site) -> None:
    site.route("/a", Reply(302, "", {"location": "/b"}))
    site.route("/b", Reply(302, "", {"location": "/a"}))
    async with connect(web_settings()) as session:
        error = await session.error("web_fetch", "UPSTREAM_ERROR", url=site.url("/a"))
    assert "redirect loop" in error["error"] and error["retryable"] is False
    assert site.pages_seen == ["/a", "/b"]


async def test_too_many_redirects_are_refused(connect, web_settings, site: Site) -> None:
    for n in range(10):
        site.route(f"/r{n}", Reply(307, "", {"location": f"/r{n + 1}"}))
    async with connect(web_settings(max_redirects=3)) as session:
        error = await session.error("web_fetch", "UPSTREAM_ERROR", url=site.url("/r0"))
    assert "more than 3" in error["error"]
    assert site.pages_seen == ["/r0", "/r1", "/r2", "/r3"]


@pytest.mark.parametrize(
    ("status", "code", "retryable"),
    [
        (404, "NOT_FOUND", False),
        (410, "NOT_FOUND", False),
        (401, "PERMISSION_DENIED", False),
        (403, "PERMISSION_DENIED", False),
        (400, "UPSTREAM_ERROR", False),
        (418, "UPSTREAM_ERROR", False),
        (500, "UPSTREAM_ERROR", True),
        (502, "UPSTREAM_ERROR", True),
        (503, "UPSTREAM_ERROR", True),
        (429, "UPSTREAM_ERROR", True),
    ],
)
async def test_upstream_statuses_map_to_error_codes(
    connect, web_settings, *, site: Site, status, code, retryable
) -> None:
    url = site.route("/page", Reply(status, "nope"))
    async with connect(web_settings()) as session:
        error = await session.error("web_fetch", code, url=url)
    assert error["retryable"] is retryable
    assert error["details"]["status"] == status and str(status) in error["error"]
    assert error["recovery_steps"]


async def test_retry_after_on_429_tells_the_model_how_long_to_wait(connect, web_settings, site: Site) -> None:
    url = site.route("/busy", Reply(429, "slow down", {"retry-after": "7"}))
    async with connect(web_settings()) as session:
        error = await session.error("web_fetch", "UPSTREAM_ERROR", url=url)
    assert error["retryable"] is True and error["details"]["retry_after_s"] == 7
    assert error["recovery_steps"] == ["Wait 7 seconds (the site's Retry-After), then call again."]


async def test_retry_after_as_a_date_on_503(connect, web_settings, site: Site) -> None:
    url = site.route("/down", Reply(503, "maintenance", {"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}))
    async with connect(web_settings()) as session:
        error = await session.error("web_fetch", "UPSTREAM_ERROR", url=url)
    assert error["details"]["retry_after_s"] == 0  # a date in the past: retry now


async def test_a_slow_site_times_out_retryably(connect, web_settings, site: Site) -> None:
    answered = threading.Event()
    url = site.route("/slow", Reply(200, "too late", wait=answered))
    try:
        async with connect(web_settings(timeout_s=0.5)) as session:
            error = await session.error("web_fetch", "TIMEOUT", url=url)
    finally:
        answered.set()
    assert error["retryable"] is True and error["details"]["timeout_s"] == 0.5


async def test_a_body_that_stalls_midway_times_out(connect, web_settings, site: Site) -> None:
    resume = threading.Event()

    def trickle():
        yield b"first part, "
        resume.wait(30)
        yield b"never read"

    url = site.route("/stall", Reply(200, trickle()))
    try:
        async with connect(web_settings(timeout_s=0.5)) as session:
            await session.error("web_fetch", "TIMEOUT", url=url)
    finally:
        resume.set()


async def test_a_refused_connection_is_a_retryable_upstream_error(connect, web_settings, site: Site) -> None:
    url = site.url("/")
    site.stop()
    async with connect(web_settings(ignore_robots=True)) as session:
        error = await session.error("web_fetch", "UPSTREAM_ERROR", url=url)
    assert error["retryable"] is True


async def test_a_huge_body_is_cut_at_the_cap_and_says_so(connect, web_settings, site: Site) -> None:
    chunk = b"word " * 2000  # 10 kB

    def endless():
        for _ in range(10_000):  # 100 MB if anyone read it all
            yield chunk

    url = site.route("/huge.txt", Reply(200, endless()))
    async with connect(web_settings(max_bytes=50_000)) as session:
        outcome = await session.call("web_fetch", url=url, format="raw", max_length=100_000)
    assert outcome.data["truncated"] is True and outcome.data["next_start_index"] is None
    assert outcome.data["total_length"] == 50_000
    assert "download cap of 50,000 bytes" in outcome.text


async def test_a_gzip_bomb_is_cut_at_the_cap(connect, web_settings, site: Site) -> None:
    bomb = gzip.compress(b"boom " * 4_000_000)  # 20 MB of text in about 20 kB
    url = site.route("/bomb.txt", Reply(200, bomb, {"content-encoding": "gzip"}))
    async with connect(web_settings(max_bytes=100_000)) as session:
        outcome = await session.call("web_fetch", url=url, format="raw", max_length=100_000)
    assert outcome.data["truncated"] is True
    assert outcome.data["total_length"] == 100_000


async def test_a_gzip_bomb_asked_for_as_json_is_too_large(connect, web_settings, site: Site) -> None:
    bomb = gzip.compress(b"[" + b"0," * 10_000_000 + b"0]")
    url = site.route("/bomb.json", Reply(200, bomb, {"content-encoding": "gzip", "content-type": "application/json"}))
    async with connect(web_settings(max_bytes=100_000)) as session:
        error = await session.error("web_fetch", "TOO_LARGE", url=url, format="json")
    assert error["details"]["max_bytes"] == 100_000


async def test_gzip_bodies_are_decoded(connect, web_settings, site: Site) -> None:
    url = site.route("/zipped.txt", Reply(200, gzip.compress(b"compressed words"), {"content-encoding": "gzip"}))
    async with connect(web_settings()) as session:
        assert (await session.call("web_fetch", url=url)).text == "compressed words"
    assert site.seen[-1].headers["accept-encoding"] == "gzip, deflate"


async def test_requests_carry_the_configured_user_agent_and_no_cookies(connect, web_settings, site: Site) -> None:
    site.route("/login", Reply(200, "welcome", {"set-cookie": "session=secret; Path=/"}))
    url = site.route("/next", Reply(200, "next page"))
    async with connect(web_settings(user_agent="research-bot/1.0 (+https://example.com/bot)")) as session:
        await session.ok("web_fetch", url=site.url("/login"))
        await session.ok("web_fetch", url=url)
    assert site.seen[-1].headers["user-agent"] == "research-bot/1.0 (+https://example.com/bot)"
    assert "cookie" not in site.seen[-1].headers


async def test_a_host_that_does_not_exist_is_not_found(connect, web_settings) -> None:
    async with connect(web_settings()) as session:
        error = await session.error("web_fetch", "NOT_FOUND", url="http://no-such-host.invalid/")
    assert "does not exist" in error["error"]

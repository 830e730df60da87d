"""Responses are cached as HTTP says: the site's request counter shows what was served from memory."""

from __future__ import annotations

import pytest

from tests.support.loopback_site import Reply, Seen, Site

pytestmark = pytest.mark.anyio


async def test_a_fresh_response_is_served_without_a_request(connect, web_settings, site: Site) -> None:
    url = site.route("/fresh", Reply(200, "cached words", {"cache-control": "max-age=600"}))
    async with connect(web_settings()) as session:
        first = await session.call("web_fetch", url=url)
        second = await session.call("web_fetch", url=url)
    assert first.data["from_cache"] is False and second.data["from_cache"] is True
    assert first.text == second.text == "cached words"
    assert site.hits("/fresh") == 1


async def test_every_page_of_a_cached_document_comes_from_memory(connect, web_settings, site: Site) -> None:
    url = site.route("/long", Reply(200, "word " * 5000, {"cache-control": "max-age=600"}))
    async with connect(web_settings()) as session:
        start, pages = 0, 0
        while start is not None:
            data = await session.ok("web_fetch", url=url, max_length=5000, start_index=start)
            start, pages = data["next_start_index"], pages + 1
    assert pages == 5 and site.hits("/long") == 1


async def test_an_etag_is_revalidated_with_a_304(connect, web_settings, site: Site) -> None:
    def versioned(seen: Seen) -> Reply:
        headers = {"etag": '"v1"', "cache-control": "no-cache"}
        if seen.headers.get("if-none-match") == '"v1"':
            return Reply(304, b"", headers)
        return Reply(200, "version one", headers)

    url = site.route("/etag", versioned)
    async with connect(web_settings()) as session:
        first = await session.call("web_fetch", url=url)
        second = await session.call("web_fetch", url=url)
    assert [seen.headers.get("if-none-match") for seen in site.seen if seen.path == "/etag"] == [None, '"v1"']
    assert second.text == first.text == "version one"
    assert second.data["from_cache"] is True and second.data["status"] == 200


async def test_last_modified_is_revalidated_too(connect, web_settings, site: Site) -> None:
    stamp = "Tue, 01 Sep 2026 10:00:00 GMT"

    def dated(seen: Seen) -> Reply:
        headers = {"last-modified": stamp, "cache-control": "max-age=0"}
        if seen.headers.get("if-modified-since") == stamp:
            return Reply(304, b"", headers)
        return Reply(200, "dated text", headers)

    url = site.route("/dated", dated)
    async with connect(web_settings()) as session:
        await session.ok("web_fetch", url=url)
        assert (await session.ok("web_fetch", url=url))["from_cache"] is True
    assert site.hits("/dated") == 2


async def test_a_changed_page_replaces_the_cached_one(connect, web_settings, site: Site) -> None:
    versions = iter(["first", "second"])

    def changing(seen: Seen) -> Reply:
        version = next(versions)
        return Reply(200, version, {"etag": f'"{version}"', "cache-control": "no-cache"})

    url = site.route("/changing", changing)
    async with connect(web_settings()) as session:
        assert (await session.call("web_fetch", url=url)).text == "first"
        second = await session.call("web_fetch", url=url)
    assert second.text == "second" and second.data["from_cache"] is False


@pytest.mark.parametrize("cache_control", ["no-store", "private, max-age=600", "max-age=600, no-store"])
async def test_responses_that_forbid_storing_are_fetched_every_time(connect, web_settings, site, cache_control) -> None:
    url = site.route("/never", Reply(200, "fresh every time", {"cache-control": cache_control}))
    async with connect(web_settings()) as session:
        await session.ok("web_fetch", url=url)
        assert (await session.ok("web_fetch", url=url))["from_cache"] is False
    assert site.hits("/never") == 2


@pytest.mark.parametrize("off", [{"cache_max_age_s": 0}, {"cache_max_entries": 0}, {"cache_max_bytes": 0}])
async def test_the_cache_can_be_turned_off(connect, web_settings, site: Site, off) -> None:
    url = site.route("/fresh", Reply(200, "words", {"cache-control": "max-age=600"}))
    async with connect(web_settings(**off)) as session:
        await session.ok("web_fetch", url=url)
        assert (await session.ok("web_fetch", url=url))["from_cache"] is False
    assert site.hits("/fresh") == 2


async def test_a_truncated_body_is_never_cached_as_complete(connect, web_settings, site: Site) -> None:
    url = site.route("/big", Reply(200, "x" * 5000, {"cache-control": "max-age=600"}))
    async with connect(web_settings(max_bytes=1000)) as session:
        first = await session.ok("web_fetch", url=url)
        second = await session.ok("web_fetch", url=url)
    assert first["truncated"] is True and second["truncated"] is True
    assert second["from_cache"] is False
    assert site.hits("/big") == 2


async def test_errors_are_not_served_from_the_cache(connect, web_settings, site: Site) -> None:
    url = site.route("/flaky", Reply(500, "down", {"cache-control": "max-age=600"}))
    async with connect(web_settings()) as session:
        await session.error("web_fetch", "UPSTREAM_ERROR", url=url)
        site.route("/flaky", Reply(200, "back up"))
        assert (await session.call("web_fetch", url=url)).text == "back up"


async def test_a_long_unmodified_page_without_a_lifetime_is_fresh_for_a_while(connect, web_settings, site) -> None:
    """Heuristic freshness (RFC 9111 4.2.2): a tenth of the time since Last-Modified."""
    url = site.route("/old-page", Reply(200, "stable", {"last-modified": "Mon, 01 Jan 2024 00:00:00 GMT"}))
    async with connect(web_settings()) as session:
        await session.ok("web_fetch", url=url)
        assert (await session.ok("web_fetch", url=url))["from_cache"] is True
    assert site.hits("/old-page") == 1


async def test_a_page_without_any_caching_headers_is_fetched_every_time(connect, web_settings, site) -> None:
    url = site.route("/plain", Reply(200, "plain"))
    async with connect(web_settings()) as session:
        await session.ok("web_fetch", url=url)
        assert (await session.ok("web_fetch", url=url))["from_cache"] is False
    assert site.hits("/plain") == 2

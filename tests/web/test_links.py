"""Links in markdown are resolved the way a browser resolves them: against the page's final URL
(after redirects) and its ``<base href>``, not against the site's root."""

from __future__ import annotations

import pytest

from tests.support.loopback_site import Reply, Site

pytestmark = pytest.mark.anyio

HTML = {"content-type": "text/html; charset=utf-8"}
PAGE = """<!doctype html>
<html><head><title>Guide</title>{base}</head>
<body><article><h1>Guide</h1>
<p>First read <a href="configure.html">the configuration page</a>, then go back to
<a href="../index.html">the index</a>; see also <a href="#troubleshooting">troubleshooting</a>,
<a href="./sub/deeper.html">a deeper page</a>, <a href="?page=2">page two</a>,
<a href="/root.html">a root page</a> and <a href="https://other.example/y">another site</a>.
This paragraph is long enough to count as the main content of the page.</p>
<h2 id="troubleshooting">Troubleshooting</h2>
<p>More text here, so that the article is clearly the main content and is kept whole.</p>
</article></body></html>"""


def _links(text: str) -> dict[str, str]:
    import re

    return dict(re.findall(r"\[([^\]]+)\]\(([^)\s]+)\)", text))


def _expected(site: Site, directory: str, page: str) -> dict[str, str]:
    return {
        "the configuration page": site.url(f"{directory}configure.html"),
        "the index": site.url(f"{directory.rsplit('/', 2)[0]}/index.html"),
        "troubleshooting": site.url(f"{page}#troubleshooting"),
        "a deeper page": site.url(f"{directory}sub/deeper.html"),
        "page two": site.url(f"{page}?page=2"),
        "a root page": site.url("/root.html"),
        "another site": "https://other.example/y",
    }


class TestRelativeLinksResolveAgainstThePage:
    async def test_against_the_page_url(self, connect, web_settings, site: Site) -> None:
        url = site.route("/docs/guide/page.html", Reply(200, PAGE.format(base=""), HTML))
        async with connect(web_settings()) as session:
            outcome = await session.call("web_fetch", url=url)
        assert not outcome.is_error, outcome.text
        assert _links(outcome.text) == _expected(site, "/docs/guide/", "/docs/guide/page.html")

    async def test_against_the_final_url_after_a_redirect(self, connect, web_settings, site: Site) -> None:
        site.route("/docs/guide/page.html", Reply(200, PAGE.format(base=""), HTML))
        url = site.route("/old/place", Reply(301, "", {"location": "/docs/guide/page.html"}))
        async with connect(web_settings()) as session:
            outcome = await session.call("web_fetch", url=url)
        assert not outcome.is_error, outcome.text
        assert _links(outcome.text) == _expected(site, "/docs/guide/", "/docs/guide/page.html")

    @pytest.mark.parametrize(
        ("base", "directory"),
        [("{root}/v2/manual/", "/v2/manual/"), ("/v3/manual/", "/v3/manual/"), ("../../api/", "/api/")],
    )
    async def test_against_a_base_href(self, connect, web_settings, site: Site, base: str, directory: str) -> None:
        page = PAGE.format(base=f'<base href="{base.format(root=site.url("/").rstrip("/"))}">')
        url = site.route("/docs/guide/page.html", Reply(200, page, HTML))
        async with connect(web_settings()) as session:
            outcome = await session.call("web_fetch", url=url)
        assert not outcome.is_error, outcome.text
        expected = _expected(site, directory, directory)
        assert _links(outcome.text) == expected


SMALL_PAGE = """<!doctype html>
<html><head><title>Release notes</title></head><body>
<nav><a href="/">Home</a> | <a href="/docs">Docs</a> | <a href="/blog">Blog</a></nav>
<main><h1>Release 1.2</h1>
<p>Version 1.2 adds <b>faster search</b> and <a href="cache.html">better caching</a>, and <em>fixes</em> two bugs.</p>
</main><footer>Copyright 2026 Example Inc.</footer></body></html>"""


class TestSmallPages:
    """A page whose main content is short keeps its sentences whole and leaves out the navigation."""

    @pytest.mark.parametrize("fmt", ["markdown", "text"])
    async def test_sentences_do_not_break_at_inline_tags(self, connect, web_settings, site: Site, fmt: str) -> None:
        url = site.route("/docs/notes.html", Reply(200, SMALL_PAGE, HTML))
        async with connect(web_settings()) as session:
            outcome = await session.call("web_fetch", url=url, format=fmt)
        assert not outcome.is_error, outcome.text
        text = outcome.data.get("content", outcome.text)
        if fmt == "markdown":
            expected = f"Version 1.2 adds **faster search** and [better caching]({site.url('/docs/cache.html')}), and"
        else:
            expected = "Version 1.2 adds faster search and better caching, and fixes two bugs."
        assert expected in text, text
        assert "Home" not in text and "Blog" not in text and "Copyright" not in text, text

"""Provider XML is parsed without expanding entities: bombs are refused before they grow."""

from __future__ import annotations

import pytest

from mcp_workbench.research.errors import SourceProblem
from mcp_workbench.research.sources.feeds import parse_feed
from mcp_workbench.research.xmlsafe import parse_xml
from tests.research.fakes import BILLION_LAUGHS

QUADRATIC = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "' + b"A" * 50_000 + b'">]><r>' + b"&a;" * 50_000 + b"</r>"
EXTERNAL = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>'


@pytest.mark.parametrize("body", [BILLION_LAUGHS, QUADRATIC, EXTERNAL], ids=["billion-laughs", "quadratic", "external"])
def test_entity_declarations_are_refused_unexpanded(body: bytes) -> None:
    with pytest.raises(SourceProblem, match="entity declarations") as caught:
        parse_xml(body, origin="a feed")
    assert caught.value.status == "failed"


def test_malformed_xml_is_a_failure_that_says_where() -> None:
    with pytest.raises(SourceProblem, match=r"malformed XML \(.*line 1"):
        parse_xml(b"<rss><channel><item></rss>", origin="a feed")


def test_an_rss_091_feed_with_its_doctype_is_read() -> None:
    body = b"""<?xml version="1.0"?>
<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "http://my.netscape.com/publish/formats/rss-0.91.dtd">
<rss version="0.91"><channel><title>Old</title>
<item><title>Gopher is back</title><link>https://old.example/gopher</link>
<description>A look at Gopher.</description></item>
</channel></rss>"""
    (item,) = parse_feed(body, origin="old")
    assert item.title == "Gopher is back" and item.url == "https://old.example/gopher"


def test_rss_1_and_atom_entries_are_read_with_their_dates_and_authors() -> None:
    rdf = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
 xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="https://r.example/"><title>R</title></channel>
<item rdf:about="https://r.example/1"><title>First &amp; best</title><link>https://r.example/1</link>
<description>&lt;p&gt;Text&lt;/p&gt;</description><dc:date>2024-03-01T10:00:00Z</dc:date><dc:creator>Ann</dc:creator></item>
</rdf:RDF>"""
    (item,) = parse_feed(rdf, origin="rdf")
    assert (item.title, item.excerpt, item.published, item.authors) == ("First & best", "Text", "2024-03-01", ["Ann"])
    atom = b"""<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>T</title>
<link rel="self" href="https://a.example/self"/><link href="https://a.example/post"/>
<updated>2023-05-06T00:00:00Z</updated><author><name>Bo</name></author>
<content type="html">&lt;b&gt;C&lt;/b&gt;</content></entry></feed>"""
    (entry,) = parse_feed(atom, origin="atom")
    assert (entry.url, entry.excerpt, entry.published, entry.authors) == (
        "https://a.example/post",
        "C",
        "2023-05-06",
        ["Bo"],
    )


def test_a_document_that_is_no_feed_is_refused() -> None:
    with pytest.raises(SourceProblem, match="not an RSS or Atom feed"):
        parse_feed(b"<html><body>hi</body></html>", origin="page")

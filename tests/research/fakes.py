"""Loopback stand-ins for the research providers, speaking each one's real wire format.

Each :class:`Provider` is a real threaded HTTP server on 127.0.0.1 with its own port (so the
etiquette sees one host per provider, as in production), serving the provider's own paths from
documents of the test corpus: Atom for arXiv, Crossref's ``work-list`` JSON, MediaWiki
``query.search`` JSON, Algolia's ``hits`` JSON, GDELT's ``articles`` JSON, RSS 2.0 and Atom
feeds, and the opt-in providers' formats. The shapes follow the providers' documentation and
published example responses.

Each server searches its documents the way its provider roughly does (an independent little
BM25 with its own stemmer, not our ranking code): arXiv, Crossref, Semantic Scholar, OpenAlex,
PubMed and SearXNG rank any-word matches; Wikipedia, Hacker News and GDELT require every word.
Every request is logged with the server's own arrival and finish times, and failures can be
injected per provider.
"""

from __future__ import annotations

import contextlib
import html
import http.server
import json
import math
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

from mcp_workbench.research.settings import ResearchSettings

CORPUS = Path(__file__).parent / "corpus"
HANG_LIMIT_S = 30.0

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>&lol9;</title></entry></feed>"""


@dataclass(frozen=True)
class Doc:
    id: str
    provider: str
    title: str
    text: str
    authors: tuple[str, ...] = ()
    date: str = "2024-01-15"
    doi: str | None = None
    url: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


def load_documents() -> list[Doc]:
    docs = []
    for path in sorted((CORPUS / "documents").glob("*.json")):
        for raw in json.loads(path.read_text()):
            known = {k: raw[k] for k in ("id", "provider", "title", "text", "date", "doi", "url") if k in raw}
            docs.append(
                Doc(
                    authors=tuple(raw.get("authors", ())),
                    extra={k: v for k, v in raw.items() if k not in known and k != "authors"},
                    **known,
                )
            )
    return docs


def load_questions() -> list[dict[str, Any]]:
    return json.loads((CORPUS / "questions.json").read_text())


# -- a provider's own little search engine --------------------------------------------------------

_WORDS = re.compile(r"[a-z0-9]+")


def _stem(word: str) -> str:
    for suffix, replacement in (("ations", "ate"), ("ation", "ate"), ("ings", ""), ("ing", ""), ("ies", "y"),
                                ("es", ""), ("ed", ""), ("s", "")):  # fmt: skip
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + replacement
    return word


def _tokens(text: str) -> list[str]:
    return [_stem(w) for w in _WORDS.findall(text.lower())]


class MiniIndex:
    def __init__(self, docs: list[Doc], matched: Callable[[Doc], str]) -> None:
        self.docs = docs
        self.fields = [(_tokens(d.title), _tokens(matched(d))) for d in docs]
        count = len(docs) or 1
        frequency: dict[str, int] = {}
        for title, body in self.fields:
            for term in set(title) | set(body):
                frequency[term] = frequency.get(term, 0) + 1
        self.idf = {t: math.log(1 + (count - n + 0.5) / (n + 0.5)) for t, n in frequency.items()}
        self.average = sum(len(t) + len(b) for t, b in self.fields) / count

    def search(
        self, words: Iterable[str], *, every: bool, since: str | None = None, groups: Iterable[Iterable[str]] = ()
    ) -> list[Doc]:
        """``every``: each word is required; ``groups``: one word of each group is required too."""
        terms = [t for t in dict.fromkeys(_stem(w) for w in words) if t]
        alternatives = [{_stem(w) for w in group} for group in groups]
        terms += [t for group in alternatives for t in group if t not in terms]
        required = terms[: len(terms) - sum(len(g) for g in alternatives)] if every else []
        scored = []
        for doc, (title, body) in zip(self.docs, self.fields, strict=True):
            if since and doc.date < since:
                continue
            present = set(title) | set(body)
            if not terms or not all(t in present for t in required):
                continue
            if not all(group & present for group in alternatives):
                continue
            score = 0.0
            length = len(title) + len(body)
            for term in terms:
                tf = 2 * title.count(term) + body.count(term)
                if tf:
                    score += self.idf.get(term, 0) * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * length / self.average))
            if score > 0:
                scored.append((-score, doc.id, doc))
        scored.sort()
        return [doc for _, _, doc in scored]


# -- the servers --------------------------------------------------------------------------------


@dataclass
class Seen:
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    arrived: float
    finished: float = 0.0


@dataclass
class Reply:
    status: int = 200
    body: bytes | str | Iterable[bytes] = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Failure:
    """What a provider does instead of answering: ``kind`` is one of 500, 429, hang, malformed,
    bomb, oversized, text; ``times`` requests fail (None: all)."""

    kind: str
    retry_after: str = "1"
    times: int | None = None
    text: str = ""


class Provider:
    """One provider on its own loopback port."""

    content_type = "application/json"

    def __init__(self, name: str, docs: list[Doc], *, latency_s: float = 0.0) -> None:
        self.name = name
        self.docs = [d for d in docs if d.provider == name]
        self.index = MiniIndex(self.docs, self.matched_text)
        self.latency_s = latency_s
        self.seen: list[Seen] = []
        self.failure: Failure | None = None
        self.extra_headers: dict[str, str] = {}  # added to every answer (e.g. cache-control)
        self.release = threading.Event()
        self._lock = threading.Lock()
        self.in_flight = 0
        self.most_in_flight = 0
        provider = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                provider._serve(self)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)

    def start(self) -> Provider:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def matched_text(self, doc: Doc) -> str:
        return doc.text

    def _serve(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        seen = Seen(
            parts.path,
            {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()},
            {k.lower(): v for k, v in handler.headers.items()},
            time.monotonic(),
        )
        with self._lock:
            self.seen.append(seen)
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.latency_s:
                time.sleep(self.latency_s)
            reply = self._failing(seen)
            if reply is None:
                reply = self.answer(seen)
                reply.headers = {**reply.headers, **self.extra_headers}
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                _send(handler, reply, self.content_type)
        finally:
            with self._lock:
                self.in_flight -= 1
                seen.finished = time.monotonic()

    def _failing(self, seen: Seen) -> Reply | None:
        failure = self.failure
        if failure is None:
            return None
        if failure.times is not None:
            if failure.times <= 0:
                return None
            failure.times -= 1
        kind = failure.kind
        if kind == "500":
            return Reply(500, "Internal Server Error", {"content-type": "text/plain"})
        if kind == "429":
            return Reply(429, "Too Many Requests", {"retry-after": failure.retry_after, "content-type": "text/plain"})
        if kind == "hang":
            self.release.wait(HANG_LIMIT_S)
            return self.answer(seen)
        if kind == "malformed":
            return Reply(200, self.malformed(), {"content-type": self.content_type})
        if kind == "bomb":
            return Reply(200, BILLION_LAUGHS, {"content-type": "application/xml"})
        if kind == "oversized":
            return Reply(200, (b"x" * 65_536 for _ in range(64)), {"content-type": self.content_type})
        if kind == "text":
            return Reply(200, failure.text, {"content-type": "text/html; charset=utf-8"})
        raise AssertionError(f"unknown failure {kind}")

    def malformed(self) -> bytes:
        return b'{"unfinished": [1, 2'

    def answer(self, seen: Seen) -> Reply:
        raise NotImplementedError

    def requests(self, path: str | None = None) -> list[Seen]:
        return [s for s in self.seen if path is None or s.path == path]


def _send(handler: http.server.BaseHTTPRequestHandler, reply: Reply, default_type: str) -> None:
    body = reply.body.encode() if isinstance(reply.body, str) else reply.body
    handler.send_response(reply.status)
    headers = {k.lower(): v for k, v in reply.headers.items()}
    headers.setdefault("content-type", default_type)
    for key, value in headers.items():
        handler.send_header(key, value)
    if isinstance(body, bytes):
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
        return
    handler.send_header("Transfer-Encoding", "chunked")
    handler.end_headers()
    for chunk in body:
        handler.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
    handler.wfile.write(b"0\r\n\r\n")


def _json(data: Any) -> Reply:
    return Reply(200, json.dumps(data), {"content-type": "application/json; charset=utf-8"})


def _words_of(query: str) -> list[str]:
    return [w for w in re.findall(r"[A-Za-z0-9]+", query) if w.upper() not in ("AND", "OR", "ANDNOT")]


# -- arXiv ---------------------------------------------------------------------------------------


class ArxivProvider(Provider):
    content_type = "application/atom+xml; charset=utf-8"

    def answer(self, seen: Seen) -> Reply:
        if seen.path != "/api/query":
            return Reply(404, "not found", {"content-type": "text/plain"})
        query = seen.params.get("search_query", "")
        start = seen.params.get("start", "0")
        if not start.isdigit():
            return Reply(200, _arxiv_error("start must be an integer"), {"content-type": self.content_type})
        since = None
        window = re.search(r"submittedDate:\[(\d{8})\d* TO \d+\]", query)
        if window:
            since = f"{window.group(1)[:4]}-{window.group(1)[4:6]}-{window.group(1)[6:8]}"
            query = query[: window.start()]
        terms = re.findall(r"(?:all|ti|abs):(\"[^\"]+\"|[^\s()]+)", query)
        words = [w for t in terms for w in _words_of(t)]
        every = " AND " in query and " OR " not in query
        found = self.index.search(words, every=every, since=since)
        limit = int(seen.params.get("max_results", "10"))
        return Reply(200, _arxiv_feed(query, found[:limit], len(found)), {"content-type": self.content_type})

    def malformed(self) -> bytes:
        return b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><entry><title>cut'


def _wrap(text: str) -> str:
    """arXiv hard-wraps titles and abstracts."""
    words = text.split()
    return "\n  ".join(" ".join(words[i : i + 12]) for i in range(0, len(words), 12))


def _arxiv_feed(query: str, docs: list[Doc], total: int) -> str:
    entries = []
    for doc in docs:
        ident = doc.id.removeprefix("arxiv:")
        version = doc.extra.get("version", 1)
        authors = "".join(f"\n    <author>\n      <name>{escape(a)}</name>\n    </author>" for a in doc.authors)
        doi = f"\n    <arxiv:doi>{escape(doc.doi)}</arxiv:doi>" if doc.doi else ""
        category = doc.extra.get("category", "cs.LG")
        entries.append(
            f"""  <entry>
    <id>http://arxiv.org/abs/{ident}v{version}</id>
    <title>{escape(_wrap(doc.title))}</title>
    <updated>{doc.date}T12:00:00Z</updated>
    <link href="https://arxiv.org/abs/{ident}v{version}" rel="alternate" type="text/html"/>
    <link href="https://arxiv.org/pdf/{ident}v{version}" rel="related" type="application/pdf" title="pdf"/>
    <summary>{escape(_wrap(doc.text))}</summary>
    <category term="{category}" scheme="http://arxiv.org/schemas/atom"/>
    <published>{doc.date}T09:30:00Z</published>{doi}
    <arxiv:primary_category term="{category}"/>{authors}
  </entry>"""
        )
    body = "\n".join(entries)
    return f"""<?xml version='1.0' encoding='UTF-8'?>
<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" xmlns:arxiv="http://arxiv.org/schemas/atom" \
xmlns="http://www.w3.org/2005/Atom">
  <id>https://arxiv.org/api/zUwBFJ+vAUSpXAR7QFveSY/bZos</id>
  <title>arXiv Query: search_query={escape(query)}&amp;id_list=&amp;start=0&amp;max_results=10</title>
  <updated>2026-07-28T00:26:25Z</updated>
  <link href="https://arxiv.org/api/query?search_query={escape(query, {'"': "&quot;"})}" \
type="application/atom+xml"/>
  <opensearch:itemsPerPage>10</opensearch:itemsPerPage>
  <opensearch:totalResults>{total}</opensearch:totalResults>
  <opensearch:startIndex>0</opensearch:startIndex>
{body}
</feed>
"""


def _arxiv_error(message: str) -> str:
    return f"""<?xml version='1.0' encoding='UTF-8'?>
<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" xmlns:arxiv="http://arxiv.org/schemas/atom" \
xmlns="http://www.w3.org/2005/Atom">
  <id>http://arxiv.org/api/errors#incorrect_id_format_for_start</id>
  <title type="html">arXiv Search Results</title>
  <opensearch:totalResults>1</opensearch:totalResults>
  <entry>
    <id>http://arxiv.org/api/errors#incorrect_id_format_for_start</id>
    <title>Error</title>
    <summary>{escape(message)}</summary>
    <author><name>arXiv api core</name></author>
    <link href="http://arxiv.org/api/errors#incorrect_id_format_for_start" rel="alternate" type="text/html"/>
  </entry>
</feed>
"""


# -- Crossref ------------------------------------------------------------------------------------


class CrossrefProvider(Provider):
    def answer(self, seen: Seen) -> Reply:
        if seen.path != "/works":
            return Reply(404, "Resource not found.", {"content-type": "text/plain"})
        words = _words_of(seen.params.get("query.bibliographic", seen.params.get("query", "")))
        since = None
        for part in seen.params.get("filter", "").split(","):
            if part.startswith("from-pub-date:"):
                since = part.split(":", 1)[1]
        found = self.index.search(words, every=False, since=since)
        rows = int(seen.params.get("rows", "20"))
        items = [_crossref_item(doc, 60.0 - i) for i, doc in enumerate(found[:rows])]
        return _json(
            {
                "status": "ok",
                "message-type": "work-list",
                "message-version": "1.0.0",
                "message": {
                    "facets": {},
                    "total-results": len(found),
                    "items": items,
                    "items-per-page": rows,
                    "query": {"start-index": 0, "search-terms": seen.params.get("query.bibliographic")},
                },
            }
        )


def _crossref_item(doc: Doc, score: float) -> dict[str, Any]:
    year, month, day = (int(p) for p in doc.date.split("-"))
    authors = []
    for name in doc.authors:
        given, _, family = name.rpartition(" ")
        authors.append({"given": given, "family": family, "sequence": "first" if not authors else "additional",
                        "affiliation": []})  # fmt: skip
    item: dict[str, Any] = {
        "DOI": doc.doi or doc.id.removeprefix("doi:"),
        "type": doc.extra.get("type", "journal-article"),
        "title": [doc.title],
        "author": authors,
        "container-title": [doc.extra.get("venue", "Journal of Testing")],
        "published": {"date-parts": [[year, month, day]]},
        "issued": {"date-parts": [[year, month]]},
        "URL": f"https://doi.org/{doc.doi or doc.id.removeprefix('doi:')}",
        "score": score,
    }
    if doc.text and not doc.extra.get("no_abstract"):
        item["abstract"] = f"<jats:p>{escape(doc.text)}</jats:p>"
    return item


# -- Wikipedia -----------------------------------------------------------------------------------


class WikipediaProvider(Provider):
    def answer(self, seen: Seen) -> Reply:
        if seen.path != "/w/api.php":
            return Reply(404, "not found", {"content-type": "text/html"})
        params = seen.params
        if params.get("action") != "query" or params.get("list") != "search":
            return _json({"error": {"code": "badvalue", "info": 'Unrecognized value for parameter "list".'}})
        if not params.get("srsearch"):
            return _json({"error": {"code": "nosrsearch", "info": 'The "srsearch" parameter must be set.'}})
        words = _words_of(params["srsearch"])
        found = self.index.search(words, every=True)
        limit = int(params.get("srlimit", "10"))
        hits = [
            {
                "ns": 0,
                "title": doc.title,
                "pageid": 1000 + i,
                "size": len(doc.text) * 8,
                "wordcount": len(doc.text.split()) * 7,
                "snippet": _snippet(doc.text, words),
                "timestamp": f"{doc.date}T07:59:43Z",
            }
            for i, doc in enumerate(found[:limit])
        ]
        data: dict[str, Any] = {
            "batchcomplete": True,
            "query": {"searchinfo": {"totalhits": len(found)}, "search": hits},
        }
        if len(found) > limit:
            data["continue"] = {"sroffset": limit, "continue": "-||"}
        return _json(data)


def _snippet(text: str, words: list[str]) -> str:
    wanted = {_stem(w.lower()) for w in words}
    out = []
    for word in text.split()[:40]:
        bare = re.sub(r"\W", "", word.lower())
        escaped = html.escape(word)
        out.append(f'<span class="searchmatch">{escaped}</span>' if _stem(bare) in wanted else escaped)
    return " ".join(out)


# -- Hacker News (Algolia) -----------------------------------------------------------------------


class HackerNewsProvider(Provider):
    def matched_text(self, doc: Doc) -> str:
        return f"{doc.text} {doc.url or ''}"

    def answer(self, seen: Seen) -> Reply:
        if seen.path != "/api/v1/search":
            return Reply(404, '{"error":"Not Found"}')
        words = _words_of(seen.params.get("query", ""))
        since = None
        filters = seen.params.get("numericFilters", "")
        match = re.search(r"created_at_i>(\d+)", filters)
        if match:
            since = time.strftime("%Y-%m-%d", time.gmtime(int(match.group(1))))
        found = self.index.search(words, every=True, since=since)
        per_page = int(seen.params.get("hitsPerPage", "20"))
        hits = []
        for doc in found[:per_page]:
            story = doc.id.removeprefix("hn:")
            created = int(time.mktime(time.strptime(doc.date, "%Y-%m-%d")))
            text = doc.extra.get("story_text")
            hits.append(
                {
                    "_highlightResult": {
                        "title": {"matchLevel": "full", "matchedWords": words, "value": html.escape(doc.title)},
                        "author": {"matchLevel": "none", "matchedWords": [], "value": doc.authors[0]},
                    },
                    "_tags": ["story", f"author_{doc.authors[0]}", f"story_{story}"],
                    "author": doc.authors[0],
                    "children": [int(story) + 1, int(story) + 2],
                    "created_at": f"{doc.date}T14:12:01Z",
                    "created_at_i": created,
                    "num_comments": doc.extra.get("comments", 42),
                    "objectID": story,
                    "points": doc.extra.get("points", 120),
                    "story_id": int(story),
                    "story_text": text,
                    "title": doc.title,
                    "updated_at": f"{doc.date}T15:00:00Z",
                    "url": doc.url,
                }
            )
        return _json(
            {
                "exhaustive": {"nbHits": True, "typo": True},
                "exhaustiveNbHits": True,
                "hits": hits,
                "hitsPerPage": per_page,
                "nbHits": len(found),
                "nbPages": max(1, math.ceil(len(found) / per_page)),
                "page": 0,
                "params": f"query={seen.params.get('query', '')}",
                "processingTimeMS": 3,
                "query": seen.params.get("query", ""),
            }
        )


# -- GDELT ---------------------------------------------------------------------------------------


class GdeltProvider(Provider):
    def answer(self, seen: Seen) -> Reply:
        if seen.path != "/api/v2/doc/doc":
            return Reply(404, "not found", {"content-type": "text/html"})
        query = seen.params.get("query", "")
        if any(len(w) < 3 for w in _words_of(query)):
            return Reply(200, "Your search contained a keyword that was too short.", {"content-type": "text/html"})
        since = None
        start = seen.params.get("startdatetime")
        if start:
            since = f"{start[:4]}-{start[4:6]}-{start[6:8]}"
        groups = [_words_of(group) for group in re.findall(r"\(([^)]*)\)", query)]
        bare = re.sub(r"\([^)]*\)", " ", query)
        found = self.index.search(_words_of(bare), every=True, since=since, groups=groups)
        if not found:
            return _json({})
        limit = int(seen.params.get("maxrecords", "75"))
        articles = [
            {
                "url": doc.url,
                "url_mobile": "",
                "title": doc.title,
                "seendate": doc.date.replace("-", "") + "T103000Z",
                "socialimage": "",
                "domain": urlsplit(doc.url or "").hostname,
                "language": "English",
                "sourcecountry": doc.extra.get("country", "United States"),
            }
            for doc in found[:limit]
        ]
        return _json({"articles": articles})


# -- feeds ---------------------------------------------------------------------------------------


class FeedProvider(Provider):
    """Serves an RSS 2.0 feed at /rss.xml and an Atom feed at /atom.xml."""

    content_type = "application/rss+xml; charset=utf-8"

    def answer(self, seen: Seen) -> Reply:
        if seen.path == "/rss.xml":
            docs = [d for d in self.docs if d.extra.get("feed") == "rss"]
            return Reply(200, _rss(docs), {"content-type": "application/rss+xml; charset=utf-8"})
        if seen.path == "/atom.xml":
            docs = [d for d in self.docs if d.extra.get("feed") == "atom"]
            return Reply(200, _atom(docs), {"content-type": "application/atom+xml; charset=utf-8"})
        return Reply(404, "not found", {"content-type": "text/plain"})

    def malformed(self) -> bytes:
        return b"<rss version='2.0'><channel><item><title>broken</channel>"


def _rss(docs: list[Doc]) -> str:
    items = []
    for doc in docs:
        when = time.strftime("%a, %d %b %Y 08:00:00 GMT", time.strptime(doc.date, "%Y-%m-%d"))
        author = f"\n      <dc:creator>{escape(doc.authors[0])}</dc:creator>" if doc.authors else ""
        items.append(
            f"""    <item>
      <title>{escape(doc.title)}</title>
      <link>{escape(doc.url or "")}</link>
      <description>{escape("<p>" + doc.text + "</p>")}</description>
      <pubDate>{when}</pubDate>
      <guid isPermaLink="true">{escape(doc.url or "")}</guid>{author}
    </item>"""
        )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom">
  <channel>
    <title>Engineering notes</title>
    <link>https://blog.example.org/</link>
    <description>Posts from the engineering blog</description>
    <language>en-us</language>
{chr(10).join(items)}
  </channel>
</rss>
"""


def _atom(docs: list[Doc]) -> str:
    entries = []
    for doc in docs:
        author = f"<author><name>{escape(doc.authors[0])}</name></author>" if doc.authors else ""
        entries.append(
            f"""  <entry>
    <title type="html">{escape(doc.title)}</title>
    <link rel="alternate" type="text/html" href="{escape(doc.url or "")}"/>
    <id>tag:science.example.org,2024:{escape(doc.id)}</id>
    <published>{doc.date}T08:00:00Z</published>
    <updated>{doc.date}T09:00:00Z</updated>
    {author}
    <summary type="html">{escape("<p>" + doc.text + "</p>")}</summary>
  </entry>"""
        )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Science desk</title>
  <link href="https://science.example.org/"/>
  <updated>2026-01-01T00:00:00Z</updated>
  <id>urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6</id>
{chr(10).join(entries)}
</feed>
"""


# -- the opt-in providers -------------------------------------------------------------------------


class SemanticScholarProvider(Provider):
    def answer(self, seen: Seen) -> Reply:
        if seen.path != "/graph/v1/paper/search":
            return Reply(404, '{"error":"Not found"}')
        found = self.index.search(_words_of(seen.params.get("query", "")), every=False)
        limit = int(seen.params.get("limit", "10"))
        data = [
            {
                "paperId": f"{abs(hash(doc.id)) % 10**12:040x}",
                "externalIds": {k: v for k, v in (("DOI", doc.doi), ("ArXiv", doc.extra.get("arxiv"))) if v},
                "url": f"https://www.semanticscholar.org/paper/{abs(hash(doc.id)) % 10**12:040x}",
                "title": doc.title,
                "abstract": doc.text,
                "year": int(doc.date[:4]),
                "publicationDate": doc.date,
                "authors": [{"authorId": str(i), "name": a} for i, a in enumerate(doc.authors)],
            }
            for doc in found[:limit]
        ]
        return _json({"total": len(found), "offset": 0, "next": limit, "data": data})


class PubMedProvider(Provider):
    content_type = "application/json"

    def answer(self, seen: Seen) -> Reply:
        if seen.path == "/entrez/eutils/esearch.fcgi":
            found = self.index.search(_words_of(seen.params.get("term", "")), every=False)
            ids = [doc.id.removeprefix("pmid:") for doc in found[: int(seen.params.get("retmax", "20"))]]
            return _json(
                {
                    "header": {"type": "esearch", "version": "0.3"},
                    "esearchresult": {
                        "count": str(len(found)),
                        "retmax": str(len(ids)),
                        "retstart": "0",
                        "idlist": ids,
                        "translationset": [],
                        "querytranslation": "",
                    },
                }
            )
        if seen.path == "/entrez/eutils/efetch.fcgi":
            wanted = seen.params.get("id", "").split(",")
            by_id = {doc.id.removeprefix("pmid:"): doc for doc in self.docs}
            articles = "\n".join(_pubmed_article(by_id[i]) for i in reversed(wanted) if i in by_id)
            body = f"""<?xml version="1.0" ?>
<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2025//EN" \
"https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">
<PubmedArticleSet>
{articles}
</PubmedArticleSet>"""
            return Reply(200, body, {"content-type": "text/xml; charset=UTF-8"})
        return Reply(404, "not found", {"content-type": "text/plain"})


def _pubmed_article(doc: Doc) -> str:
    pmid = doc.id.removeprefix("pmid:")
    year, month, _ = doc.date.split("-")
    month_name = time.strftime("%b", time.strptime(month, "%m"))
    authors = "".join(
        f'<Author ValidYN="Y"><LastName>{escape(a.split()[-1])}</LastName>'
        f"<ForeName>{escape(' '.join(a.split()[:-1]))}</ForeName></Author>"
        for a in doc.authors
    )
    doi = f'<ELocationID EIdType="doi" ValidYN="Y">{escape(doc.doi)}</ELocationID>' if doc.doi else ""
    return f"""<PubmedArticle>
  <MedlineCitation Status="MEDLINE" Owner="NLM">
    <PMID Version="1">{pmid}</PMID>
    <Article PubModel="Print-Electronic">
      <Journal><JournalIssue CitedMedium="Internet"><PubDate><Year>{year}</Year><Month>{month_name}</Month></PubDate>
      </JournalIssue><Title>Journal of Testing</Title></Journal>
      <ArticleTitle>{escape(doc.title)}.</ArticleTitle>
      {doi}
      <Abstract><AbstractText Label="BACKGROUND">{escape(doc.text)}</AbstractText></Abstract>
      <AuthorList CompleteYN="Y">{authors}</AuthorList>
    </Article>
  </MedlineCitation>
  <PubmedData><ArticleIdList><ArticleId IdType="pubmed">{pmid}</ArticleId></ArticleIdList></PubmedData>
</PubmedArticle>"""


class SearxngProvider(Provider):
    def answer(self, seen: Seen) -> Reply:
        if seen.path != "/search":
            return Reply(404, "not found", {"content-type": "text/html"})
        if seen.params.get("format") != "json":
            return Reply(403, "Forbidden", {"content-type": "text/html"})
        found = self.index.search(_words_of(seen.params.get("q", "")), every=False)
        results = [
            {
                "url": doc.url,
                "title": doc.title,
                "content": doc.text,
                "engine": "duckduckgo",
                "engines": ["duckduckgo", "brave"],
                "positions": [i + 1],
                "score": 4.0 / (i + 1),
                "category": "general",
                "publishedDate": f"{doc.date}T00:00:00",
            }
            for i, doc in enumerate(found[:20])
        ]
        return _json({"query": seen.params.get("q"), "number_of_results": len(found), "results": results,
                      "answers": [], "corrections": [], "infoboxes": [], "suggestions": [],
                      "unresponsive_engines": []})  # fmt: skip


class OpenAlexProvider(Provider):
    def answer(self, seen: Seen) -> Reply:
        if seen.path != "/works":
            return Reply(404, '{"error":"not found"}')
        if not seen.params.get("api_key"):
            return Reply(401, '{"error": "API key required"}')
        found = self.index.search(_words_of(seen.params.get("search", "")), every=False)
        per_page = int(seen.params.get("per-page", "25"))
        results = []
        for doc in found[:per_page]:
            inverted: dict[str, list[int]] = {}
            for position, word in enumerate(doc.text.split()):
                inverted.setdefault(word, []).append(position)
            results.append(
                {
                    "id": f"https://openalex.org/W{abs(hash(doc.id)) % 10**10}",
                    "doi": f"https://doi.org/{doc.doi}" if doc.doi else None,
                    "title": doc.title,
                    "display_name": doc.title,
                    "publication_date": doc.date,
                    "authorships": [{"author": {"display_name": a}} for a in doc.authors],
                    "abstract_inverted_index": inverted,
                    "primary_location": {"landing_page_url": doc.url or f"https://doi.org/{doc.doi}"},
                }
            )
        return _json({"meta": {"count": len(found), "page": 1, "per_page": per_page}, "results": results})


PROVIDERS: dict[str, type[Provider]] = {
    "arxiv": ArxivProvider,
    "crossref": CrossrefProvider,
    "wikipedia": WikipediaProvider,
    "hackernews": HackerNewsProvider,
    "gdelt": GdeltProvider,
    "feeds": FeedProvider,
    "semantic_scholar": SemanticScholarProvider,
    "pubmed": PubMedProvider,
    "searxng": SearxngProvider,
    "openalex": OpenAlexProvider,
}


CONTACT = "mailto:research-tests@example.org"
KEYLESS = ("wikipedia", "arxiv", "crossref", "hackernews", "gdelt", "feeds")


def settings_for(providers: dict[str, Provider], *, fast: bool = False, **overrides: Any) -> ResearchSettings:
    """Sources pointed at the fakes; ``fast`` drops the pacing (for tests about something else)."""
    sources: dict[str, dict[str, Any]] = {}
    for name, provider in providers.items():
        entry: dict[str, Any] = {} if name == "feeds" else {"base_url": provider.url}
        if fast:
            entry["min_interval_s"] = 0.0
        sources[name] = entry
    for name, entry in overrides.pop("sources", {}).items():
        sources[name] = {**sources.get(name, {}), **entry}
    feeds = [f"{providers['feeds'].url}/rss.xml", f"{providers['feeds'].url}/atom.xml"]
    values: dict[str, Any] = {"contact": CONTACT, "feeds": feeds, "sources": sources, "max_response_bytes": 300_000}
    values.update(overrides)
    return ResearchSettings(**values)

"""RSS 2.0, RSS 1.0 and Atom feeds named in ``[research] feeds``.

Feeds cannot be searched on the server, so each feed is read once per run (and cached by HTTP
semantics across runs) and its items are matched to each sub-question here: an item is kept
when it mentions at least one of the sub-question's core terms, best matches first. One feed
failing costs only its items; all of them failing is this source's failure.
"""

from __future__ import annotations

import datetime as dt
import email.utils
from dataclasses import replace
from typing import Any
from xml.etree.ElementTree import Element

import anyio

from mcp_workbench.research.errors import SourceProblem
from mcp_workbench.research.etiquette import HostRules
from mcp_workbench.research.models import Evidence, SubQuery
from mcp_workbench.research.settings import ResearchSettings
from mcp_workbench.research.sources.base import SearchContext, WebSource
from mcp_workbench.research.text import content_terms, squash, stem, strip_html
from mcp_workbench.research.xmlsafe import child, children, local, parse_xml, text_of

ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.1"


class Feeds(WebSource):
    name = "feeds"
    rules = HostRules(min_interval_s=0.0, max_concurrent=2)

    def unusable(self, settings: ResearchSettings) -> str | None:
        return None if settings.feeds else "no feeds are configured ([research] feeds)"

    async def search(self, query: SubQuery, ctx: SearchContext) -> list[Evidence]:
        read: list[list[Evidence]] = []
        problems: list[SourceProblem] = []

        async def one(url: str) -> None:
            try:
                read.append(await ctx.memo.once(f"feed:{url}", lambda: self._read(url, ctx)))
            except SourceProblem as exc:
                problems.append(exc)

        async with anyio.create_task_group() as group:
            for url in ctx.settings.feeds:
                group.start_soon(one, url)
        if problems and not read:
            first = problems[0]
            raise SourceProblem(first.status, f"every feed failed; the first: {first.message}")
        wanted = {stem(term) for term in query.core()}
        scored = []
        for position, item in enumerate(item for items in read for item in items):
            if ctx.since is not None and item.published and item.published < ctx.since.isoformat():
                continue
            overlap = len(wanted & content_terms(f"{item.title} {item.excerpt}"))
            if overlap:
                scored.append((-overlap, position, item))
        scored.sort(key=lambda entry: entry[:2])
        return [_copy(item, rank=rank, query=query.index) for rank, (_, _, item) in enumerate(scored[: ctx.limit])]

    async def _read(self, url: str, ctx: SearchContext) -> list[Evidence]:
        response = await ctx.get(url, accept=ACCEPT)
        return parse_feed(response.body, origin=url)


def parse_feed(body: bytes, *, origin: str) -> list[Evidence]:
    """The items of an RSS 2.0, RSS 1.0 (RDF) or Atom document."""
    root = parse_xml(body, origin=origin)
    kind = local(root.tag)
    if kind == "rss":
        channel = child(root, "channel")
        items = children(channel, "item") if channel is not None else []
        return [e for e in (_rss_item(item) for item in items) if e]
    if kind == "RDF":
        return [e for e in (_rss_item(item) for item in children(root, "item")) if e]
    if kind == "feed":
        return [e for e in (_atom_entry(entry) for entry in children(root, "entry")) if e]
    raise SourceProblem("failed", f"{origin} is not an RSS or Atom feed (its root is <{kind}>)")


def _rss_item(item: Element) -> Evidence | None:
    title = squash(strip_html(text_of(child(item, "title"))))
    link = text_of(child(item, "link"))
    guid = child(item, "guid")
    if not link and guid is not None and guid.get("isPermaLink", "true") == "true":
        link = text_of(guid)
    if not title or not link.startswith(("http://", "https://")):
        return None
    body = text_of(child(item, "description")) or text_of(child(item, "encoded"))
    author = text_of(child(item, "creator")) or text_of(child(item, "author"))
    return Evidence(
        source="feeds",
        title=title,
        excerpt=strip_html(body),
        url=link,
        published=_date(text_of(child(item, "pubDate")) or text_of(child(item, "date"))),
        authors=[author] if author else [],
        kind="feed",
    )


def _atom_entry(entry: Element) -> Evidence | None:
    title = squash(strip_html(text_of(child(entry, "title"))))
    links = children(entry, "link")
    link = next((x.get("href", "") for x in links if x.get("rel", "alternate") == "alternate"), "")
    if not title or not link.startswith(("http://", "https://")):
        return None
    body = text_of(child(entry, "summary")) or text_of(child(entry, "content"))
    authors = [squash(text_of(child(a, "name"))) for a in children(entry, "author")]
    return Evidence(
        source="feeds",
        title=title,
        excerpt=strip_html(body),
        url=link,
        published=_date(text_of(child(entry, "published")) or text_of(child(entry, "updated"))),
        authors=[a for a in authors if a],
        kind="feed",
    )


def _date(value: str) -> str | None:
    text = value.strip()
    if not text:
        return None
    parsed: Any = None
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    return parsed.date().isoformat() if parsed else None


def _copy(item: Evidence, *, rank: int, query: int) -> Evidence:
    return replace(item, rank=rank, query=query, authors=list(item.authors), also_at=list(item.also_at))

"""Folding the same work found several times into one piece of evidence.

Two items are the same work when they share a DOI, an arXiv id (versions ignored), a canonical
URL (any of their addresses), or a normalised title with the same first author's surname. Near
duplicates (titles that differ only slightly, e.g. a preprint and its published version) fold
too when their first authors agree, or when neither names one. The kept item is the one with the
most text; the others' addresses go to ``also_at`` and their sources to ``also_from``, and fields
it lacks (DOI, date, authors) are taken from them.
"""

from __future__ import annotations

from collections.abc import Iterable

from mcp_workbench.research.identity import arxiv_id, canonical_url, normalise_doi
from mcp_workbench.research.models import Evidence
from mcp_workbench.research.text import normalise_title, words

NEAR_TITLE = 0.85  # Jaccard similarity of title words for a near duplicate
MIN_TITLE_WORDS = 4  # shorter titles ("Introduction") are too common to identify anything


def _surname(authors: list[str]) -> str:
    if not authors:
        return ""
    name = authors[0].strip()
    if "," in name:  # "Vaswani, Ashish"
        name = name.split(",", 1)[0]
    parts = words(name)
    return parts[-1] if parts else ""


def _keys(item: Evidence) -> Iterable[str]:
    doi = normalise_doi(item.doi)
    if doi:
        yield f"doi:{doi}"
    identifier = item.arxiv_id or arxiv_id(item.url) or (arxiv_id(doi) if doi else None)
    if identifier:
        yield f"arxiv:{identifier}"
    for address in (item.url, *item.also_at):
        canonical = canonical_url(address)
        if canonical:
            yield f"url:{canonical}"
    if item.uri:
        yield f"uri:{item.uri}"
    title = normalise_title(item.title)
    if len(title.split()) >= MIN_TITLE_WORDS:
        yield f"title:{title}|{_surname(item.authors)}"


class _Groups:
    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, index: int) -> int:
        while self.parent[index] != index:
            self.parent[index] = self.parent[self.parent[index]]
            index = self.parent[index]
        return index

    def join(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def dedupe(items: list[Evidence]) -> list[Evidence]:
    """One piece of evidence per work, in the order each work was first found."""
    groups = _Groups(len(items))
    owner: dict[str, int] = {}
    for index, item in enumerate(items):
        for key in _keys(item):
            if key in owner:
                groups.join(owner[key], index)
            else:
                owner[key] = index
    _join_near_titles(items, groups)
    members: dict[int, list[int]] = {}
    for index in range(len(items)):
        members.setdefault(groups.find(index), []).append(index)
    return [_merge([items[i] for i in indexes]) for _, indexes in sorted(members.items())]


def _join_near_titles(items: list[Evidence], groups: _Groups) -> None:
    titled = []
    for index, item in enumerate(items):
        title_words = set(normalise_title(item.title).split())
        if len(title_words) >= MIN_TITLE_WORDS:
            titled.append((index, title_words, _surname(item.authors)))
    for position, (a, words_a, author_a) in enumerate(titled):
        for b, words_b, author_b in titled[position + 1 :]:
            if author_a and author_b and author_a != author_b:
                continue
            if bool(author_a) != bool(author_b) and items[a].source == items[b].source:
                continue
            overlap = len(words_a & words_b) / len(words_a | words_b)
            if overlap >= NEAR_TITLE:
                groups.join(a, b)


def _merge(group: list[Evidence]) -> Evidence:
    if len(group) == 1:
        return group[0]
    kept = max(group, key=lambda item: (len(item.text), -group.index(item)))
    addresses = [kept.address, *kept.also_at]
    for other in group:
        if other is kept:
            continue
        for address in (other.url, other.uri, *other.also_at):
            if address and address not in addresses and _new_url(address, addresses):
                addresses.append(address)
        if other.source != kept.source and other.source not in kept.also_from:
            kept.also_from.append(other.source)
        kept.also_from.extend(s for s in other.also_from if s not in kept.also_from and s != kept.source)
        kept.doi = kept.doi or other.doi
        kept.arxiv_id = kept.arxiv_id or other.arxiv_id
        kept.published = _earliest(kept.published, other.published)
        if len(other.authors) > len(kept.authors):
            kept.authors = list(other.authors)
        kept.hits.extend(other.hits)
    kept.also_at = [a for a in addresses[1:] if a]
    return kept


def _new_url(address: str, addresses: list[str | None]) -> bool:
    canonical = canonical_url(address)
    return canonical is None or canonical not in {canonical_url(a) for a in addresses if a}


def _earliest(a: str | None, b: str | None) -> str | None:
    if not a or not b:
        return a or b
    return min(a, b) if len(a) == len(b) else (a if len(a) >= len(b) else b)

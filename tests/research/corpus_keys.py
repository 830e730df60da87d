"""What a returned evidence item stands for in the corpus: its id and its folded duplicates' ids,
with URLs in canonical form, so recall counts an item found under another address."""

from __future__ import annotations

from mcp_workbench.research.models import EvidenceItem


def keys_of(item: EvidenceItem) -> set[str]:
    """Every corpus id an evidence item stands for (its own and its folded duplicates')."""
    from mcp_workbench.research.identity import arxiv_id, canonical_url

    keys = {item.id}
    if item.doi:
        keys.add(f"doi:{item.doi}")
    for address in (item.url, *item.also_at):
        if not address:
            continue
        keys.add(f"url:{address}")
        canonical = canonical_url(address)
        if canonical:
            keys.add(f"url:{canonical}")
        identifier = arxiv_id(address)
        if identifier:
            keys.add(f"arxiv:{identifier}")
        if "news.ycombinator.com/item?id=" in address:
            keys.add(f"hn:{address.rsplit('=', 1)[1]}")
        if "/wiki/" in address:
            from urllib.parse import unquote

            keys.add(f"wikipedia:{unquote(address.rsplit('/wiki/', 1)[1]).replace('_', ' ')}")
    return keys


def canonical_keys(keys: set[str]) -> set[str]:
    from mcp_workbench.research.identity import canonical_url

    out = set(keys)
    for key in keys:
        if key.startswith("url:"):
            canonical = canonical_url(key[4:])
            if canonical:
                out.add(f"url:{canonical}")
    return out

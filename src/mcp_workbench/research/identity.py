"""How two pieces of evidence are recognised as the same work: DOIs, arXiv ids, canonical URLs."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

_DOI = re.compile(r"10\.\d{4,9}/\S+", re.IGNORECASE)
_ARXIV_NEW = re.compile(r"(\d{4}\.\d{4,5})(?:v\d+)?")
_ARXIV_OLD = re.compile(r"([a-z-]+(?:\.[a-z]{2})?/\d{7})(?:v\d+)?", re.IGNORECASE)
_ARXIV_DOI = re.compile(r"^10\.48550/arxiv\.(.+)$", re.IGNORECASE)
_TRACKING = re.compile(r"^(utm_[a-z]+|fbclid|gclid|mc_cid|mc_eid|ref|ref_src|cmpid|ito|s_cid)$", re.IGNORECASE)


def normalise_doi(value: str | None) -> str | None:
    """``https://doi.org/10.1000/X.y`` or ``doi:10.1000/x.y`` -> ``10.1000/x.y`` (DOIs are case-blind)."""
    if not value:
        return None
    match = _DOI.search(unquote(value.strip()))
    if not match:
        return None
    return match.group(0).rstrip(".,;)]}>\"'").lower()


def arxiv_id(value: str | None) -> str | None:
    """The arXiv identifier without its version from an id (``2101.00001v2``, ``arXiv:hep-th/9901001``),
    an abs/pdf URL or an arXiv DOI (``10.48550/arXiv.2101.00001``)."""
    if not value:
        return None
    text = value.strip()
    doi = normalise_doi(text)
    if doi:
        match = _ARXIV_DOI.match(doi)
        if not match:
            return None
        text = match.group(1)
    elif "://" in text and "arxiv.org" not in text.lower():
        return None
    tail = re.sub(r"^.*?/(abs|pdf|html)/", "", text).removesuffix(".pdf")
    tail = re.sub(r"^arxiv:", "", tail, flags=re.IGNORECASE)
    match = _ARXIV_NEW.fullmatch(tail) or _ARXIV_OLD.fullmatch(tail)
    return match.group(1).lower() if match else None


def canonical_url(url: str | None) -> str | None:
    """A URL reduced for comparison: https, lower-case host without ``www.`` and default port,
    no fragment, no tracking parameters, sorted query, no trailing slash."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower().removeprefix("www.").removeprefix("m.")
    port = parts.port
    netloc = host if port in (None, 80, 443) else f"{host}:{port}"
    path = quote(unquote(parts.path), safe="/:@!$&'()*+,;=-._~") or "/"
    if path != "/":
        path = path.rstrip("/")
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    query = urlencode(sorted((key, value) for key, value in pairs if not _TRACKING.match(key)))
    return urlunsplit(("https", netloc, path, query, ""))

"""A fetched body → the text the model asked for, and that text → one page.

- ``markdown``: HTML is reduced to its main content (navigation, ads and footers dropped) and
  written as Markdown with links, lists, tables and code blocks, by trafilatura; other text
  is returned as it is (JSON pretty-printed).
- ``text``: the same main content as plain text.
- ``raw``: the body as received, decoded with its charset.
- ``json``: the body parsed as JSON and pretty-printed; anything else is refused.

Extracting the main content of HTML can take time far beyond the page's size (a hostile page
of one element with tens of thousands of attributes takes minutes), and lxml cannot be
interrupted: :func:`extract_job` therefore runs in a worker process the service kills at its
budget (:mod:`mcp_workbench.platform.isolation`), where trafilatura is imported once. The
other conversions are linear in a body already capped at ``max_bytes`` and run in a thread.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any, Literal

from mcp_workbench.platform.errors import InvalidInput
from mcp_workbench.web.decoding import ContentType, decode_text, is_text, looks_like_html

Format = Literal["markdown", "text", "raw", "json"]

ACCEPT: dict[str, str] = {
    "markdown": "text/html,application/xhtml+xml;q=0.9,text/plain;q=0.8,*/*;q=0.5",
    "text": "text/html,application/xhtml+xml;q=0.9,text/plain;q=0.8,*/*;q=0.5",
    "raw": "*/*",
    "json": "application/json,application/*+json;q=0.9,*/*;q=0.5",
}


def convert(body: bytes, content_type: ContentType, fmt: Format, *, url: str, truncated: bool) -> str:
    """The whole document in format ``fmt`` (CPU-bound: run it in a worker thread)."""
    if not is_text(content_type, body):
        declared = f" (declared {content_type.mime})" if content_type.mime else ""
        raise InvalidInput(
            f"{url} is binary data{declared}, not text; web_fetch reads HTML, text and JSON",
            recovery_steps=["Fetch an HTML, text or JSON page instead; images, PDFs and archives cannot be read here."],
            details={"url": url, "content_type": content_type.raw},
        )
    text = decode_text(body, content_type, truncated=truncated)
    if fmt == "raw":
        return text
    if fmt == "json":
        return pretty_json(text, content_type, url=url)
    if looks_like_html(content_type, body):
        return html_to(text, fmt, url=url)
    if content_type.is_json:
        try:
            return pretty_json(text, content_type, url=url)
        except InvalidInput:
            return text
    return text


@dataclass(frozen=True)
class ConvertJob:
    """One body to convert, as sent to an extraction worker."""

    body: bytes
    content_type: ContentType
    fmt: Format
    url: str
    truncated: bool

    def run(self) -> str:
        return convert(self.body, self.content_type, self.fmt, url=self.url, truncated=self.truncated)


def extracts_html(body: bytes, content_type: ContentType, fmt: Format) -> bool:
    """Whether converting ``body`` means main-content extraction, the work that needs a worker process."""
    return fmt in ("markdown", "text") and looks_like_html(content_type, body)


def extract_job(job: ConvertJob, _emit: object) -> str:
    """An extraction worker's work: the whole conversion of one body."""
    return job.run()


def pretty_json(text: str, content_type: ContentType, *, url: str) -> str:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        reason = "it is nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise InvalidInput(
            f"{url} did not return JSON ({content_type.mime or 'no content type'}): {reason}",
            recovery_steps=["Call web_fetch again with format 'markdown' or 'text' to read what the URL returns."],
            details={"url": url, "content_type": content_type.raw},
        ) from None
    try:
        return json.dumps(value, indent=2, ensure_ascii=False)
    except RecursionError:
        raise InvalidInput(
            f"{url} returned JSON nested too deeply to show",
            recovery_steps=["Call web_fetch again with format 'raw' to read it as it is."],
            details={"url": url},
        ) from None


def html_to(html: str, fmt: Format, *, url: str) -> str:
    """Main content of an HTML page as Markdown (``markdown``) or plain text (``text``)."""
    if not html.strip():
        return ""
    import trafilatura

    tree = _loaded(html, url)
    if tree is None:
        return ""
    title = " ".join((tree.findtext(".//title") or "").split())
    markdown = fmt == "markdown"
    options: dict[str, Any] = {
        "url": url,
        "output_format": "markdown" if markdown else "txt",
        "include_links": markdown,
        "include_tables": True,
        "include_images": False,
        "include_comments": False,
        "favor_recall": True,
        "deduplicate": False,
        "with_metadata": False,
    }
    # Without a minimum size: a small page's main content would otherwise be traded for the
    # extractor's fallback, all of the page's text, navigation included and cut at inline tags.
    extracted = trafilatura.extract(tree, config=_no_minimum_size(), **options)
    if not extracted:  # no main content at all (all navigation, say): the page's text, by blocks
        extracted = block_text(_loaded(html, url))  # a fresh tree: extraction prunes the one it is given
    extracted = extracted.strip()
    if title and not extracted.startswith(("# ", title)):
        extracted = f"# {title}\n\n{extracted}" if markdown else f"{title}\n\n{extracted}"
    return extracted


def _loaded(html: str, url: str) -> Any:
    """The page's element tree with every link absolute (None if it does not parse)."""
    import trafilatura

    tree = trafilatura.load_html(html)
    if tree is not None:
        absolute_links(tree, url)
    return tree


@functools.cache
def _no_minimum_size() -> Any:
    from trafilatura.settings import use_config

    config = use_config()
    config.set("DEFAULT", "MIN_EXTRACTED_SIZE", "1")
    return config


_BLOCKS = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "br",
        "dd",
        "div",
        "dl",
        "dt",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "td",
        "th",
        "tr",
        "ul",
    ]
)


def block_text(tree: Any) -> str:
    """The text of a page, a line per block element; inline elements (``b``, ``a``, ``em`` ...)
    stay inside their sentence. Scripts and styles are left out."""
    lines: list[str] = []
    current: list[str] = []

    def flush() -> None:
        text = " ".join("".join(current).split())
        if text:
            lines.append(text)
        current.clear()

    def walk(element: Any) -> None:
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag in ("script", "style", "noscript", "template"):
            if element.tail:
                current.append(element.tail)
            return
        block = tag in _BLOCKS
        if block:
            flush()
        if element.text:
            current.append(element.text)
        for child in element:
            walk(child)
        if block:
            flush()
        if element.tail:
            current.append(element.tail)

    body = tree.find(".//body")
    walk(body if body is not None else tree)
    flush()
    return "\n".join(lines)


def absolute_links(tree: Any, url: str) -> None:
    """Make every link of ``tree`` absolute, resolved against ``<base href>`` and the page's own URL.

    trafilatura resolves relative links against the site's root, not the page: on
    ``/docs/guide/page.html`` it would turn ``configure.html`` into ``/configure.html`` and drop the
    path of ``#section``. Links made absolute first are left as they are. A link that cannot be
    resolved (a malformed URL) is dropped rather than shown wrong.
    """
    from urllib.parse import urljoin, urlsplit

    base = url
    hrefs = tree.xpath("//base[@href]/@href")
    if hrefs:  # the first one counts, itself relative to the page (lxml would take the last, unresolved)
        try:
            candidate = urljoin(url, str(hrefs[0]).strip())
        except ValueError:
            candidate = url
        base = candidate if urlsplit(candidate).scheme in ("http", "https") else url
    for element in tree.xpath("//base"):  # applied here, so nothing downstream applies it again
        element.drop_tree()
    # Only <a href> reaches the output (images are left out), so only those are rewritten: lxml's
    # make_links_absolute also walks every src, srcset and style url() of the page, at several
    # times the cost on a large page.
    parts = urlsplit(base)
    origin = f"{parts.scheme}://{parts.netloc}"
    for anchor in tree.iter("a"):
        href = anchor.get("href")
        if href is None:
            continue
        href = href.strip()
        if href.startswith("/") and not href.startswith("//") and "/." not in href and "\\" not in href:
            anchor.set("href", origin + href)  # what urljoin gives a plain root-relative path, cheaply
            continue
        try:
            anchor.set("href", urljoin(base, href))
        except ValueError:  # a malformed URL: dropped rather than shown wrong
            del anchor.attrib["href"]


@dataclass(frozen=True)
class TextPage:
    """One page of converted text: characters ``start`` to ``end`` of ``total``."""

    text: str
    start: int
    end: int
    total: int

    @property
    def next_start(self) -> int | None:
        return self.end if self.end < self.total else None


def paginate_text(content: str, start: int, max_length: int) -> TextPage:
    """``content[start:]`` up to ``max_length`` characters, cut at a line or word end when one is near."""
    total = len(content)
    if start > total or (start == total and total > 0):
        raise InvalidInput(
            f"start_index {start} is past the end of the content ({total} characters)",
            recovery_steps=[
                f"The whole content was already returned; use a start_index below {total} to re-read part of it.",
            ],
            details={"field": "start_index", "total_length": total},
        )
    end = min(start + max_length, total)
    if end < total:
        floor = start + (max_length * 4) // 5  # never give up more than a fifth of the page
        for separator in ("\n\n", "\n", " "):
            cut = content.rfind(separator, floor, end)
            if cut != -1:
                end = cut + len(separator)
                break
    return TextPage(content[start:end], start, end, total)

"""XML from providers, parsed without expanding entities or fetching anything.

defusedxml refuses entity declarations (the billion-laughs and quadratic-blowup bombs),
external entities and external DTD loading before any expansion happens; a document type
declaration alone (old RSS 0.91 feeds carry one) is allowed. The body is already capped in
size by the HTTP layer.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from mcp_workbench.research.errors import SourceProblem


def parse_xml(body: bytes, *, origin: str) -> Element:
    """The document's root element, or a :class:`SourceProblem` naming what was wrong."""
    try:
        return fromstring(body, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise SourceProblem(
            "failed", f"{origin} sent XML with entity declarations ({type(exc).__name__}); it was not parsed"
        ) from None
    except ParseError as exc:
        raise SourceProblem("failed", f"{origin} sent malformed XML ({exc})") from None


def local(tag: str) -> str:
    """``{namespace}name`` -> ``name``."""
    return tag.rsplit("}", 1)[-1]


def text_of(element: Element | None) -> str:
    """All text inside ``element`` (children included), or '' for None."""
    return "".join(element.itertext()).strip() if element is not None else ""


def child(element: Element, name: str) -> Element | None:
    """The first child whose local name is ``name``, whatever its namespace."""
    for item in element:
        if local(item.tag) == name:
            return item
    return None


def children(element: Element, name: str) -> list[Element]:
    return [item for item in element if local(item.tag) == name]

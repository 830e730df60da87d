"""Which codec names are text encodings.

Python's codec registry also holds bytes-to-bytes and str-to-str transforms (``hex``,
``base64``, ``zlib``, ``rot13``) and special-purpose codecs (``idna``, ``punycode``) that fail
or mangle text when used as a character encoding. Every place that takes an encoding name
from a caller, a file or a server (``files_read``/``files_write``'s ``encoding``, a page's
declared charset) goes through :func:`text_encoding`, so only real text encodings are used.
"""

from __future__ import annotations

import codecs

# Registered as text encodings (``_is_text_encoding`` is true) but not usable as one:
# they encode domain names or are internal to Python.
_NOT_FOR_TEXT = frozenset({"idna", "punycode", "raw-unicode-escape", "unicode-escape", "undefined"})


def text_encoding(name: str) -> str | None:
    """The canonical name of ``name`` if it is a text encoding, else None (unknown or a transform)."""
    try:
        info = codecs.lookup(name)
    except (LookupError, TypeError, ValueError):
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_FOR_TEXT:
        return None
    return info.name

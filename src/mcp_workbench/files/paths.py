"""Pure path rules of the files capability: what a caller's path may look like, and whether a
resolved path stays inside its root. Nothing here touches the file system.

A caller gives a path *relative to a root*, with ``/`` as the only separator. It is refused
before anything is opened when it:

- is absolute in any OS's sense (``/etc``, ``C:\\x``, ``C:x``, ``\\\\server\\share``,
  ``//server/share``, ``\\\\?\\C:\\``)                                   -> PERMISSION_DENIED
- has a ``..`` component (split on ``/`` *and* ``\\``)                  -> PERMISSION_DENIED
- holds a backslash, a NUL byte, a control character or invalid Unicode -> VALIDATION_ERROR
- is longer than 4096 characters, has more than 128 components, or a
  component longer than 255 bytes                                       -> VALIDATION_ERROR
- on Windows, has a component Windows gives a special meaning: a reserved device name
  (``CON``, ``nul.txt``, ``COM1``), a trailing dot or space (``a.txt.`` opens ``a.txt``),
  a ``:`` (alternate data stream ``a.txt:s``) or one of ``<>"|?*``      -> VALIDATION_ERROR

The Windows rules are also applied, on every OS, to the names the write tools *create*
(:func:`check_portable_name`), so nothing the tools make is unusable on Windows.

Containment is decided on resolved paths with pathlib semantics (:func:`is_within`), never by
string prefix: ``/srv/rootX`` is not inside ``/srv/root``, and Windows paths compare without
regard to case. Windows behaviour is chosen by a flag (or by the PurePath flavour passed in),
so it is tested on every OS.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Mapping
from pathlib import PurePath, PurePosixPath, PureWindowsPath

from mcp_workbench.platform.errors import InvalidInput, PermissionDenied

IS_WINDOWS = os.name == "nt"

MAX_PATH_CHARS = 4096
MAX_COMPONENTS = 128
MAX_NAME_BYTES = 255

RelPath = tuple[str, ...]
"""A validated relative path: its components, without ``.``, empty or ``..`` parts."""

_DEVICE_NAMES = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", "CLOCK$"}
    | {f"{prefix}{digit}" for prefix in ("COM", "LPT") for digit in "0123456789¹²³"}
)
_WINDOWS_FORBIDDEN = frozenset('<>:"|?*')
_DRIVE = re.compile(r"^[A-Za-z]:")

_ABSOLUTE_STEPS = ("Give the path relative to the root, with '/' between names (e.g. 'src/app.py').",)
_DOTDOT_STEPS = (
    "Paths may not contain '..'; name the file from the root down (e.g. 'docs/a.md', not 'src/../docs/a.md').",
    "To work in another root, pass its name as 'root' (see files_read operation 'roots').",
)


def parse_relative(text: str, *, windows: bool = IS_WINDOWS, field: str = "path") -> RelPath:
    """Validate a caller's relative path and split it into components.

    ``""`` and ``"."`` name the root itself (the empty tuple). Raises :class:`InvalidInput`
    for malformed paths and :class:`PermissionDenied` for attempts to leave the root.
    """
    shown = printable(text)
    details = {"field": field, "path": shown[:200]}
    if len(text) > MAX_PATH_CHARS:
        raise InvalidInput(f"'{field}' is longer than {MAX_PATH_CHARS} characters", details=details)
    if "\x00" in text:
        raise InvalidInput(f"'{field}' contains a NUL byte", details=details)
    if not is_valid_unicode(text):
        raise InvalidInput(f"'{field}' is not valid Unicode (it holds a lone surrogate)", details=details)
    if any(_is_control(ch) for ch in text):
        raise InvalidInput(f"'{field}' contains a control character (newline, tab, ...)", details=details)
    if is_absolute_form(text):
        raise PermissionDenied(
            f"'{field}' must be relative to a root; {shown!r} is an absolute path",
            recovery_steps=_ABSOLUTE_STEPS,
            details={**details, "reason": "absolute"},
        )
    if ".." in re.split(r"[/\\]", text):
        raise PermissionDenied(
            f"'{field}' may not contain '..' components: {shown!r}",
            recovery_steps=_DOTDOT_STEPS,
            details={**details, "reason": "dotdot"},
        )
    if "\\" in text:
        raise InvalidInput(
            f"'{field}' contains a backslash; use '/' to separate names",
            recovery_steps=["Write the path with forward slashes, e.g. 'src/app.py'."],
            details=details,
        )
    parts = tuple(part for part in text.split("/") if part not in ("", "."))
    if len(parts) > MAX_COMPONENTS:
        raise InvalidInput(f"'{field}' has more than {MAX_COMPONENTS} components", details=details)
    for part in parts:
        check_name(part, windows=windows, field=field)
    return parts


def check_name(name: str, *, windows: bool = IS_WINDOWS, field: str = "path") -> None:
    """One component of a path the caller gave (it may name an existing entry)."""
    if len(name.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES:
        raise InvalidInput(
            f"a name in '{field}' is longer than {MAX_NAME_BYTES} bytes",
            details={"field": field, "name": printable(name)[:80] + "..."},
        )
    if windows:
        _check_windows_name(name, field)


def check_portable_name(name: str, *, field: str = "path") -> None:
    """A name the tools are about to create: valid on every OS, Windows included."""
    check_name(name, windows=False, field=field)
    if any(_is_control(ch) for ch in name):
        raise InvalidInput(f"the new name {printable(name)!r} contains a control character", details={"field": field})
    _check_windows_name(name, field, creating=True)


def _check_windows_name(name: str, field: str, *, creating: bool = False) -> None:
    shown = printable(name)
    why = None
    if bad := sorted(set(name) & _WINDOWS_FORBIDDEN):
        why = f"contains {' '.join(repr(ch) for ch in bad)}"
        if ":" in bad:
            why += " (':' names an alternate data stream on Windows)"
    elif name.endswith((".", " ")):
        why = "ends with a dot or a space (Windows drops them, so it would name another file)"
    elif is_windows_device_name(name):
        why = "is a reserved device name on Windows (CON, PRN, AUX, NUL, COM1-9, LPT1-9)"
    if why is None:
        return
    prefix = "the new name" if creating else f"a name in '{field}'"
    raise InvalidInput(
        f"{prefix} {shown!r} {why}",
        recovery_steps=["Choose a name of letters, digits, spaces, '.', '-' and '_' that does not end in a dot."],
        details={"field": field, "name": shown, "reason": "not_portable"},
    )


def is_windows_device_name(name: str) -> bool:
    """``CON``, ``con.txt``, ``NUL .tar.gz``, ``COM¹``: names Windows maps to a device."""
    stem = name.split(".", 1)[0].rstrip(" ").upper()
    return stem in _DEVICE_NAMES


def is_absolute_form(text: str) -> bool:
    """Absolute, drive-qualified or UNC on *any* OS (a Linux server refuses ``C:\\x`` too)."""
    if text.startswith(("/", "\\")) or _DRIVE.match(text):
        return True
    windows = PureWindowsPath(text)
    return bool(windows.drive or windows.root) or PurePosixPath(text).is_absolute()


def is_within(root: PurePath, candidate: PurePath) -> bool:
    """Whether ``candidate`` is ``root`` or below it, both absolute and already resolved.

    Component-wise (``/a/bc`` is not within ``/a/b``); for Windows paths, case-insensitive
    (``C:\\Work\\x`` is within ``c:\\work``).
    """
    if not (root.is_absolute() and candidate.is_absolute()):
        return False
    return candidate == root or candidate.is_relative_to(root)


def relative_parts(root: PurePath, candidate: PurePath) -> RelPath | None:
    """``candidate``'s components below ``root``; ``None`` when it is not within."""
    if not is_within(root, candidate):
        return None
    return candidate.relative_to(root).parts


def suggest_relative(text: str, roots: Mapping[str, PurePath]) -> tuple[str, str] | None:
    """For an absolute path a caller gave: the root it lies in and the relative path to use."""
    for name, root in roots.items():
        parts = relative_parts(root, type(root)(text))
        if parts is not None and ".." not in parts:
            return name, display(parts)
    return None


def display(parts: RelPath) -> str:
    """How a relative path is shown to the caller: ``src/app.py``; the root itself is ``.``."""
    return "/".join(printable(part) for part in parts) or "."


def printable(text: str) -> str:
    """Text safe to put in JSON: undecodable file names (surrogate escapes) become U+FFFD."""
    if is_valid_unicode(text):
        return text
    return "".join("\ufffd" if 0xD800 <= ord(ch) <= 0xDFFF else ch for ch in text)


def is_valid_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _is_control(ch: str) -> bool:
    return unicodedata.category(ch) == "Cc"

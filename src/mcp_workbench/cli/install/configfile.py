"""Reading and replacing a client's config file safely: a file that is not UTF-8 text is
refused; before a change a timestamped backup is made beside it; the new text goes to a
temporary file in the same directory, is flushed to disk and renamed over the old one (an
atomic replace), keeping the old file's permission bits."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from mcp_workbench.cli.install.formats import ConfigParseError


def read_text(path: Path) -> str | None:
    """The file's text; None when it does not exist."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigParseError("not UTF-8 text", line) from None


def backup(path: Path, now: datetime | None = None) -> Path:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%fZ")
    target = path.with_name(f"{path.name}.{stamp}.bak")
    with path.open("rb") as src, open(target, "xb") as dst:  # never overwrite an older backup
        dst.write(src.read())
        dst.flush()
        os.fsync(dst.fileno())
    with contextlib.suppress(OSError):
        os.chmod(target, stat.S_IMODE(path.stat().st_mode))
    return target


def atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode: int | None = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        mode = None
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if hasattr(os, "O_DIRECTORY"):  # make the rename itself durable
        dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def diff(before: str | None, after: str, shown: str) -> str:
    from mcp_workbench.files.edits import unified_diff  # the file tools' diff; loads their package

    return unified_diff(before or "", after, shown, max_chars=1_000_000)[0]

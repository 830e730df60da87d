"""Flags several commands share (``serve``, ``doctor``, ``keys``), and how they become settings:
kept apart from the commands so each can use them without importing the others.

CLI flags are the top layer of configuration; :func:`overrides_from` turns them into overrides of
the one settings object (see :mod:`mcp_workbench.settings`), never read anywhere else.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any


def optional_path(value: str) -> Path | None:
    """A path flag whose empty value means "not given": a client that fills a command line from
    a form (Claude Desktop's bundle settings) passes ``--data-dir=`` when the field is left empty."""
    return Path(value) if value.strip() else None


def add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", type=optional_path, help="TOML config file (default: $WORKBENCH_CONFIG or the user config dir)"
    )
    parser.add_argument("--data-dir", type=optional_path, help="where the workspace database, keys and state live")


def add_root_flags(parser: argparse.ArgumentParser, *, positional: bool = False) -> None:
    """``--root PATH`` (repeatable), ROOT arguments, and ``--read-only``."""
    parser.add_argument(
        "--root",
        action="append",
        type=Path,
        default=[],
        metavar="PATH",
        help="a directory the file tools may use (repeatable; named after the directory)",
    )
    if positional:
        parser.add_argument(
            "roots",
            nargs="*",
            type=Path,
            metavar="ROOT",
            help="more directories, as with --root (a client that expands a list of folders passes them here)",
        )
    parser.add_argument("--read-only", action="store_true", help="every root is read-only: files_write is not offered")


def overrides_from(args: argparse.Namespace) -> dict[str, Any]:
    """CLI flags as a partial settings dict (unset flags are left out so lower layers show through)."""
    http = {
        key: getattr(args, key, None)
        for key in ("host", "port", "path", "workers")
        if getattr(args, key, None) is not None
    }
    if getattr(args, "no_auth", False):
        http["auth"] = "none"
    values: dict[str, Any] = {
        "transport": getattr(args, "transport", None),
        "data_dir": args.data_dir,
        "log_level": getattr(args, "log_level", None),
    }
    if http:
        values["http"] = http
    files: dict[str, Any] = {}
    roots = [*getattr(args, "root", []), *(getattr(args, "roots", None) or [])]
    if roots:
        files["roots"] = cli_roots(roots)
    if getattr(args, "read_only", False):
        files["read_only"] = True
    if files:
        values["files"] = files
    if getattr(args, "allow_host", None):
        values["web"] = {"allow_hosts": args.allow_host}
    return {key: value for key, value in values.items() if value is not None}


def root_name(path: Path) -> str:
    """A --root's name is its directory's name (``.`` resolves to the current directory's),
    made a simple name: other characters become ``_``."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", path.expanduser().resolve().name).lstrip(".-")[:60]
    return name or "root"


def cli_roots(paths: list[Path]) -> dict[str, dict[str, Path]]:
    """Roots from repeated --root flags; a repeated directory name gets a -2, -3 ... suffix."""
    roots: dict[str, dict[str, Path]] = {}
    for path in paths:
        base = name = root_name(path)
        counter = 2
        while name.casefold() in {n.casefold() for n in roots}:
            name, counter = f"{base}-{counter}", counter + 1
        roots[name] = {"path": path.expanduser()}
    return roots

"""Flags several commands share (``serve``, ``doctor``, ``keys``): kept apart from the commands so
each parser can use them without importing the others."""

from __future__ import annotations

import argparse
from pathlib import Path


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

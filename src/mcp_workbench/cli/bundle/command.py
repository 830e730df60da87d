"""``mcp-workbench bundle [-o PATH]``: write the ``.mcpb`` and say what is in it (stdout); exit 2
when this is not a source tree."""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

from mcp_workbench.cli.bundle import archive, catalog, icon, manifest, project

EXIT_REFUSED = 2


def build(output: Path | None = None) -> Path:
    """Build the bundle; returns its path."""
    source = project.find()
    listed = catalog.live_catalog()
    data = manifest.build(source, listed)
    path = (output or Path(f"{source.name}-{source.version}.mcpb")).expanduser().absolute()
    entries = [(name, file.read_bytes()) for name, file in source.files()]
    entries.append(("manifest.json", (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode()))
    entries.append((manifest.ICON, icon.png()))
    archive.write(path, entries)
    return path


def run(args: argparse.Namespace) -> int:
    try:
        path = build(args.output)
    except project.NotASourceTree as exc:
        print(f"mcp-workbench: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    print(f"{path}")
    print(f"sha256 {digest}, {path.stat().st_size} bytes")
    return 0

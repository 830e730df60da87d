"""A reproducible zip: entries sorted, one fixed timestamp, fixed permissions, so the same
inputs give the same bytes (and the same sha256 a registry entry can pin)."""

from __future__ import annotations

import os
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path

EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip can hold


def write(path: Path, entries: Iterable[tuple[str, bytes]]) -> None:
    """Write the zip next to ``path`` and rename it into place (a half-written bundle never shows)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle, zipfile.ZipFile(handle, "w") as bundle:
            for name, data in sorted(entries):
                info = zipfile.ZipInfo(name, EPOCH)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                info.create_system = 3  # unix, so the permissions above are read as such
                bundle.writestr(info, data, compresslevel=9)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

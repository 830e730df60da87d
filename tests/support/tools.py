"""External programs a test needs (promtool, prometheus, systemd-analyze, pg_dump ...).

:func:`require` answers the program's path; when it is missing the test is skipped with the
reason, or fails under ``CI=true`` (CI installs every one of them: see ``.ci/run``).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def require(name: str, *, debian_package: str, also: tuple[str, ...] = ()) -> Path:
    """The path of ``name`` (searched on PATH, then in ``also``), else skip or fail."""
    found = shutil.which(name) or next((str(Path(d) / name) for d in also if (Path(d) / name).is_file()), None)
    if found is None:
        message = f"{name} is not installed (Debian: apt-get install {debian_package})"
        if in_ci():
            pytest.fail(f"CI=true but {message}", pytrace=False)
        pytest.skip(message)
    return Path(found)

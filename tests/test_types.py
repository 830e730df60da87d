"""The source type-checks: mypy, as configured in pyproject.toml (strict, over src/), reports nothing,
and every ``# type: ignore`` that remains names its error code and says why on its line.

mypy runs in a subprocess with the project's interpreter, so the memory it takes to analyse the
dependencies goes back when it ends. Its cache is the repository's ``.mypy_cache``, shared with
``uv run mypy``: a cold run analyses every dependency (tens of seconds), a warm one only what
changed (about a second). CI keeps the warm case by keeping that directory between runs, keyed by
``uv.lock`` and ``pyproject.toml``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# `# type: ignore[code, code]  # why`: the codes say what is silenced, the words why it is right.
_EXPLAINED_IGNORE = re.compile(r"# type: ignore\[[a-z-]+(?:, [a-z-]+)*\]  # \S")


@pytest.mark.timeout(900)  # a cold run on a loaded two-core machine; a warm one takes seconds
def test_mypy_reports_no_errors_in_src() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(ROOT / ".mypy_cache")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=850,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_type_ignore_names_its_codes_and_its_reason() -> None:
    unexplained = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sorted((ROOT / "src").rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if "type: ignore" in line and not _EXPLAINED_IGNORE.search(line)
    ]
    assert not unexplained, "\n".join(unexplained)

"""The code stays as the style guide says: ruff's lint rules and formatting hold everywhere."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _ruff(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args, "src", "tests", "run.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_ruff_lint_is_clean() -> None:
    result = _ruff("check", "--output-format", "concise")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean() -> None:
    result = _ruff("format", "--check")
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_test_module_imports_from_a_conftest() -> None:
    """Helpers live in tests/support/; a conftest holds fixtures and is pytest's to load (imported
    by name it depends on pytest's import mode, and under ``importlib`` it is a second copy)."""
    offenders = []
    for path in _test_sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            names += [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            if any(name.split(".")[-1] == "conftest" for name in names):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == [], f"imports from a conftest (move the helper to tests/support/): {offenders}"


def _test_sources() -> list[Path]:
    found = []
    for directory, dirs, files in os.walk(ROOT / "tests"):
        dirs[:] = [d for d in dirs if d not in ("node_modules", "__pycache__")]
        found += [Path(directory) / name for name in files if name.endswith(".py")]
    return sorted(found)

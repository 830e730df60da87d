"""``mcp-workbench doctor`` run as a user runs it (``main([...])``, stdout and exit code), in a
throwaway HOME so that no test reads the developer's own client configs."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mcp_workbench.cli.main import main

# A server start on a busy 2-core machine can take seconds; the check's own default is 30 s.
SLOW_MACHINE = ("--timeout", "120")


@dataclass
class Report:
    code: int
    out: str
    err: str

    def lines(self, check: str) -> list[str]:
        """The report's lines of one check (with their fix lines)."""
        found, inside = [], False
        for line in self.out.splitlines():
            if line[:1] in "✔!✘-" and line[2:].split(" ", 1)[0] == check:
                inside = True
                found.append(line)
            elif inside and line.startswith(" ") and "fix:" in line:
                found.append(line)
            else:
                inside = False
        return found

    def symbol(self, check: str) -> set[str]:
        return {line[0] for line in self.lines(check) if not line.startswith(" ")}

    def json(self) -> dict[str, Any]:
        return json.loads(self.out)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)
    return home


@pytest.fixture
def doctor(home: Path, capsys: pytest.CaptureFixture[str]) -> Callable[..., Report]:
    def run(*argv: str) -> Report:
        capsys.readouterr()
        code = main(["doctor", *argv])
        captured = capsys.readouterr()
        return Report(code, captured.out, captured.err)

    return run


def write_config(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path

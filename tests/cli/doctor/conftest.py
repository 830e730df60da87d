"""``mcp-workbench doctor`` run as a user runs it (``main([...])``, stdout and exit code), in a
throwaway HOME so that no test reads the developer's own client configs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from mcp_workbench.cli.main import main
from tests.cli.doctor.report import Report


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

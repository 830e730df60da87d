"""The clients check reads every client's entry as ``install`` wrote it (or as a user left it);
the stdio check reads every byte the server writes to stdout."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import anyio
import pytest

from mcp_workbench import __version__
from mcp_workbench.cli.doctor.stdio import raw_handshake
from mcp_workbench.cli.install.entries import Launch
from mcp_workbench.cli.main import main
from tests.cli.doctor.report import Report

pytestmark = pytest.mark.timeout(300)


def _entry(path: Path, container: str, name: str, entry: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({container: {name: entry}}), encoding="utf-8")


def test_each_installed_entry_is_judged_with_the_command_that_fixes_it(
    doctor: Callable[..., Report], home: Path, tmp_path: Path
) -> None:
    assert main(["install", "cursor", "--no-verify", "--no-compile", "--env", f"WORKBENCH_DATA_DIR={tmp_path}"]) == 0
    _entry(
        home / ".codeium" / "windsurf" / "mcp_config.json",
        "mcpServers",
        "workbench",
        {"command": str(tmp_path / "gone" / "bin" / "python"), "args": ["-m", "mcp_workbench", "serve"]},
    )
    _entry(
        home / ".gemini" / "settings.json",
        "mcpServers",
        "workbench",
        {"command": sys.executable, "args": ["mcp-workbench@0.0.1", "serve"]},
    )
    (home / ".copilot").mkdir()
    (home / ".copilot" / "mcp-config.json").write_text('{"mcpServers": {"workbench": ', encoding="utf-8")

    report = doctor("--check", "clients")
    assert report.code == 1
    lines = report.lines("clients")
    text = "\n".join(lines)
    assert any(line.startswith("✔ clients  cursor: runs this installation") for line in lines), text
    assert "✘ clients  windsurf: " in text and "which does not exist" in text
    assert "fix: run `mcp-workbench install windsurf` to point it at this installation" in text
    assert f"! clients  gemini-cli: pins mcp-workbench 0.0.1; this is {__version__}" in text
    assert "✘ clients  copilot-cli: " in text and "cannot be read" in text
    assert "claude-code" not in text  # no entry there: nothing to judge


def test_with_no_entry_anywhere_the_check_says_how_to_add_one(doctor: Callable[..., Report]) -> None:
    report = doctor("--check", "clients")
    assert report.code == 0 and "mcp-workbench install CLIENT" in report.lines("clients")[0]


SERVER = (
    "import runpy, sys; sys.argv = ['mcp_workbench', 'serve']; runpy.run_module('mcp_workbench', run_name='__main__')"
)


def test_a_line_on_stdout_that_is_not_protocol_is_caught(tmp_path: Path) -> None:
    launch = Launch(
        sys.executable,
        ("-c", "print('hello from a plugin', flush=True); " + SERVER),
        {"WORKBENCH_DATA_DIR": str(tmp_path)},
    )
    result, stray = anyio.run(raw_handshake, launch, 120.0)
    assert result.ok and result.protocol == "2025-11-25" and result.tools == 5
    assert stray == ("hello from a plugin",)


def test_a_server_that_exits_at_once_fails_with_its_stderr(tmp_path: Path) -> None:
    launch = Launch(sys.executable, ("-c", "import sys; sys.exit('no database today')"), {})
    result, stray = anyio.run(raw_handshake, launch, 60.0)
    assert not result.ok and "no answer to initialize" in (result.error or "")
    assert "no database today" in (result.error or "") and stray == ()

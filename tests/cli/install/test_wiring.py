"""The install commands' wiring: the parser names every client in the table, an unknown client is
refused, ``mcp-workbench serve`` does not load the install machinery, and install compiles the
installation's bytecode."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from mcp_workbench.cli.install import clients
from mcp_workbench.cli.install.bytecode import compile_installation
from mcp_workbench.cli.install.entries import this_installation
from mcp_workbench.cli.install.parser import CLIENT_NAMES
from tests.cli.install.support import Sandbox


def test_the_help_names_exactly_the_clients_in_the_table() -> None:
    assert CLIENT_NAMES.split(", ") == list(clients.CLIENTS)


def test_an_unknown_client_is_refused_with_the_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    box = Sandbox(tmp_path, tmp_path, capsys)
    run = box.cli("install", "notepad", "--no-verify")
    assert run.code == 2 and "unknown client 'notepad'" in run.out and "opencode" in run.out
    assert box.files() == {}


def test_the_server_command_line_does_not_load_the_install_machinery() -> None:
    probe = (
        "import sys, mcp_workbench.cli.main as m; m.build_parser(); "
        "heavy = [n for n in ('tomlkit', 'ruamel.yaml', 'mcp_workbench.cli.install.clients') if n in sys.modules]; "
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]"


def test_install_leaves_the_installation_compiled() -> None:
    launch = this_installation()
    assert compile_installation(launch) in {"compiled", "already compiled"}
    import fastmcp.server.server

    import mcp_workbench.server

    for module in (fastmcp.server.server, mcp_workbench.server):
        assert Path(importlib.util.cache_from_source(module.__file__)).is_file()
    assert compile_installation(launch) == "already compiled"  # a re-run does no work

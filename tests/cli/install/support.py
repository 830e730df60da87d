"""Running ``mcp-workbench install|uninstall`` in-process against a throwaway home."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from mcp_workbench.cli.install import command
from mcp_workbench.cli.install.paths import Host
from mcp_workbench.cli.main import build_parser


@dataclass
class Run:
    code: int
    out: str
    err: str = ""  # refusals and notes: stdout carries only the command's report


@dataclass
class Sandbox:
    home: Path
    project: Path
    capsys: pytest.CaptureFixture[str]

    @property
    def host(self) -> Host:
        return Host("linux", self.home, {})

    def cli(self, *argv: str, compile_bytecode: bool = False) -> Run:
        """Run the command; bytecode compiling (tested on its own) is off unless asked for."""
        if argv[:1] == ("install",) and "--list" not in argv and not compile_bytecode:
            argv = (*argv, "--no-compile")
        args = build_parser().parse_args(list(argv))
        self.capsys.readouterr()
        code = command.run(args, host=self.host, project_dir=self.project)
        captured = self.capsys.readouterr()
        return Run(code, captured.out, captured.err)

    def files(self) -> dict[str, bytes]:
        """Every file under home and project (to prove nothing else was written)."""
        return {
            str(p): p.read_bytes() for base in (self.home, self.project) for p in sorted(base.rglob("*")) if p.is_file()
        }

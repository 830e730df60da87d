"""Real MCP hosts from npm (pinned in tests/conformance/package.json, installed with Node 22
by ``npm ci --prefix tests/conformance``) see the server connected after ``mcp-workbench
install CLIENT``, each in a throwaway HOME, with no model and no login:

- Claude Code ``claude mcp list`` (user scope ``~/.claude.json``, and project scope ``.mcp.json``
  once the project's servers are approved);
- Gemini CLI ``gemini mcp list`` in a folder listed in ``~/.gemini/trustedFolders.json``;
- Qwen Code ``qwen mcp list``;
- opencode ``opencode mcp list``.

Each run also installs a ``broken`` entry whose server exits at once (an unknown transport), and
the host must *not* call that one connected: the check can fail.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conformance.nodepkgs import NODE, bin_entry, ensure_packages

pytestmark = pytest.mark.timeout(900)

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass(frozen=True)
class Host:
    client: str  # our CLIENT name
    package: str
    bin: str
    extra_env: tuple[tuple[str, str], ...] = ()


HOSTS = {
    "claude-code": Host(
        "claude-code",
        "@anthropic-ai/claude-code",
        "claude",
        (("DISABLE_AUTOUPDATER", "1"), ("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")),
    ),
    "gemini-cli": Host("gemini-cli", "@google/gemini-cli", "gemini"),
    "qwen-code": Host("qwen-code", "@qwen-code/qwen-code", "qwen"),
    "opencode": Host("opencode", "opencode-ai", "opencode"),
}


class Home:
    def __init__(self, tmp_path: Path) -> None:
        self.home = tmp_path / "home"
        self.project = tmp_path / "project"
        self.data = tmp_path / "data"
        for d in (self.home, self.project):
            d.mkdir()

    def env(self) -> dict[str, str]:
        return {
            "HOME": str(self.home),
            "USERPROFILE": str(self.home),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "XDG_DATA_HOME": str(self.home / ".local" / "share"),
            "XDG_CACHE_HOME": str(self.home / ".cache"),
            "XDG_STATE_HOME": str(self.home / ".local" / "state"),
            "PATH": f"{NODE.parent}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
            "TERM": "dumb",
            "NO_COLOR": "1",
            "LANG": "C.UTF-8",
        }

    def install(self, client: str, *args: str) -> str:
        proc = subprocess.run(
            [sys.executable, "-m", "mcp_workbench", "install", client, "--no-verify", *args],
            env=self.env(),
            cwd=self.project,
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc.stdout

    def install_pair(self, client: str, *args: str) -> None:
        """Our entry, and a broken one next to it."""
        self.install(client, "--env", f"WORKBENCH_DATA_DIR={self.data}", *args)
        self.install(client, "--name", "broken", "--env", "WORKBENCH_TRANSPORT=carrier-pigeon")

    def run_host(self, host: Host, *args: str) -> str:
        entry = bin_entry(host.package, host.bin)
        command = [str(entry)] if entry.read_bytes()[:4] == b"\x7fELF" else [str(NODE), str(entry)]
        proc = subprocess.run(
            [*command, *args],
            env={**self.env(), **dict(host.extra_env)},
            cwd=self.project,
            capture_output=True,
            text=True,
            timeout=300,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        return ANSI.sub("", proc.stdout + proc.stderr)


def status_line(output: str, name: str) -> str:
    """The line (or, for opencode, the block) a host prints for server ``name``."""
    lines = output.splitlines()
    for i, line in enumerate(lines):
        if re.search(rf"(^|\s){name}(:|\s|$)", line):
            return " ".join(lines[i : i + 2]) if ":" not in line else line
    raise AssertionError(f"no line for {name!r} in:\n{output}")


def connected(line: str) -> bool:
    return bool(re.search(r"\bconnected\b", line, re.IGNORECASE)) and not re.search(
        r"disconnected|not connected|failed", line, re.IGNORECASE
    )


@pytest.fixture
def home(tmp_path: Path) -> Home:
    return Home(tmp_path)


@pytest.mark.parametrize("client", sorted(HOSTS))
def test_the_real_host_reports_the_installed_server_connected(home: Home, client: str) -> None:
    host = HOSTS[client]
    ensure_packages(host.package)
    home.install_pair(client)
    if client == "gemini-cli":  # Gemini loads MCP servers only in a trusted folder
        (home.home / ".gemini" / "trustedFolders.json").write_text(json.dumps({str(home.project): "TRUST_FOLDER"}))
    output = home.run_host(host, "mcp", "list")
    assert connected(status_line(output, "workbench")), output
    assert not connected(status_line(output, "broken")), output


def test_claude_code_connects_a_project_scoped_entry_in_dot_mcp_json(home: Home) -> None:
    host = HOSTS["claude-code"]
    ensure_packages(host.package)
    home.install("claude-code", "--scope", "project", "--env", f"WORKBENCH_DATA_DIR={home.data}")
    # A project's .mcp.json servers wait for the user's approval; approve ours as `claude` would.
    state = home.home / ".claude.json"
    data = json.loads(state.read_text()) if state.exists() else {}
    data.setdefault("projects", {})[str(home.project)] = {
        "enabledMcpjsonServers": ["workbench"],
        "hasTrustDialogAccepted": True,
    }
    state.write_text(json.dumps(data))
    output = home.run_host(host, "mcp", "list")
    assert connected(status_line(output, "workbench")), output

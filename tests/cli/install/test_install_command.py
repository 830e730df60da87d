"""``mcp-workbench install`` / ``uninstall`` / ``install --list`` on real files in a throwaway
home: what the entry holds for each client, backups, atomic replace, idempotence, dry runs,
refusals that write nothing, and uninstall giving back the rest of the file."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path
from typing import Any, ClassVar

import pytest

from mcp_workbench.cli.install import clients
from mcp_workbench.cli.install.entries import Launch, Remote, server_launch
from mcp_workbench.cli.install.formats import read_entry
from tests.cli.install.support import Sandbox

ALL = sorted(clients.CLIENTS)
STARTUP_KEYS = {  # each client's start-up window, in its unit
    "cline": ("timeout", 60),
    "codex": ("startup_timeout_sec", 60),
    "gemini-cli": ("timeout", 600_000),
    "qwen-code": ("timeout", 600_000),
    "opencode": ("timeout", 60_000),
    "goose": ("timeout", 300),
}


@pytest.fixture
def box(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Sandbox:
    (tmp_path / "home").mkdir()
    (tmp_path / "project").mkdir()
    return Sandbox(tmp_path / "home", tmp_path / "project", capsys)


def entry_of(box: Sandbox, client: str, scope: str = "user", name: str = "workbench") -> dict[str, Any] | None:
    spec = clients.CLIENTS[client]
    path = Path(spec.path(box.host, scope, box.project))
    return read_entry(spec.fmt, path.read_text(encoding="utf-8"), spec.container_for(scope), name)


@pytest.mark.parametrize("client", ALL)
class TestTheWrittenEntry:
    def test_launches_this_installation_by_absolute_path_with_roots_config_and_env(
        self, box: Sandbox, client: str, tmp_path: Path
    ) -> None:
        root = tmp_path / "root dir"
        root.mkdir()
        config = tmp_path / "wb.toml"
        config.write_text("", encoding="utf-8")
        os.chdir(tmp_path)  # relative flags must become absolute
        try:
            run = box.cli(
                "install", client, "--root", "root dir", "--config", "wb.toml", "--env", "WORKBENCH_LOG_LEVEL=DEBUG",
                "--no-verify",
            )  # fmt: skip
        finally:
            os.chdir(box.project)
        assert run.code == 0, run.out
        entry = entry_of(box, client)
        assert entry is not None
        target = clients.CLIENTS[client].shape.read(entry)
        assert target == Launch(
            os.path.abspath(sys.executable),
            ("-m", "mcp_workbench", "serve", "--config", str(config), "--root", str(root)),
            {"PYTHONUTF8": "1", "WORKBENCH_LOG_LEVEL": "DEBUG"},
        )
        assert Path(target.command).is_absolute()

    def test_writes_the_clients_start_up_window_where_it_has_one(self, box: Sandbox, client: str) -> None:
        assert box.cli("install", client, "--no-verify").code == 0
        entry = entry_of(box, client)
        assert entry is not None
        if client in STARTUP_KEYS:
            key, value = STARTUP_KEYS[client]
            assert entry[key] == value
        else:
            assert "timeout" not in entry and "startup_timeout_sec" not in entry

    def test_a_second_identical_run_writes_nothing(self, box: Sandbox, client: str) -> None:
        assert box.cli("install", client, "--no-verify").code == 0
        before = box.files()
        path = Path(clients.CLIENTS[client].path(box.host, "user", box.project))
        mtime = path.stat().st_mtime_ns
        again = box.cli("install", client, "--no-verify")
        assert again.code == 0 and "nothing written" in again.out
        assert box.files() == before and path.stat().st_mtime_ns == mtime  # no backup, no rewrite

    def test_list_reports_the_entry_as_current(self, box: Sandbox, client: str) -> None:
        assert box.cli("install", client, "--no-verify").code == 0
        listing = json.loads(box.cli("install", "--list", "--json").out)
        row = next(r for r in listing if r["client"] == client and r["scope"] == "user")
        assert row["state"] == "current"
        assert row["path"] == str(clients.CLIENTS[client].path(box.host, "user", box.project))
        assert {r["client"] for r in listing} == set(ALL)

    def test_uninstall_removes_only_our_entry(self, box: Sandbox, client: str) -> None:
        assert box.cli("install", client, "--name", "keep", "--no-verify").code == 0
        path = Path(clients.CLIENTS[client].path(box.host, "user", box.project))
        original = path.read_bytes()
        assert box.cli("install", client, "--no-verify").code == 0
        run = box.cli("uninstall", client)
        assert run.code == 0 and "removed" in run.out
        assert path.read_bytes() == original  # byte-for-byte
        backups = sorted(path.parent.glob(f"{path.name}.*.bak"))
        assert len(backups) == 2  # one per change made to an existing file


class TestBackupAndAtomicReplace:
    def test_the_backup_holds_the_old_bytes_and_the_file_keeps_its_mode(self, box: Sandbox) -> None:
        path = box.home / ".cursor" / "mcp.json"
        path.parent.mkdir()
        original = b'{\n  // mine\n  "mcpServers": {"x": {"command": "x"}}\n}\n'
        path.write_bytes(original)
        path.chmod(0o600)
        assert box.cli("install", "cursor", "--no-verify").code == 0
        (backup,) = path.parent.glob("mcp.json.*.bak")
        assert backup.read_bytes() == original
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(backup.stat().st_mode) == 0o600
        assert sorted(p.name for p in path.parent.iterdir()) == sorted(["mcp.json", backup.name])  # no temp left

    def test_a_new_file_gets_no_backup(self, box: Sandbox) -> None:
        assert box.cli("install", "windsurf", "--no-verify").code == 0
        assert [p.name for p in (box.home / ".codeium" / "windsurf").iterdir()] == ["mcp_config.json"]


class TestDryRun:
    @pytest.mark.parametrize("client", ["zed", "codex", "goose"])
    def test_prints_a_unified_diff_and_writes_nothing(self, box: Sandbox, client: str) -> None:
        assert box.cli("install", client, "--name", "other", "--no-verify").code == 0
        before = box.files()
        run = box.cli("install", client, "--dry-run")
        assert run.code == 0
        assert run.out.startswith("--- ") and "\n+++ " in run.out and "\n@@ " in run.out
        assert any(line.startswith("+") and "workbench" in line for line in run.out.splitlines())
        assert box.files() == before

    def test_uninstall_dry_run_shows_the_removal(self, box: Sandbox) -> None:
        assert box.cli("install", "gemini-cli", "--no-verify").code == 0
        before = box.files()
        run = box.cli("uninstall", "gemini-cli", "--dry-run")
        assert run.code == 0 and any(line.startswith("-") and "workbench" in line for line in run.out.splitlines())
        assert box.files() == before


CORRUPT = {
    "cursor": (".cursor/mcp.json", '{\n  "mcpServers": {\n    "a": {"command": "x",}\n    "b": 1\n  }\n}\n', 4),
    "zed": (".config/zed/settings.json", '// settings\n{\n  "theme": "x"\n  "vim_mode": true\n}\n', 4),
    "codex": (".codex/config.toml", 'model = "o3"\n\n[mcp_servers.a\ncommand = "x"\n', 3),
    "goose": (".config/goose/config.yaml", "extensions:\n  a:\n    args: [1, 2\n  b: {}\n", 4),
}


@pytest.mark.parametrize("client", sorted(CORRUPT))
class TestCorruptConfig:
    def test_install_is_refused_with_path_and_line_and_nothing_is_written(self, box: Sandbox, client: str) -> None:
        rel, text, line = CORRUPT[client]
        path = box.home / rel
        path.parent.mkdir(parents=True)
        path.write_text(text, encoding="utf-8")
        before = box.files()
        run = box.cli("install", client, "--no-verify")
        assert run.code == 2
        assert f"{path}:{line}" in run.err and "Nothing was written" in run.err
        assert box.files() == before

    def test_uninstall_and_list_say_the_same(self, box: Sandbox, client: str) -> None:
        rel, text, _ = CORRUPT[client]
        path = box.home / rel
        path.parent.mkdir(parents=True)
        path.write_text(text, encoding="utf-8")
        before = box.files()
        assert box.cli("uninstall", client).code == 2
        listing = json.loads(box.cli("install", "--list", "--json").out)
        assert next(r for r in listing if r["client"] == client)["state"] == "unreadable"
        assert box.files() == before


class TestUninstallRestoresTheRest:
    FILES: ClassVar[dict[str, tuple[str, str]]] = {
        "zed": (
            ".config/zed/settings.json",
            (
                '// Zed\n{\n  "theme": "One", // mine\n  "context_servers": {\n'
                '    "x": {"source": "custom", "command": "x"}, /* keep */\n  },\n}\n'
            ),
        ),
        "vscode": (
            ".config/Code/User/mcp.json",
            '{\n\t// inputs first\n\t"inputs": [],\n\t"servers": {\n\t\t"x": {"type": "stdio", "command": "x"}\n\t}\n}',
        ),
        "codex": (
            ".codex/config.toml",
            (
                '# codex\nmodel = "o3"  # mine\n\n[mcp_servers.x]\ncommand = "x"\n'
                'args = [ "a",   "b" ]\n\n[profiles.p]\nmodel = "o4"\n'
            ),
        ),
        "goose": (
            ".config/goose/config.yaml",
            "# goose\nextensions:\n    x:\n        cmd: x   # mine\n        args:\n            - a\nGOOSE_MODE: auto\n",
        ),
    }

    @pytest.mark.parametrize("client", sorted(FILES))
    def test_install_then_uninstall_gives_back_the_file_byte_for_byte(self, box: Sandbox, client: str) -> None:
        rel, text = self.FILES[client]
        path = box.home / rel
        path.parent.mkdir(parents=True)
        path.write_text(text, encoding="utf-8", newline="")
        assert box.cli("install", client, "--no-verify").code == 0
        installed = path.read_text(encoding="utf-8")
        assert installed != text
        assert box.cli("uninstall", client).code == 0
        assert path.read_bytes() == text.encode()

    def test_uninstall_of_an_absent_entry_writes_nothing(self, box: Sandbox) -> None:
        rel, text = self.FILES["codex"]
        path = box.home / rel
        path.parent.mkdir(parents=True)
        path.write_text(text, encoding="utf-8")
        before = box.files()
        run = box.cli("uninstall", "codex")
        assert run.code == 0 and "not there" in run.out
        assert box.files() == before

    def test_uninstall_without_a_file_creates_none(self, box: Sandbox) -> None:
        assert box.cli("uninstall", "cursor").code == 0
        assert box.files() == {}


REMOTE = {  # client -> (url key, headers key, fixed keys)
    "claude-code": ("url", "headers", {"type": "http"}),
    "cursor": ("url", "headers", {}),
    "windsurf": ("serverUrl", "headers", {}),
    "zed": ("url", "headers", {"source": "custom"}),
    "vscode": ("url", "headers", {"type": "http"}),
    "copilot-cli": ("url", "headers", {"type": "http", "tools": ["*"]}),
    "codex": ("url", "http_headers", {"startup_timeout_sec": 60}),
    "gemini-cli": ("httpUrl", "headers", {}),
    "qwen-code": ("httpUrl", "headers", {}),
    "cline": ("url", "headers", {"type": "streamableHttp"}),
    "goose": ("uri", "headers", {"type": "streamable_http", "name": "workbench"}),
    "opencode": ("url", "headers", {"type": "remote", "enabled": True}),
}


class TestRemoteEntries:
    @pytest.mark.parametrize("client", sorted(REMOTE))
    def test_url_writes_the_clients_remote_form_with_headers(self, box: Sandbox, client: str) -> None:
        url = "https://wb.example.com/mcp"
        run = box.cli("install", client, "--url", url, "--header", "Authorization: Bearer k1", "--header",
                      "X-Team:  blue ", "--no-verify")  # fmt: skip
        assert run.code == 0, run.out
        entry = entry_of(box, client)
        assert entry is not None
        url_key, headers_key, fixed = REMOTE[client]
        assert entry[url_key] == url
        assert entry[headers_key] == {"Authorization": "Bearer k1", "X-Team": "blue"}
        assert fixed.items() <= entry.items()
        assert "command" not in entry and "cmd" not in entry
        assert clients.CLIENTS[client].shape.read(entry) == Remote(
            url, {"Authorization": "Bearer k1", "X-Team": "blue"}
        )

    def test_claude_desktop_refuses_a_url_and_writes_nothing(self, box: Sandbox) -> None:
        run = box.cli("install", "claude-desktop", "--url", "https://x.example/mcp", "--no-verify")
        assert run.code == 2 and "Connectors" in run.err
        assert box.files() == {}


class TestRefusals:
    @pytest.mark.parametrize(
        ("argv", "message"),
        [
            (["install", "cursor", "--root", "/nonexistent/dir"], "not a directory"),
            (["install", "cursor", "--config", "/nonexistent.toml"], "no such file"),
            (["install", "cursor", "--env", "NOVALUE"], "KEY=VALUE"),
            (["install", "cursor", "--env", "1BAD=x"], "not a variable name"),
            (["install", "cursor", "--header", "A: b"], "only goes with --url"),
            (["install", "cursor", "--url", "ftp://x"], "http:// or https://"),
            (["install", "cursor", "--url", "https://x/mcp", "--header", "no colon"], "Name: value"),
            (["install", "codex", "--scope", "project"], "no project-scoped"),
            (["install"], "name a CLIENT"),
        ],
    )
    def test_bad_requests_are_refused_and_write_nothing(self, box: Sandbox, argv: list[str], message: str) -> None:
        run = box.cli(*argv, "--no-verify")
        assert run.code == 2 and message in run.err
        assert box.files() == {}


class TestProjectScope:
    def test_claude_code_vscode_and_copilot_share_one_portable_entry_in_dot_mcp_json(self, box: Sandbox) -> None:
        for client in ("claude-code", "vscode", "copilot-cli"):
            assert box.cli("install", client, "--scope", "project", "--no-verify").code == 0
        entry = entry_of(box, "vscode", "project")
        assert entry is not None and entry["type"] == "stdio" and entry["tools"] == ["*"]
        assert entry_of(box, "claude-code", "project") == entry == entry_of(box, "copilot-cli", "project")
        assert [p.name for p in box.project.iterdir()] == [".mcp.json"]  # written once: the others found it current
        assert list(box.home.iterdir()) == []


class TestList:
    def test_an_entry_that_runs_another_installation_is_reported(self, box: Sandbox) -> None:
        old = server_launch(
            roots=[], config=None, env={}, launcher=Launch("/old/venv/bin/python", ("-m", "mcp_workbench"))
        )
        path = box.home / ".cursor" / "mcp.json"
        path.parent.mkdir()
        path.write_text(
            json.dumps({"mcpServers": {"workbench": clients.CLIENTS["cursor"].shape.stdio(old, "workbench")}})
        )
        out = box.cli("install", "--list").out
        line = next(line for line in out.splitlines() if line.startswith("cursor"))
        assert "other" in line and "/old/venv/bin/python (missing)" in line and str(path) in line

    def test_every_client_is_listed_with_its_path(self, box: Sandbox) -> None:
        out = box.cli("install", "--list").out
        for client in clients.CLIENTS.values():
            assert any(line.startswith(client.id) and str(client.path(box.host, "user", box.project)) in line
                       for line in out.splitlines())  # fmt: skip
        assert "no official Linux app" in out


class TestContainerOfTheWrongKind:
    CASES: ClassVar[dict[str, tuple[str, str, str]]] = {
        "cursor": (".cursor/mcp.json", '{"mcpServers": ["a", "b"]}\n', "'mcpServers' is a list"),
        "zed": (".config/zed/settings.json", '// z\n{"context_servers": "none"}\n', "'context_servers' is a string"),
        "codex": (".codex/config.toml", "mcp_servers = 3\n", "'mcp_servers' is a number"),
        "goose": (".config/goose/config.yaml", "extensions:\n- a\n- b\n", "'extensions' is a list"),
    }

    @pytest.mark.parametrize("client", sorted(CASES))
    @pytest.mark.parametrize("command", ["install", "uninstall"])
    def test_is_refused_with_the_path_and_nothing_is_written(self, box: Sandbox, client: str, command: str) -> None:
        rel, text, message = self.CASES[client]
        path = box.home / rel
        path.parent.mkdir(parents=True)
        path.write_text(text, encoding="utf-8")
        before = box.files()
        run = box.cli(command, client, *(["--no-verify"] if command == "install" else []))
        assert run.code == 2 and str(path) in run.err and message in run.err, run.err
        assert box.files() == before


class TestWhereItWrites:
    def test_file_edits_the_given_file_instead(self, box: Sandbox, tmp_path: Path) -> None:
        target = tmp_path / "elsewhere" / "my-cursor.json"
        assert box.cli("install", "cursor", "--file", str(target), "--no-verify").code == 0
        assert json.loads(target.read_text())["mcpServers"]["workbench"]["args"][:3] == ["-m", "mcp_workbench", "serve"]
        assert list(box.home.iterdir()) == []
        assert box.cli("uninstall", "cursor", "--file", str(target)).code == 0
        assert json.loads(target.read_text()) == {"mcpServers": {}}

    def test_a_symlinked_config_stays_a_symlink_and_its_target_is_updated(self, box: Sandbox, tmp_path: Path) -> None:
        dotfiles = tmp_path / "dotfiles" / "gemini.json"
        dotfiles.parent.mkdir()
        dotfiles.write_text('{"theme": "x"}\n')
        link = box.home / ".gemini" / "settings.json"
        link.parent.mkdir()
        link.symlink_to(dotfiles)
        assert box.cli("install", "gemini-cli", "--no-verify").code == 0
        assert link.is_symlink() and link.resolve() == dotfiles
        assert "workbench" in json.loads(dotfiles.read_text())["mcpServers"]
        assert [p.name for p in link.parent.iterdir()] == ["settings.json"]
        assert len(list(dotfiles.parent.glob("gemini.json.*.bak"))) == 1


@pytest.mark.parametrize("existing", [False, True])
def test_a_write_that_fails_is_reported_and_changes_nothing(box: Sandbox, tmp_path: Path, existing: bool) -> None:
    # a 250-character name is a valid file, but its temporary sibling's and backup's names are too long
    path = tmp_path / "cfg" / ("c" * 245 + ".json")
    path.parent.mkdir()
    if existing:
        path.write_text("{}\n")
    run = box.cli("install", "cursor", "--file", str(path), "--no-verify")
    assert run.code == 2 and f"cannot write {path}" in run.err and "Nothing was changed" in run.err
    assert [p.name for p in path.parent.iterdir()] == ([path.name] if existing else [])
    if existing:
        assert path.read_text() == "{}\n"


def test_a_file_changed_between_reading_and_writing_is_not_overwritten(box: Sandbox) -> None:
    from mcp_workbench.cli.install import service
    from mcp_workbench.cli.install.entries import server_launch as launch_of

    path = box.home / ".claude.json"
    path.write_text('{"numStartups": 1}\n')
    plan = service.plan_install(
        clients.CLIENTS["claude-code"],
        "user",
        launch_of(roots=[], config=None, env={}),
        name="workbench",
        host=box.host,
        project_dir=box.project,
    )
    path.write_text('{"numStartups": 2}\n')  # the client saved its state meanwhile
    with pytest.raises(service.InstallError, match="changed while it was being edited"):
        service.apply(plan)
    assert path.read_text() == '{"numStartups": 2}\n'
    assert list(box.home.iterdir()) == [path]

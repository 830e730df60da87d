"""``doctor`` against real configurations: each check names what is wrong and how to fix it,
the exit code is 1 exactly when a check failed, and ``--json`` carries the same findings."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from mcp_workbench.cli.doctor import checks, parser
from tests.cli.doctor.report import SLOW_MACHINE, Report, write_config
from tests.support.servers import free_port

pytestmark = pytest.mark.timeout(600)


def test_a_sound_configuration_passes_every_check_and_exits_0(doctor: Callable[..., Report], tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    config = write_config(tmp_path / "config.toml", f'[files.roots.proj]\npath = "{root}"\n')
    report = doctor("--config", str(config), "--data-dir", str(tmp_path / "data"), *SLOW_MACHINE)
    assert report.code == 0, report.out
    for name in checks.CHECKS:
        assert report.lines(name), f"no line for {name}:\n{report.out}"
    assert report.symbol("config") == {"✔"} and report.symbol("roots") == {"✔"}
    stdio = report.lines("stdio")
    assert any("handshake era: protocol 2025-11-25, 7 tools" in line for line in stdio), report.out
    assert any("2026-07-28: protocol 2026-07-28, 7 tools" in line for line in stdio), report.out
    assert any("stdout: nothing but protocol messages" in line for line in stdio), report.out
    assert "7 tools, within every client's budget (Cursor 80, Windsurf 100" in report.out
    assert report.symbol("http-auth") == {"-"}  # stdio: the HTTP checks say why they did not run


def test_json_carries_each_finding_with_its_status_and_fix(doctor: Callable[..., Report], tmp_path: Path) -> None:
    report = doctor("--json", "--check", "config,data-dir", "--check", "roots", "--data-dir", str(tmp_path / "d"))
    assert report.code == 0
    data = report.json()
    assert set(data) == {"version", "config", "ok", "counts", "checks"}
    assert data["ok"] is True and data["config"] is None
    assert [c["check"] for c in data["checks"]] == ["config", "data-dir", "roots"]
    assert data["counts"] == {"ok": 3, "warn": 0, "fail": 0, "skip": 0}
    for finding in data["checks"]:
        assert set(finding) == {"check", "status", "summary", "fix", "subject", "details"}
    assert data["checks"][1]["details"]["path"] == str(tmp_path / "d")


def test_a_config_file_that_is_not_toml_fails_naming_the_line(doctor: Callable[..., Report], tmp_path: Path) -> None:
    config = write_config(tmp_path / "config.toml", 'log_level = "INFO"\n[data\nmax_rows = 5\n')
    report = doctor("--config", str(config), "--check", "config,data-dir,sources")
    assert report.code == 1
    [line, fix] = report.lines("config")
    assert line.startswith("✘") and f"{config}:2:" in line and "not valid TOML" in line
    assert "fix: correct the TOML syntax at line 2" in fix
    assert report.symbol("data-dir") == {"-"} and report.symbol("sources") == {"-"}
    data = doctor("--config", str(config), "--check", "config", "--json").json()
    assert data["ok"] is False and data["checks"][0]["details"]["line"] == 2


def test_a_value_the_server_refuses_fails_naming_the_key(doctor: Callable[..., Report], tmp_path: Path) -> None:
    config = write_config(tmp_path / "config.toml", "[data]\nmax_rows = -1\n")
    report = doctor("--config", str(config), "--check", "config")
    assert report.code == 1 and "data.max_rows:" in report.lines("config")[0]


class TestDataDirectory:
    def test_a_data_dir_that_cannot_be_created_fails(self, doctor: Callable[..., Report], tmp_path: Path) -> None:
        blocker = tmp_path / "a-file"
        blocker.write_text("not a directory")
        report = doctor("--data-dir", str(blocker / "data"), "--check", "data-dir")
        assert report.code == 1
        [line, fix] = report.lines("data-dir")
        assert line.startswith("✘") and f"{blocker} is a file" in line
        assert "--data-dir" in fix and "WORKBENCH_DATA_DIR" in fix

    def test_a_data_dir_that_is_a_file_fails(self, doctor: Callable[..., Report], tmp_path: Path) -> None:
        path = tmp_path / "data"
        path.write_text("")
        report = doctor("--data-dir", str(path), "--check", "data-dir")
        assert report.code == 1 and "is not a directory" in report.lines("data-dir")[0]

    def test_a_writable_data_dir_passes_and_is_left_as_it_was(
        self, doctor: Callable[..., Report], tmp_path: Path
    ) -> None:
        path = tmp_path / "data"
        path.mkdir()
        report = doctor("--data-dir", str(path), "--check", "data-dir")
        assert report.code == 0 and report.symbol("data-dir") == {"✔"}
        assert list(path.iterdir()) == []  # the probe file is gone


def test_a_missing_root_fails_with_the_command_that_fixes_it(doctor: Callable[..., Report], tmp_path: Path) -> None:
    missing = tmp_path / "gone"
    config = write_config(tmp_path / "config.toml", f'[files.roots.proj]\npath = "{missing}"\n')
    report = doctor("--config", str(config), "--check", "config,roots")
    assert report.code == 1
    assert "files.roots.proj.path" in report.lines("config")[0]
    [line, fix] = report.lines("roots")
    assert line.startswith("✘ roots") and f"proj: {missing} does not exist" in line
    assert f"mkdir -p {missing}" in fix and f"files.roots.proj.path in {config}" in fix


def test_a_read_only_root_is_reported_as_such(doctor: Callable[..., Report], tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    report = doctor("--root", str(tmp_path / "docs"), "--read-only", "--check", "roots")
    assert report.code == 0 and "docs: " in report.out and "read-only: files_write refuses it" in report.out


class TestRedis:
    def test_up_passes_and_down_fails(self, doctor: Callable[..., Report], tmp_path: Path, redis_server) -> None:
        config = write_config(tmp_path / "config.toml", f'[limits]\nstorage = "{redis_server.url}"\n')
        up = doctor("--config", str(config), "--check", "redis")
        assert up.code == 0 and up.lines("redis") == [f"✔ redis  {redis_server.url} answers"]
        redis_server.stop()
        down = doctor("--config", str(config), "--check", "redis")
        assert down.code == 1
        [line, fix] = down.lines("redis")
        assert line.startswith(f"✘ redis  {redis_server.url} does not answer") and "without rate limits" in line
        assert "start Redis there, or correct [limits] storage" in fix

    def test_memory_storage_needs_no_redis(self, doctor: Callable[..., Report]) -> None:
        report = doctor("--check", "redis")
        assert report.code == 0 and "not used" in report.lines("redis")[0]


class TestResearchPacing:
    def test_one_process_books_in_memory(self, doctor: Callable[..., Report]) -> None:
        report = doctor("--check", "research-pacing")
        assert (
            report.code == 0 and "in this process's memory (fine for one process)" in report.lines("research-pacing")[0]
        )

    def test_workers_booking_in_memory_are_warned_with_the_setting_that_shares(
        self, doctor: Callable[..., Report], tmp_path: Path
    ) -> None:
        config = write_config(tmp_path / "config.toml", 'transport = "http"\n[http]\nworkers = 3\n')
        report = doctor("--config", str(config), "--check", "research-pacing")
        [line, fix] = report.lines("research-pacing")
        assert report.code == 0 and line.startswith("! research-pacing") and "each of 3 workers" in line
        assert "arXiv" in line and '[limits] storage (or [research] pacing_storage) = "redis://' in fix

    def test_the_limits_redis_is_the_book_and_must_answer(
        self, doctor: Callable[..., Report], tmp_path: Path, redis_server
    ) -> None:
        config = write_config(
            tmp_path / "config.toml",
            f'transport = "http"\n[http]\nworkers = 2\n[limits]\nstorage = "{redis_server.url}"\n',
        )
        up = doctor("--config", str(config), "--check", "research-pacing")
        assert up.code == 0
        assert up.lines("research-pacing") == [
            f"✔ research-pacing  turns at the providers are booked on {redis_server.url}, shared by every process"
        ]
        redis_server.stop()
        down = doctor("--config", str(config), "--check", "research-pacing")
        [line, fix] = down.lines("research-pacing")
        assert down.code == 1 and line.startswith(f"✘ research-pacing  {redis_server.url} ([limits] storage)")
        assert "each process paces the providers on its own" in line and "correct [limits] storage" in fix

    def test_its_own_setting_wins_and_is_named(self, doctor: Callable[..., Report], tmp_path: Path) -> None:
        gone = f"redis://127.0.0.1:{free_port()}/0"
        config = write_config(tmp_path / "config.toml", f'[research]\npacing_storage = "{gone}"\n')
        report = doctor("--config", str(config), "--check", "research-pacing")
        assert report.code == 1 and "([research] pacing_storage) does not answer" in report.lines("research-pacing")[0]

    def test_without_research_there_is_nothing_to_book(self, doctor: Callable[..., Report], tmp_path: Path) -> None:
        config = write_config(tmp_path / "config.toml", 'tools = ["data"]\n[http]\nworkers = 3\n')
        report = doctor("--config", str(config), "--transport", "http", "--check", "research-pacing")
        assert report.code == 0 and report.lines("research-pacing") == ["✔ research-pacing  research is not served"]


class TestEgress:
    def test_the_default_policy_refuses_metadata_and_private_addresses(self, doctor: Callable[..., Report]) -> None:
        report = doctor("--check", "egress")
        assert report.code == 0
        assert "cloud metadata refused" in report.out and "loopback and private addresses refused" in report.out

    def test_an_allow_list_that_opens_metadata_fails(self, doctor: Callable[..., Report], tmp_path: Path) -> None:
        config = write_config(tmp_path / "c.toml", '[web]\nallow_hosts = ["169.254.0.0/16"]\n')
        report = doctor("--config", str(config), "--check", "egress")
        assert report.code == 1
        assert "http://169.254.169.254/latest/meta-data/" in report.lines("egress")[0]
        assert "allow_hosts" in report.lines("egress")[1]

    def test_an_allowed_loopback_address_is_a_warning(self, doctor: Callable[..., Report], tmp_path: Path) -> None:
        config = write_config(tmp_path / "c.toml", '[web]\nallow_hosts = ["127.0.0.1"]\n')
        report = doctor("--config", str(config), "--check", "egress")
        assert report.code == 0 and report.symbol("egress") == {"!"} and "http://127.0.0.1/" in report.out


class TestHttp:
    def test_keys_auth_without_a_key_fails_until_one_is_created(
        self, doctor: Callable[..., Report], tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        from mcp_workbench.cli.main import main

        data = tmp_path / "data"
        flags = ("--transport", "http", "--data-dir", str(data), "--check", "http-auth")
        report = doctor(*flags)
        assert report.code == 1 and "holds no active key" in report.out and "keys create" in report.out
        assert main(["keys", "create", "--name", "ci", "--scopes", "data:read", "--data-dir", str(data)]) == 0
        report = doctor(*flags)
        assert report.code == 0 and "1 active API key(s)" in report.out and "store fingerprint" in report.out

    def test_without_a_state_section_sealing_keys_are_not_configured(self, doctor: Callable[..., Report]) -> None:
        one = doctor("--transport", "http", "--check", "sealing-keys")
        assert one.code == 0 and "not configured" in one.out and "fine for one process" in one.out

    def test_a_port_another_program_holds_fails(self, doctor: Callable[..., Report], tmp_path: Path) -> None:
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen()
            port = busy.getsockname()[1]
            config = write_config(tmp_path / "c.toml", f"[http]\nport = {port}\n")
            report = doctor("--config", str(config), "--transport", "http", "--check", "port")
        assert report.code == 1 and f"127.0.0.1:{port} is in use by another program" in report.out
        free = doctor("--config", str(config), "--transport", "http", "--check", "port")
        assert free.code == 0 and f"127.0.0.1:{port} is free" in free.out

    def test_on_stdio_the_http_checks_say_why_they_did_not_run(self, doctor: Callable[..., Report]) -> None:
        report = doctor("--check", "http-auth,sealing-keys,port")
        assert report.code == 0 and report.out.count("run doctor --transport http") == 3


def test_an_unknown_check_is_a_usage_error_listing_the_names(doctor: Callable[..., Report]) -> None:
    report = doctor("--check", "config,nope")
    assert report.code == 2 and "no check named nope" in report.err and "tool-budget" in report.err


def test_the_help_lists_exactly_the_registered_checks() -> None:
    assert list(parser.CHECK_NAMES) == list(checks.CHECKS)

"""After writing, ``install`` starts the written entry the way the client would (its command,
arguments and environment) and completes a handshake in both protocol eras, reporting the tool
count against the client's budget; a remote entry is reached with its headers."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from mcp_workbench.cli.install import clients
from tests.cli.install.support import Sandbox
from tests.support.servers import HttpServer, create_key

pytestmark = pytest.mark.timeout(600)
# the check's own window is 10 s; a busy 2-core test machine starting several servers needs more
SLOW_MACHINE = ["--verify-timeout", "120"]


@pytest.fixture
def box(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Sandbox:
    (tmp_path / "home").mkdir()
    (tmp_path / "project").mkdir()
    return Sandbox(tmp_path / "home", tmp_path / "project", capsys)


# One client per way of writing the launch down (plain JSON with a budget, TOML, YAML with
# cmd/envs, opencode's one-list command). Every other client's entry reads back to the very same
# command, arguments and environment (test_install_command.TestTheWrittenEntry), so it starts the
# same way.
HANDSHAKE_CLIENTS = ["cursor", "codex", "goose", "opencode"]


@pytest.mark.parametrize("client", HANDSHAKE_CLIENTS)
def test_the_written_entry_completes_a_handshake_in_both_eras(box: Sandbox, client: str, tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    run = box.cli(
        "install",
        client,
        "--root",
        str(root),
        "--env",
        f"WORKBENCH_DATA_DIR={tmp_path / 'data'}",
        *SLOW_MACHINE,
        compile_bytecode=True,
    )
    assert run.code == 0, run.out
    assert re.search(r"check \(handshake era\): connected, protocol 2025-11-25, (\d+) tools", run.out), run.out
    assert re.search(r"check \(2026-07-28\): connected, protocol 2026-07-28, (\d+) tools", run.out), run.out
    budget = clients.CLIENTS[client].tool_budget
    if budget:
        assert re.search(rf"tools: \d+ of .+'s budget of {budget} \(within\)", run.out), run.out


def test_an_entry_that_cannot_start_fails_the_check_and_shows_the_servers_stderr(box: Sandbox) -> None:
    run = box.cli("install", "cursor", "--env", "WORKBENCH_TRANSPORT=carrier-pigeon", *SLOW_MACHINE)
    assert run.code == 1
    assert run.out.count("FAILED") == 2 and "server stderr" in run.out and "transport" in run.out.lower()
    assert (box.home / ".cursor" / "mcp.json").is_file()  # written; the check reports, it does not undo


@pytest.fixture(scope="module")
def http_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[HttpServer, str]]:
    data = tmp_path_factory.mktemp("http-data")
    key = create_key(data, "*")
    server = HttpServer([], data).start(timeout=120)
    try:
        yield server, key
    finally:
        server.stop()


class TestRemoteEntries:
    @pytest.mark.parametrize("client", ["windsurf", "codex", "goose"])
    def test_url_with_the_auth_header_connects_in_both_eras(
        self, box: Sandbox, client: str, http_server: tuple[HttpServer, str]
    ) -> None:
        server, key = http_server
        run = box.cli("install", client, "--url", server.url, "--header", f"Authorization: Bearer {key}", *SLOW_MACHINE)
        assert run.code == 0, run.out
        assert run.out.count(": connected") == 2, run.out

    def test_url_without_the_header_fails_the_check(self, box: Sandbox, http_server: tuple[HttpServer, str]) -> None:
        server, _ = http_server
        run = box.cli("install", "cursor", "--url", server.url, *SLOW_MACHINE)
        assert run.code == 1 and run.out.count("FAILED") == 2, run.out
        entry = json.loads((box.home / ".cursor" / "mcp.json").read_text())["mcpServers"]["workbench"]
        assert entry == {"url": server.url}

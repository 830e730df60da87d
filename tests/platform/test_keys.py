"""API keys: shown once, stored hashed, verified in constant time, revocable."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from mcp_workbench.platform.keys import KeyStore, parse_scopes
from mcp_workbench.scopes import SCOPES
from tests.support.servers import clean_env
from tests.support.timeouts import SUBPROCESSES


def test_a_created_key_verifies_and_its_secret_is_not_stored(tmp_path: Path) -> None:
    store = KeyStore.in_dir(tmp_path)
    record, key = store.create("ci", ["data:read", "web"])
    assert key.startswith(f"wbk_{record.id}_")
    assert store.verify(key) == record
    stored = (tmp_path / "api_keys.json").read_text()
    assert key.split("_", 2)[2] not in stored and record.hash in stored
    assert stat.S_IMODE((tmp_path / "api_keys.json").stat().st_mode) == 0o600


@pytest.mark.parametrize("presented", ["", "wbk", "wbk__", "Bearer x", "wbk_000000000000_guess", "xyz_a_b"])
def test_malformed_or_unknown_keys_do_not_verify(tmp_path: Path, presented: str) -> None:
    store = KeyStore.in_dir(tmp_path)
    store.create("ci", ["*"])
    assert store.verify(presented) is None


def test_a_key_with_a_wrong_secret_does_not_verify(tmp_path: Path) -> None:
    store = KeyStore.in_dir(tmp_path)
    _, key = store.create("ci", ["*"])
    assert store.verify(key[:-1] + ("A" if key[-1] != "A" else "B")) is None


def test_revocation_is_seen_by_another_store_instance(tmp_path: Path) -> None:
    running, cli = KeyStore.in_dir(tmp_path), KeyStore.in_dir(tmp_path)
    record, key = cli.create("ci", ["*"])
    assert running.verify(key) is not None
    assert cli.revoke(record.id) is True
    assert running.verify(key) is None
    assert cli.revoke(record.id) is False


def test_scopes_are_checked() -> None:
    assert parse_scopes("data:read, web", SCOPES) == ["data:read", "web"]
    assert parse_scopes("*", SCOPES) == ["*"]
    assert parse_scopes("analyze", SCOPES) == ["analyze"]
    for useless in ("data:readd", "", " , ", "researcher", "analyse", "data:read,admin"):
        with pytest.raises(ValueError, match="opens nothing"):
            parse_scopes(useless, SCOPES)


def test_every_scope_a_key_may_be_given_opens_some_component(tmp_path: Path) -> None:
    """The scopes ``keys create`` accepts are exactly those the server's components need."""
    import asyncio

    from fastmcp import Client

    from mcp_workbench.server import build_server
    from mcp_workbench.settings import load_settings

    (tmp_path / "root").mkdir()
    settings = load_settings(None, data_dir=tmp_path / "data", files={"roots": {"r": {"path": tmp_path / "root"}}})

    async def needed() -> set[str]:
        async with Client(build_server(settings)) as client:
            listed = [
                *await client.list_tools(),
                *await client.list_resources(),
                *await client.list_resource_templates(),
                *await client.list_prompts(),
            ]
        return {tag.removeprefix("scope:") for c in listed for tag in (c.meta or {}).get("fastmcp", {}).get("tags", [])}

    assert asyncio.run(needed()) == set(SCOPES)


@SUBPROCESSES
def test_cli_prints_the_key_as_the_last_line_and_lists_without_secrets(tmp_path: Path) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "mcp_workbench", "keys", *args],
            env=clean_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            stdin=subprocess.DEVNULL,
        )

    created = cli("create", "--name", "laptop", "--scopes", "data:read,web")
    assert created.returncode == 0
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("wbk_")
    listed = json.loads(cli("list").stdout)
    assert [(k["name"], k["scopes"]) for k in listed] == [("laptop", ["data:read", "web"])]
    assert key not in cli("list").stdout
    assert cli("create", "--name", "x", "--scopes", "everything").returncode == 2
    refused = cli("create", "--name", "x", "--scopes", "researcher")
    assert refused.returncode == 2 and "opens nothing" in refused.stderr and refused.stdout == ""
    assert cli("revoke", listed[0]["id"]).returncode == 0
    assert cli("revoke", "nope").returncode == 1

"""What an archive holds, how `backup verify` checks it, and how a damaged one is refused."""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
import stat
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from mcp_workbench import __version__
from mcp_workbench.backup.archive import archive_time, archives_in
from mcp_workbench.backup.backup import take_backup
from mcp_workbench.backup_plan import plan_for
from mcp_workbench.settings import ConfigError, load_settings
from tests.backup.helpers import backup, cli, fill, flip_byte, member_offsets, pragma
from tests.support.servers import create_key


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A data directory with a filled workspace and one API key."""
    data = tmp_path / "data"
    asyncio.run(fill(load_settings(None, data_dir=data), 300))
    create_key(data, "data:read")
    return data


def manifest_of(archive: Path) -> dict:
    with tarfile.open(archive) as tar:
        first = tar.next()
        assert first is not None and first.name == "manifest.json"
        handle = tar.extractfile(first)
        assert handle is not None
        return json.loads(handle.read())


def test_an_archive_holds_the_workspace_the_key_store_and_the_config_with_checksums(
    data_dir: Path, tmp_path: Path
) -> None:
    config = tmp_path / "c.toml"
    config.write_text('log_level = "INFO"\n', encoding="utf-8")
    archive = backup(data_dir, "--config", config)

    assert archive.parent == data_dir / "backups" and archive_time(archive) is not None
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    assert stat.S_IMODE(archive.parent.stat().st_mode) == 0o700
    manifest = manifest_of(archive)
    assert manifest["product"] == "mcp-workbench" and manifest["version"] == __version__
    assert manifest["created_at"] and manifest["skipped"] == []
    members = {m["name"]: m for m in manifest["members"]}
    assert set(members) == {"sources/workspace.sqlite.gz", "keys/api_keys.json", "config/config.toml"}
    workspace = members["sources/workspace.sqlite.gz"]
    assert workspace["source"] == "workspace" and workspace["encoding"] == "gzip"
    assert workspace["info"]["schema_version"] == pragma(data_dir / "workspace.db", "schema_version")
    assert workspace["info"]["user_version"] == 0 and workspace["info"]["journal_mode"] == "wal"
    assert members["keys/api_keys.json"]["info"]["keys"] == 1
    assert members["config/config.toml"]["info"]["path"] == str(config.resolve())
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        assert names[0] == "manifest.json" and sorted(names[1:]) == sorted(members)
        for name, member in members.items():
            handle = tar.extractfile(name)
            assert handle is not None
            assert hashlib.sha256(handle.read()).hexdigest() == member["sha256"], name


def test_verify_checks_every_member_without_restoring(data_dir: Path) -> None:
    archive = backup(data_dir)
    before = (data_dir / "workspace.db").read_bytes()

    done = cli("backup", "verify", archive, data_dir=data_dir)

    assert done.returncode == 0, done.stderr
    assert "ok  sources/workspace.sqlite.gz  (integrity_check ok)" in done.stdout
    assert "ok  keys/api_keys.json  (1 key record(s))" in done.stdout
    assert "--  config/config.toml  skipped at backup: no config file is in use" in done.stdout
    assert (data_dir / "workspace.db").read_bytes() == before


def _damage_member_data(archive: Path) -> str:
    _, data, size = member_offsets(archive)["sources/workspace.sqlite.gz"]
    flip_byte(archive, data + size // 2)
    return "sources/workspace.sqlite.gz"


def _damage_member_header(archive: Path) -> str:
    header, _, _ = member_offsets(archive)["keys/api_keys.json"]
    flip_byte(archive, header + 3)  # in the name: the header checksum no longer holds
    return "keys/api_keys.json"


def _truncate(archive: Path) -> str:
    _, data, _ = member_offsets(archive)["keys/api_keys.json"]
    with archive.open("r+b") as handle:
        handle.truncate(data + 10)
    return "keys/api_keys.json"


def _drop_a_member(archive: Path) -> str:
    with tarfile.open(archive) as src, tarfile.open(archive.with_suffix(".new"), "w") as dst:
        for member in src.getmembers():
            if member.name != "keys/api_keys.json":
                dst.addfile(member, src.extractfile(member))
    archive.with_suffix(".new").replace(archive)
    return "keys/api_keys.json"


@pytest.fixture(scope="module")
def backed_up(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """One data directory and one archive of it, shared by the damage cases (each damages a copy)."""
    data = tmp_path_factory.mktemp("backed-up") / "data"
    asyncio.run(fill(load_settings(None, data_dir=data), 300))
    create_key(data, "data:read")
    return data, backup(data)


@pytest.mark.parametrize("damage", [_damage_member_data, _damage_member_header, _truncate, _drop_a_member])
def test_a_damaged_archive_is_refused_naming_the_member_and_nothing_is_restored(
    backed_up: tuple[Path, Path], tmp_path: Path, damage: object
) -> None:
    data_dir, intact = backed_up
    archive = tmp_path / intact.name
    shutil.copyfile(intact, archive)
    named = damage(archive)  # type: ignore[operator]
    workspace = (data_dir / "workspace.db").read_bytes()

    verified = cli("backup", "verify", archive, data_dir=data_dir)
    restored = cli("restore", archive, data_dir=data_dir)

    for done in (verified, restored):
        assert done.returncode == 1, done.stdout
        assert f"'{named}'" in done.stderr, done.stderr
        assert "Traceback" not in done.stderr and done.stdout == ""
    assert (data_dir / "workspace.db").read_bytes() == workspace
    assert not [p.name for p in data_dir.iterdir() if "restore" in p.name]  # no safety copy, no scratch


def test_a_member_whose_contents_fail_their_check_is_refused(data_dir: Path, tmp_path: Path) -> None:
    """Intact bytes, wrong contents: a 'key store' that is not one (checksummed as written)."""
    (data_dir / "api_keys.json").write_text('{"keys": [{"name": "no id, no hash"}]}', encoding="utf-8")
    archive = backup(data_dir)

    done = cli("backup", "verify", archive, data_dir=data_dir)

    assert done.returncode == 1 and "'keys/api_keys.json' is not a key store" in done.stderr


def test_keep_leaves_only_the_newest_archives(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "archives"
    plan = plan_for(load_settings(None, data_dir=data_dir), output=out, keep=2)
    first, second = (asyncio.run(take_backup(plan)).path for _ in range(2))

    done = cli("backup", "--output", out, "--keep", "2", data_dir=data_dir)

    assert done.returncode == 0, done.stderr
    assert archives_in(out) == [second, Path(done.stdout.strip())]
    assert f"removed old archive {first.name}" in done.stderr


def test_an_unknown_source_is_refused_naming_the_configured_ones(tmp_path: Path) -> None:
    done = cli("backup", "--source", "nope", data_dir=tmp_path / "data")
    assert done.returncode == 1
    assert "source 'nope' is not configured; configured sources: workspace" in done.stderr


def test_a_workspace_never_written_is_listed_as_skipped(tmp_path: Path) -> None:
    archive = backup(tmp_path / "data")
    skipped = {s["name"]: s["reason"] for s in manifest_of(archive)["skipped"]}
    assert "does not exist yet" in skipped["sources/workspace.sqlite.gz"]
    assert "no API key was created" in skipped["keys/api_keys.json"]


@pytest.mark.parametrize(
    ("written", "seconds"), [('"6h"', 21600), ('"30m"', 1800), ('"90s"', 90), ("45", 45), ('"1d"', 86400)]
)
def test_the_backup_interval_takes_durations_and_seconds(tmp_path: Path, written: str, seconds: float) -> None:
    config = tmp_path / "c.toml"
    config.write_text(f"[backup]\ninterval = {written}\nkeep = 3\n", encoding="utf-8")
    settings = load_settings(config, data_dir=tmp_path)
    assert settings.backup.interval == seconds and settings.backup.keep == 3


@pytest.mark.parametrize(
    ("written", "problem"), [('"6x"', "is not a duration"), ("0", "between 1 second and 366 days")]
)
def test_a_bad_backup_interval_is_a_configuration_error_naming_the_key(
    tmp_path: Path, written: str, problem: str
) -> None:
    config = tmp_path / "c.toml"
    config.write_text(f"[backup]\ninterval = {written}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"backup\.interval: .*{problem}"):
        load_settings(config, data_dir=tmp_path)


def test_backup_sources_must_name_configured_sources(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[backup]\nsources = ["workspace", "nope"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"backup\.sources names 'nope', which is not a configured source"):
        load_settings(config, data_dir=tmp_path)


def test_the_backup_domain_loads_without_fastmcp() -> None:
    """The domain is plain Python (the CLI and the server's lifespan call in)."""
    modules = [
        "archive",
        "backup",
        "holders",
        "postgres",
        "restore",
        "scheduler",
        "settings",
        "sqlite",
        "verify",
        "work",
    ]
    code = (
        "import sys\n"
        + "".join(f"import mcp_workbench.backup.{m}\n" for m in modules)
        + "print(sorted(m for m in sys.modules if m.split('.')[0] in ('fastmcp', 'mcp')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]"

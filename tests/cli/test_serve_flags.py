"""``serve``'s flags for clients that fill a command line from a form (Claude Desktop's bundle
settings): folders as plain arguments, ``--read-only``, and an empty ``--data-dir=`` meaning
"the default"."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcp_workbench.cli.main import build_parser, overrides_from
from mcp_workbench.settings import Settings, load_settings


def settings_for(*argv: str) -> Settings:
    return load_settings(None, **overrides_from(build_parser().parse_args(["serve", *argv])))


def test_folders_given_as_arguments_are_roots_like_root_flags(tmp_path: Path) -> None:
    for name in ("a", "b", "c"):
        (tmp_path / name).mkdir()
    settings = settings_for("--root", str(tmp_path / "a"), str(tmp_path / "b"), str(tmp_path / "c"))
    assert {n: r.path for n, r in settings.files.roots.items()} == {n: tmp_path / n for n in ("a", "b", "c")}
    assert not any(r.read_only for r in settings.files.roots.values())


def test_read_only_makes_every_root_read_only_including_the_config_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "cli").mkdir()
    (tmp_path / "conf").mkdir()
    config = tmp_path / "config.toml"
    config.write_text(f'[files.roots.conf]\npath = "{tmp_path / "conf"}"\n')
    settings = load_settings(
        config, **overrides_from(build_parser().parse_args(["serve", "--read-only", str(tmp_path / "cli")]))
    )
    assert set(settings.files.roots) == {"conf", "cli"} and all(r.read_only for r in settings.files.roots.values())
    monkeypatch.setenv("WORKBENCH_FILES__READ_ONLY", "true")  # what the bundle's read-only switch sets
    assert all(r.read_only for r in settings_for(str(tmp_path / "cli")).files.roots.values())


def test_an_empty_data_dir_is_the_default_one(tmp_path: Path) -> None:
    assert settings_for("--data-dir=").data_dir == load_settings(None).data_dir
    assert settings_for(f"--data-dir={tmp_path}").data_dir == tmp_path

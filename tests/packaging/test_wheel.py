"""``uv build`` makes a wheel and an sdist of this version, and the wheel runs: installed with
``uvx --from <wheel>`` in a fresh HOME, its server completes a handshake in both eras."""

from __future__ import annotations

import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest

from mcp_workbench.cli.install.entries import Launch
from mcp_workbench.cli.install.verify import check_sync
from tests.packaging.tooling import ROOT, Dist, Pins, fresh_env

pytestmark = pytest.mark.timeout(900)
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def test_uv_build_makes_a_wheel_and_an_sdist_of_this_version(dist: Dist) -> None:
    version = PROJECT["version"]
    assert dist.wheel.name == f"mcp_workbench-{version}-py3-none-any.whl"
    assert dist.sdist.name == f"mcp_workbench-{version}.tar.gz"
    with zipfile.ZipFile(dist.wheel) as wheel:
        names = set(wheel.namelist())
        info = f"mcp_workbench-{version}.dist-info"
        entry_points = wheel.read(f"{info}/entry_points.txt").decode()
        metadata = wheel.read(f"{info}/METADATA").decode()
    assert {
        "mcp_workbench/__main__.py",
        "mcp_workbench/cli/doctor/checks.py",
        "mcp_workbench/cli/bundle/icon.py",
    } <= names
    assert not any(n.startswith("tests/") for n in names)
    assert "mcp-workbench = mcp_workbench.cli.main:main" in entry_points
    assert "mcp-name: io.github." in metadata  # the README, with the registry's ownership line, is the description
    with tarfile.open(dist.sdist) as sdist:
        members = {m.name.split("/", 1)[1] for m in sdist.getmembers() if "/" in m.name}
    assert {"pyproject.toml", "uv.lock", "README.md", "src/mcp_workbench/server.py", "install.sh"} <= members


def test_the_wheel_runs_with_uvx_in_a_fresh_home(
    dist: Dist, uv: str, uv_cache: str, pins: Pins, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    uvx = Path(uv).with_name("uvx")
    runner = [str(uvx)] if uvx.is_file() else [uv, "tool", "run"]
    # no bytecode here: compiling 90 packages costs more than the two uncompiled starts it would save
    env = fresh_env(home, uv_cache, UV_COMPILE_BYTECODE="0", WORKBENCH_DATA_DIR=str(tmp_path / "data"))
    launch = Launch(
        runner[0],
        (*runner[1:], *pins.args(), "--from", str(dist.wheel), "mcp-workbench", "serve"),
        env,
    )
    results = check_sync(launch, 600)
    for result in results:
        assert result.ok, result.error
        assert [t.name for t in result.tool_list] == ["data_read", "data_write", "web_fetch", "analyze", "research"]
    assert [r.protocol for r in results] == ["2025-11-25", "2026-07-28"]
    assert not (home / ".local" / "share" / "uv" / "tools" / "mcp-workbench").exists()  # uvx installs no tool

"""The files a team copies: the systemd unit passes systemd-analyze and is hardened, and the
replica configuration is one the server accepts."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mcp_workbench.settings import load_settings
from tests.support.tools import require

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
UNIT = DEPLOY / "systemd" / "mcp-workbench.service"
INSTALLED_PROGRAM = "/opt/mcp-workbench/.venv/bin/mcp-workbench"
MOST_EXPOSURE = 2.0  # systemd-analyze security's scale: 0 (locked down) to 10 (unprotected)


@pytest.fixture
def unit_here(tmp_path: Path) -> Path:
    """The unit as installed on this machine: ExecStart names the program that exists here
    (systemd-analyze verify checks that it does)."""
    program = shutil.which("mcp-workbench") or str(Path(sys.executable).with_name("mcp-workbench"))
    text = UNIT.read_text(encoding="utf-8")
    assert INSTALLED_PROGRAM in text
    unit = tmp_path / UNIT.name
    unit.write_text(text.replace(INSTALLED_PROGRAM, program), encoding="utf-8")
    return unit


def test_systemd_analyze_verifies_the_unit_without_a_warning(unit_here: Path) -> None:
    analyze = require("systemd-analyze", debian_package="systemd")
    done = subprocess.run([analyze, "verify", unit_here], capture_output=True, text=True, timeout=120, check=False)
    assert (done.returncode, done.stderr.strip()) == (0, ""), done.stderr


def test_the_unit_is_hardened(unit_here: Path) -> None:
    analyze = require("systemd-analyze", debian_package="systemd")
    done = subprocess.run(
        [analyze, "security", "--offline=yes", f"--threshold={int(MOST_EXPOSURE * 10)}", unit_here],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    exposure = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", done.stdout)
    assert exposure is not None, done.stdout + done.stderr
    assert done.returncode == 0 and float(exposure[1]) <= MOST_EXPOSURE, done.stdout[-2000:]


def test_the_unit_runs_as_its_own_user_with_its_data_as_state_directory() -> None:
    settings = dict(
        line.split("=", 1) for line in UNIT.read_text(encoding="utf-8").splitlines() if re.match(r"^[A-Z]\w+=", line)
    )
    assert settings["User"] == "mcp-workbench" and settings["StateDirectory"] == "mcp-workbench"
    assert settings["ProtectSystem"] == "strict" and settings["NoNewPrivileges"] == "yes"
    assert "WORKBENCH_DATA_DIR=/var/lib/mcp-workbench" in UNIT.read_text(encoding="utf-8")
    assert int(settings["TimeoutStopSec"]) > 20  # longer than the default shutdown grace
    sysusers = (DEPLOY / "systemd" / "mcp-workbench.sysusers.conf").read_text(encoding="utf-8")
    assert re.search(r"^u mcp-workbench ", sysusers, re.MULTILINE)


def test_the_replica_configuration_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings(DEPLOY / "config" / "replicas.toml", data_dir=tmp_path)
    assert settings.limits.storage.startswith("redis://") and settings.http.stateless
    assert {name: s.url.split("://")[0] for name, s in settings.sources().items()} == {
        "workspace": "postgresql",
        "analytics": "postgresql",
    }
    assert settings.backup.interval is None and settings.backup.keep == 14
    monkeypatch.setenv("WORKBENCH_BACKUP__INTERVAL", "6h")  # the one replica that backs up, as the file says
    one = load_settings(DEPLOY / "config" / "replicas.toml", data_dir=tmp_path)
    assert (one.backup.interval, one.backup.keep) == (6 * 3600, 14)

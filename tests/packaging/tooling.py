"""What the packaging tests share besides fixtures: the checkout, the dist files, the lock as uv
pins, a fresh user's environment, and running a command that must succeed."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Settings of the machine's network that a fresh HOME still needs (a proxy, a CA bundle, a mirror).
PASSED_THROUGH = (
    "SSL_",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "ALL_PROXY",
    "UV_INDEX",
    "UV_DEFAULT_INDEX",
    "UV_EXTRA_INDEX_URL",
    "UV_NATIVE_TLS",
    "UV_INSECURE_HOST",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
)


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def missing(reason: str) -> NoReturn:
    if in_ci():
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def run(argv: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    kw.setdefault("timeout", 600)
    proc = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False, **kw)  # type: ignore[call-overload]
    assert proc.returncode == 0, f"{argv} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
    return proc


@dataclass(frozen=True)
class Dist:
    wheel: Path
    sdist: Path


@dataclass(frozen=True)
class Pins:
    """The lock as uv constraints, and pyproject's ``override-dependencies`` as uv overrides (a lock
    export cannot be the overrides: an override drops the extras other packages ask for)."""

    constraints: Path
    overrides: Path

    def args(self) -> tuple[str, ...]:
        return ("--constraints", str(self.constraints), "--overrides", str(self.overrides))

    def env(self) -> dict[str, str]:
        return {"UV_CONSTRAINT": str(self.constraints), "UV_OVERRIDE": str(self.overrides)}


def fresh_env(home: Path, uv_cache: str, *, path: str = "/usr/local/bin:/usr/bin:/bin", **extra: str) -> dict[str, str]:
    """A new user's environment: its own HOME and XDG directories, the machine's uv cache and network
    settings, this suite's Python for uv to build environments from, nothing else."""
    env = {k: v for k, v in os.environ.items() if k.upper().startswith(PASSED_THROUGH)}
    env.update(
        {
            "HOME": str(home),
            "USERPROFILE": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_DATA_HOME": str(home / ".local" / "share"),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "XDG_STATE_HOME": str(home / ".local" / "state"),
            "PATH": path,
            "LANG": "C.UTF-8",
            "UV_CACHE_DIR": uv_cache,
            "UV_PYTHON": sys.executable,
            "UV_NO_PROGRESS": "1",
        }
    )
    env.update(extra)
    return env

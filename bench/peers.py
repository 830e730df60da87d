"""Installing what the benchmark compares against, into bench-local places only.

- npm peers and a Node 22 runtime: ``npm ci --prefix bench/node`` (package-lock.json pins them);
- the reference Python servers, each in its own venv under ``bench/.venvs/`` (uv);
- readabilipy's Node helper (mcp-server-fetch runs Readability.js through it when Node is on
  PATH; readabilipy would otherwise npm-install it during the first fetch);
- ripgrep: the Debian package, installed with apt-get when missing and we are root;
  otherwise the search floor falls back to ``grep -r`` / ``find`` and the report says so.
"""

from __future__ import annotations

import os
import shutil
import subprocess

from bench.subjects import BENCH, NODE, NODE_MODULES, VENVS

PYTHON_PEERS = {
    # mcp-server-sqlite's last release calls Server.list_resources(), gone in mcp 2.x: it needs mcp<2.
    "sqlite": ["mcp-server-sqlite==2025.4.25", "mcp<2"],
    "fetch": ["mcp-server-fetch==2026.10.24"],
}


def _run(argv: list[str], **kwargs: object) -> None:
    print("  $", " ".join(argv), flush=True)  # noqa: T201 - the benchmark reports on stdout
    subprocess.run(argv, check=True, **kwargs)  # type: ignore[call-overload]


def install(log: list[str]) -> dict[str, str | None]:
    """Install what is missing; returns the search floor (``{"grep": path, "kind": ...}``)."""
    node_dir = BENCH / "node"
    if not (NODE.exists() and (NODE_MODULES / ".package-lock.json").exists()):
        _run(["npm", "ci", "--prefix", str(node_dir), "--no-audit", "--no-fund"])
    uv = shutil.which("uv")
    for name, requirements in PYTHON_PEERS.items():
        venv = VENVS / name
        marker = venv / ".bench-requirements"
        if marker.exists() and marker.read_text() == "\n".join(requirements):
            continue
        if uv is None:
            raise SystemExit("uv is needed to install the Python peers (pip install uv)")
        _run([uv, "venv", "-q", "--clear", "--python", "3.11", str(venv)])
        _run(
            [uv, "pip", "install", "-q", "--compile-bytecode", "--python", str(venv / "bin" / "python"), *requirements]
        )
        marker.write_text("\n".join(requirements))
    readability = next((VENVS / "fetch").glob("lib/python*/site-packages/readabilipy/javascript"), None)
    if readability is not None and not (readability / "node_modules").exists() and shutil.which("node"):
        _run(["npm", "install", "--prefix", str(readability), "--no-audit", "--no-fund"], stdout=subprocess.DEVNULL)
    return _ripgrep(log)


def _ripgrep(log: list[str]) -> dict[str, str | None]:
    rg = shutil.which("rg")
    if rg is None and shutil.which("apt-get") and os.geteuid() == 0:
        log.append("ripgrep was missing and was installed with apt-get (Debian package 'ripgrep').")
        try:
            _run(["apt-get", "install", "-y", "-qq", "ripgrep"], stdout=subprocess.DEVNULL)
        except subprocess.CalledProcessError:
            try:
                _run(["apt-get", "update", "-qq"], stdout=subprocess.DEVNULL)
                _run(["apt-get", "install", "-y", "-qq", "ripgrep"], stdout=subprocess.DEVNULL)
            except subprocess.CalledProcessError:
                pass
        rg = shutil.which("rg")
    if rg is not None:
        version = subprocess.run([rg, "--version"], capture_output=True, text=True, check=False).stdout.split("\n")[0]
        return {"grep": rg, "kind": "ripgrep", "version": version}
    log.append("ripgrep is not available: the search floor is grep -r / find instead.")
    return {"grep": shutil.which("grep") or "grep", "kind": "grep", "version": None}


def versions() -> dict[str, str]:
    """Versions of the peers as installed."""
    import json

    out: dict[str, str] = {}
    for package in ("@bytebase/dbhub", "@modelcontextprotocol/server-filesystem"):
        meta = NODE_MODULES / package / "package.json"
        if meta.exists():
            out[package] = json.loads(meta.read_text())["version"]
    if NODE.exists():
        out["node (peers)"] = subprocess.run(
            [str(NODE), "--version"], capture_output=True, text=True, check=False
        ).stdout.strip()
    for name in PYTHON_PEERS:
        python = VENVS / name / "bin" / "python"
        if python.exists():
            probe = f"import importlib.metadata as m; print(m.version('mcp-server-{name}'), m.version('mcp'))"
            got = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, check=False).stdout.split()
            if len(got) == 2:
                out[f"mcp-server-{name}"] = f"{got[0]} (mcp {got[1]})"
    return out

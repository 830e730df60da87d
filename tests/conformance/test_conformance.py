"""The official MCP conformance suite (@modelcontextprotocol/conformance) against our server,
in both protocol eras.

Two versions of the suite are pinned in tests/conformance/package.json, together with a Node 22
runtime (the machine's own Node may be older; the suite needs >= 22); see nodepkgs.py:
- 0.1.16, the stable release (`@modelcontextprotocol/conformance`): the handshake era
  (initialize, sessions; up to 2025-11-25);
- 0.2.0-alpha.12, the newest prerelease, under the npm alias `conformance-next`: the sessionless
  2026-07-28 era, run as that revision's frozen requirement set (`--requirements 2026-07-28`).

The server is started once per module as a real subprocess speaking streamable HTTP on
127.0.0.1, exactly as a user would run it (one FastMCP server answers both eras):

    python -m mcp_workbench serve --transport http --host 127.0.0.1 --port PORT --no-auth

Each era's whole suite runs once per module (a few seconds; most of a CLI run is Node starting)
with `-o DIR`, so every scenario's checks are on disk. Each scenario a product server can pass is
its own test case, judged from its checks.json; one more test per era judges the run against
that era's baseline (expected-failures.yml, expected-failures-2026-07-28.yml) by the CLI's own
exit code, so a newly failing scenario, or a listed one that starts passing (a stale entry),
fails the build.

How the CLI reports.
0.1.16 (src/index.ts, src/expected-failures.ts):
- `server --scenario NAME` exits 1 when any check has status FAILURE, else 0. WARNING checks do
  NOT change the exit code there, so this module also reads the checks.json the CLI writes with
  `-o DIR` and treats WARNING as a failure (the baseline mode does the same).
- `server` without --scenario runs the active suite (30 scenarios); with `--expected-failures
  FILE` it exits 1 on an unexpected failure (FAILURE or WARNING in a scenario not listed) or on
  a stale entry (a listed scenario that passed), else 0.
0.2.0-alpha.12 (dist/index.js; its README "Conformance Requirements" and "Expected Failures"):
- `--requirements 2026-07-28` runs the scenarios requirements/2026-07-28.yaml lists (37 server
  scenarios scored, 13 more "not_scored": the tasks extension and pending ones), each at the
  2026-07-28 wire. It cannot be combined with --scenario, --suite or --spec-version.
- With `--expected-failures FILE` the exit code is the baseline's, judged over the scored
  scenarios only: 1 on an unexpected FAILURE or WARNING, or on a stale entry. Entries are
  scenario names or `scenario:check-id` (that one check excused, the rest enforced).
- Without --expected-failures it exits 1 on a FAILURE in a scored scenario only; this module
  reads checks.json and treats WARNING as failing, like the baseline mode does.
- Results go to DIR/server-SCENARIO-TIMESTAMP/checks.json (both versions).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pytest
import yaml

from tests.conformance.nodepkgs import HERE, NODE_MODULES, bin_entry, ensure_packages
from tests.support.timeouts import SUBPROCESSES
from tests.support.waiting import wait_until

REQUIREMENTS = "2026-07-28"


@dataclass(frozen=True)
class Suite:
    """One pinned version of the conformance CLI and how this module runs it."""

    package: str  # directory under node_modules
    baseline: Path  # its --expected-failures file
    suite_args: tuple[str, ...]  # added to `server --url URL`

    @property
    def package_dir(self) -> Path:
        return NODE_MODULES / self.package


HANDSHAKE = Suite(
    package="@modelcontextprotocol/conformance",
    baseline=HERE / "expected-failures.yml",
    suite_args=(),
)
SESSIONLESS = Suite(
    package="conformance-next",
    baseline=HERE / f"expected-failures-{REQUIREMENTS}.yml",
    suite_args=("--requirements", REQUIREMENTS),
)
EXPECTED_FAILURES = HANDSHAKE.baseline

# Scenarios our server must pass on its own merits (no suite fixture names needed), handshake era.
# (tools-call-simple-text and tools-call-error pass on any server without those fixture tools -
# "unknown tool" is an error text - so they prove nothing; the whole-suite test still runs them.)
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

# The same for the 2026-07-28 era. server-stateless runs here too: only its checks listed as
# `server-stateless:CHECK` in the baseline (they need a fixture tool) may fail. Left out because
# they pass vacuously (their fixture tool is simply unknown): tools-call-simple-text,
# tools-call-error, input-required-result-ignore-extra-params.
SCENARIOS_2026 = [
    "server-stateless",
    "completion-complete",
    "tools-list",
    "resources-list",
    "prompts-list",
    "server-sse-multiple-streams",
    "dns-rebinding-protection",
    "caching",
    "sep-2164-resource-not-found",
    "input-required-result-unsupported-methods",
    "input-required-result-validate-input",
    # run but not scored by the requirement set (pending against the suite's own fixture); a
    # product server can pass it, and ours does: keep it that way.
    "http-header-validation",
]

pytestmark = SUBPROCESSES

SERVER_START_TIMEOUT = 30.0  # seconds until the HTTP endpoint must answer
# seconds for one whole suite (pytest-timeout's default is 300 per test)
SUITE_TIMEOUT = 240.0

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _cli(suite: Suite) -> list[str]:
    node = ensure_packages(suite.package)
    return [str(node), str(bin_entry(suite.package, "conformance"))]


@pytest.fixture(scope="module")
def conformance_cli() -> list[str]:
    """argv prefix `[node22, .../dist/index.js]` of the stable suite; skips (fails under CI=true)
    when not installed."""
    return _cli(HANDSHAKE)


@pytest.fixture(scope="module")
def conformance_next_cli() -> list[str]:
    """The same for the prerelease that knows the 2026-07-28 requirement set."""
    return _cli(SESSIONLESS)


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
        with contextlib.suppress(AssertionError):  # the failure below says more, and retries
            wait_until(
                partial(_http_answers, port), "the server answers HTTP", timeout_s=SERVER_START_TIMEOUT, process=proc
            )
            return server
        server.stop()
        last_error = (
            f"server {'exited with ' + str(proc.returncode) if proc.returncode is not None else 'did not answer'}"
            f" within {SERVER_START_TIMEOUT:.0f}s: {' '.join(cmd)}\n--- server log ---\n{_tail(log)}"
        )
        if "address already in use" not in _tail(log).lower():
            break
    pytest.fail(last_error, pytrace=False)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Server]:
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


def _read_checks(out_dir: Path, scenario: str) -> list[dict]:
    """The checks one scenario recorded in a run's output directory."""
    # the scenario name is followed directly by the timestamp, so `tools-list` never matches
    # another scenario's directory that merely starts with it
    files = sorted(out_dir.glob(f"server-{scenario}-[0-9][0-9][0-9][0-9]-*/checks.json"))
    checks: list[dict] = []
    for f in files:
        checks.extend(json.loads(f.read_text(encoding="utf-8")))
    return checks


def _baseline_entries(suite: Suite) -> list[str]:
    document = yaml.safe_load(suite.baseline.read_text(encoding="utf-8")) or {}
    entries = document.get("server") or []
    assert all(isinstance(e, str) for e in entries), f"{suite.baseline}: `server` must be a list of strings"
    return entries


def _excused_checks(suite: Suite, scenario: str) -> set[str]:
    """Check ids of `scenario` that the baseline excuses one by one (`scenario:check-id`)."""
    prefix = f"{scenario}:"
    return {e[len(prefix) :] for e in _baseline_entries(suite) if e.startswith(prefix)}


@dataclass
class SuiteRun:
    suite: Suite
    server: _Server
    proc: subprocess.CompletedProcess[str]
    out_dir: Path

    def report(self) -> str:
        return _report(self.proc, self.server)


def _run_suite(suite: Suite, cli: list[str], server: _Server, out_dir: Path) -> SuiteRun:
    assert suite.baseline.is_file(), f"{suite.baseline} is missing"
    proc = _run_cli(
        cli,
        [
            "server",
            "--url",
            server.url,
            *suite.suite_args,
            "--expected-failures",
            str(suite.baseline),
            "-o",
            str(out_dir),
        ],
        SUITE_TIMEOUT,
    )
    return SuiteRun(suite, server, proc, out_dir)


@pytest.fixture(scope="module")
def handshake_run(conformance_cli: list[str], server: _Server, tmp_path_factory: pytest.TempPathFactory) -> SuiteRun:
    return _run_suite(HANDSHAKE, conformance_cli, server, tmp_path_factory.mktemp("handshake-results"))


@pytest.fixture(scope="module")
def sessionless_run(
    conformance_next_cli: list[str], server: _Server, tmp_path_factory: pytest.TempPathFactory
) -> SuiteRun:
    return _run_suite(SESSIONLESS, conformance_next_cli, server, tmp_path_factory.mktemp("2026-07-28-results"))


def _assert_scenario_passed(run: SuiteRun, scenario: str) -> None:
    checks = _read_checks(run.out_dir, scenario)
    excused = _excused_checks(run.suite, scenario)
    bad = [c for c in checks if c.get("status") in {"FAILURE", "WARNING"} and c.get("id") not in excused]
    if bad or not checks:
        summary = "\n".join(
            f"  {c.get('status')} {c.get('id')}: {c.get('errorMessage') or c.get('description')}\n"
            f"      details: {json.dumps(c.get('details'))[:1500]}"
            for c in bad
        )
        pytest.fail(
            f"conformance scenario {scenario!r} ({run.suite.package}) failed"
            f"{' (no checks recorded: the suite did not run it)' if not checks else ''}:\n{summary}\n"
            f"(the whole run's output is in the report of test_*_match*_expected_failures)\n"
            f"--- server log (tail) ---\n{_tail(run.server.log)}",
            pytrace=False,
        )


def _assert_matches_baseline(run: SuiteRun) -> None:
    if run.proc.returncode != 0 or "Baseline check passed" not in run.proc.stdout:
        args = " ".join(run.suite.suite_args)
        pytest.fail(
            f"the conformance suite ({run.suite.package}{' ' + args if args else ''}) does not match "
            f"tests/conformance/{run.suite.baseline.name} "
            "(see 'Unexpected failures' / 'Stale baseline entries' below)\n" + run.report(),
            pytrace=False,
        )


# --- handshake era: the stable suite's active scenarios --------------------------------------


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario(scenario: str, handshake_run: SuiteRun) -> None:
    _assert_scenario_passed(handshake_run, scenario)


def test_active_suite_matches_expected_failures(handshake_run: SuiteRun) -> None:
    _assert_matches_baseline(handshake_run)


# --- 2026-07-28 era: the prerelease's frozen requirement set ---------------------------------


@pytest.mark.parametrize("scenario", SCENARIOS_2026)
def test_scenario_2026_07_28(scenario: str, sessionless_run: SuiteRun) -> None:
    _assert_scenario_passed(sessionless_run, scenario)


def test_requirements_2026_07_28_match_expected_failures(sessionless_run: SuiteRun) -> None:
    _assert_matches_baseline(sessionless_run)


# --- the baselines themselves -----------------------------------------------------------------


def _required_2026_scenarios() -> list[str]:
    path = SESSIONLESS.package_dir / "requirements" / f"{REQUIREMENTS}.yaml"
    return list((yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("server") or [])


@pytest.mark.parametrize("suite", [HANDSHAKE, SESSIONLESS], ids=["handshake", REQUIREMENTS])
def test_baseline_entries_are_explained(suite: Suite) -> None:
    """Each entry says on its own line why it needs the suite's fixtures."""
    lines = [ln for ln in suite.baseline.read_text(encoding="utf-8").splitlines() if ln.lstrip().startswith("- ")]
    assert lines, f"{suite.baseline.name} lists nothing"
    unexplained = [ln.strip() for ln in lines if "#" not in ln or not ln.split("#", 1)[1].strip()]
    assert not unexplained, f"{suite.baseline.name}: entries without a one-line reason: {unexplained}"


def test_2026_baseline_names_scored_scenarios(conformance_next_cli: list[str]) -> None:
    """The CLI judges the baseline over the scored scenarios only and ignores any other name, so
    a misspelt or not-scored entry would silently excuse nothing: refuse those here."""
    required = set(_required_2026_scenarios())
    assert required, "the 2026-07-28 requirement set lists no server scenarios"
    unknown = [e for e in _baseline_entries(SESSIONLESS) if e.split(":", 1)[0] not in required]
    assert not unknown, f"{SESSIONLESS.baseline.name}: not scored by --requirements {REQUIREMENTS}: {unknown}"
    overlap = set(SCENARIOS_2026) & {e for e in _baseline_entries(SESSIONLESS) if ":" not in e}
    assert not overlap, f"listed as must-pass and as expected failures at once: {sorted(overlap)}"

"""The benchmark run: set up, then cold start, stdio calls, HTTP load and memory, side by side.

    uv run python -m bench            # full run (about 12-15 minutes)
    uv run python -m bench --quick    # reduced run (about 3 minutes)

Every comparison is measured in the same run, interleaved round by round (subject A, B, C,
then again), so a burst of noise on this shared machine lands on all of them alike. The
results go to ``bench/results/<timestamp>.json`` and ``.md`` (and ``latest.*``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench import backup, fixtures, memory, peers, proc, report, research
from bench.httpload import HANDSHAKE, MODERN, run_load
from bench.stats import median, summary_ms
from bench.stdio import StdioServer, cold_start
from bench.subjects import (
    ABLATIONS,
    BASE,
    BASELINE_SUBJECTS,
    BENCH,
    LABELS,
    REPO,
    Call,
    Workload,
    child_env,
    server_of,
    stdio_argv,
    with_baseline,
    workbench_config,
    workloads,
)

COLD_SUBJECTS = ["raw", "fastmcp", "workbench", "dbhub", "sqlite", "fetch", "filesystem"]
HTTP_LEVELS = (1, 10, 50)


@dataclass
class Plan:
    quick: bool
    cold_runs: int
    rounds: int
    http_seconds: float
    http_reps: int

    @classmethod
    def make(cls, quick: bool) -> Plan:
        if quick:
            return cls(quick=True, cold_runs=3, rounds=3, http_seconds=2.0, http_reps=1)
        return cls(quick=False, cold_runs=10, rounds=5, http_seconds=4.0, http_reps=3)


@dataclass
class Context:
    plan: Plan
    work: Path
    fx: fixtures.Fixtures
    config: Path
    env: dict[str, str]
    web: str
    floor: dict[str, str | None]
    notes: list[str] = field(default_factory=list)
    workloads: list[str] | None = None  # stdio work to run, by key (None: all)
    baseline: str | None = None  # another interpreter whose FastMCP and workbench run beside ours

    def server(self, name: str, tag: str = "") -> StdioServer:
        return StdioServer(
            name,
            stdio_argv(name, self.fx, self.config, self.baseline),
            self.env,
            REPO,
            self.work / "logs" / f"{name}{tag}.log",
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, proc_: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc_.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with {proc_.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def say(*parts: object) -> None:
    print(*parts, flush=True)


# -- machine ------------------------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])

    def version_of(dist: str) -> str | None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version(dist)
        except PackageNotFoundError:
            return None

    git = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    )
    dirty = subprocess.run(
        ["git", "-C", str(REPO), "status", "--porcelain", "src"], capture_output=True, text=True, check=False
    )
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "node_system": shutil.which("node")
        and subprocess.run(["node", "--version"], capture_output=True, text=True, check=False).stdout.strip(),
        "fastmcp": version_of("fastmcp"),
        "mcp": version_of("mcp"),
        "uvicorn": version_of("uvicorn"),
        "mcp-workbench": version_of("mcp-workbench"),
        "commit": git.stdout.strip() + (" + uncommitted changes in src/" if dirty.stdout.strip() else ""),
    }


def baseline_info(python: str) -> dict[str, Any]:
    """What the baseline interpreter runs: its FastMCP and the commit its mcp_workbench comes from."""
    probe = (
        "import json, importlib.metadata as m, pathlib, mcp_workbench; "
        "print(json.dumps([m.version('fastmcp'), m.version('mcp'), str(pathlib.Path(mcp_workbench.__file__).parent)]))"
    )
    out = subprocess.run([python, "-c", probe], capture_output=True, text=True, check=True).stdout
    fastmcp_version, mcp_version, package = json.loads(out)
    git = subprocess.run(
        ["git", "-C", package, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    )
    return {"python": python, "fastmcp": fastmcp_version, "mcp": mcp_version, "commit": git.stdout.strip()}


def baseline_labels(base: dict[str, Any]) -> dict[str, str]:
    return {
        name + BASE: f"{LABELS[name]}, baseline (FastMCP {base['fastmcp']}, {base['commit']})"
        for name in BASELINE_SUBJECTS
    }


def load_snapshot(label: str) -> dict[str, Any]:
    one, five, fifteen = proc.loadavg()
    return {"at": label, "time": time.strftime("%H:%M:%S"), "load1": one, "load5": five, "load15": fifteen}


# -- cold start ---------------------------------------------------------------------------------


def cold_phase(ctx: Context) -> dict[str, Any]:
    say(f"\n== cold start: spawn -> tools/list answered, {ctx.plan.cold_runs} runs each, interleaved")
    subjects = [s for s in COLD_SUBJECTS if _available(s)]
    if ctx.baseline:
        subjects += [name + BASE for name in BASELINE_SUBJECTS]
    for name in subjects:  # untimed: writes byte code, warms the page cache
        server = ctx.server(name, "-cold")
        cold_start(server)
        server.stop()
    runs: dict[str, list[float]] = {s: [] for s in subjects}
    tools: dict[str, int] = {}
    rss: dict[str, list[float]] = {s: [] for s in subjects}
    for rep in range(ctx.plan.cold_runs):
        order = subjects[rep % len(subjects) :] + subjects[: rep % len(subjects)]
        for name in order:
            server = ctx.server(name, "-cold")
            seconds, count = cold_start(server)
            rss[name].append(server.memory().rss_mb)
            server.stop()
            runs[name].append(seconds)
            tools[name] = count
        say(f"  run {rep + 1}: " + ", ".join(f"{s} {runs[s][-1] * 1000:.0f} ms" for s in subjects))
    return {
        name: {
            "median_ms": median(runs[name]) * 1000,
            "paired_ratio_to_fastmcp": median([a / b for a, b in zip(runs[name], runs["fastmcp"], strict=True)]),
            "runs_ms": [round(r * 1000, 1) for r in runs[name]],
            "tools": tools[name],
            "rss_at_tools_list_mb": median(rss[name]),
        }
        for name in subjects
    }


def _available(name: str) -> bool:
    from bench.subjects import NODE, VENVS

    if name in ("dbhub", "filesystem"):
        return NODE.exists()
    if name in ("sqlite", "fetch"):
        return (VENVS / name / "bin" / "python").exists()
    return True


# -- stdio calls --------------------------------------------------------------------------------


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    cpu_s: float = 0.0
    calls: int = 0
    block_cpu_ms: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str | None = None
    counter: int = 0  # distinct i for args(i): URLs stay new across warm-up and blocks
    answer_bytes: list[int] = field(default_factory=list)

    def fail(self, why: str) -> None:
        self.errors += 1
        self.first_error = self.first_error or why


def _block(ctx: Context, servers: dict[str, StdioServer], call: Call, size: int, tally: Tally, *, timed: bool) -> None:
    if call.command is not None:
        _command_block(call, size, tally, timed=timed)
        return
    server = servers[server_of(call.subject)]
    cpu0 = server.cpu_seconds()
    for _ in range(size):
        tally.counter += 1
        reply = server.call(call.tool, call.args(tally.counter))
        if not timed:
            if reply.failed:
                tally.fail(reply.failed)
            continue
        tally.latencies.append(reply.seconds)
        tally.answer_bytes.append(reply.size)
        why = reply.failed or (call.check(reply) if call.check else None)
        if why:
            tally.fail(why)
    if timed:
        spent = server.cpu_seconds() - cpu0
        tally.cpu_s += spent
        tally.calls += size
        tally.block_cpu_ms.append(spent / size * 1000)
    del ctx


def _command_block(call: Call, size: int, tally: Tally, *, timed: bool) -> None:
    assert call.command is not None
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    for _ in range(size):
        tally.counter += 1
        started = time.perf_counter()
        done = subprocess.run(call.command(tally.counter), capture_output=True, check=False)
        elapsed = time.perf_counter() - started
        if not timed:
            continue
        tally.latencies.append(elapsed)
        tally.answer_bytes.append(len(done.stdout))
        why = call.command_check(done.stdout) if call.command_check else None
        if why:
            tally.fail(why)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if timed:
        spent = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        tally.cpu_s += spent
        tally.calls += size
        tally.block_cpu_ms.append(spent / size * 1000)


def stdio_phase(ctx: Context) -> tuple[dict[str, Any], dict[str, Any]]:
    plan = ctx.plan
    grep = ctx.floor.get("grep")
    kind = ctx.floor.get("kind") or "grep"
    wls = workloads(ctx.fx, ctx.web, ctx.fx.facts(), [grep] if grep else None, kind)
    if ctx.workloads:
        wls = [w for w in wls if w.key in ctx.workloads]
    if ctx.baseline:
        for w in wls:
            with_baseline(w)
    needed = sorted({server_of(c.subject) for w in wls for c in w.calls if c.command is None})
    needed = [n for n in needed if _available(n)]
    say(f"\n== stdio: {', '.join(needed)}; {plan.rounds} interleaved rounds per piece of work")
    servers: dict[str, StdioServer] = {}
    tool_names: dict[str, set[str]] = {}
    for name in needed:
        server = ctx.server(name).start()
        server.initialize()
        tool_names[name] = {t["name"] for t in server.list_tools()}
        servers[name] = server
    time.sleep(1.5)
    memory: dict[str, Any] = {name: {"idle": asdict(s.memory())} for name, s in servers.items()}

    active: list[Workload] = []
    for w in wls:
        calls = []
        for c in w.calls:
            if c.command is None and (
                server_of(c.subject) not in servers or c.tool not in tool_names[server_of(c.subject)]
            ):
                ctx.notes.append(f"{w.key}: {c.subject} skipped ({c.tool} not offered)")
                continue
            calls.append(c)
        if len(calls) > 1 or (calls and calls[0].subject == w.ours):
            w.calls = calls
            active.append(w)

    tallies: dict[str, dict[str, Tally]] = {w.key: {c.subject: Tally() for c in w.calls} for w in active}
    for w in active:  # warm-up: first-use costs (imports, caches, worker processes) stay out
        for c in w.calls:
            _block(ctx, servers, c, w.warmup, tallies[w.key][c.subject], timed=False)
    most = max([plan.rounds] + [w.rounds[0 if plan.quick else 1] for w in active if w.rounds])
    for rnd in range(most):
        started = time.perf_counter()
        for w in active:
            if rnd >= (w.rounds[0 if plan.quick else 1] if w.rounds else plan.rounds):
                continue
            size = w.per_block[0 if plan.quick else 1]
            order = w.calls[rnd % len(w.calls) :] + w.calls[: rnd % len(w.calls)]
            for c in order:
                _block(ctx, servers, c, size, tallies[w.key][c.subject], timed=True)
        say(f"  round {rnd + 1}/{most} done in {time.perf_counter() - started:.0f} s")

    for name, server in servers.items():
        memory[name]["after"] = asdict(server.memory())
        for note in server.notes[:3]:
            ctx.notes.append(f"{name}: {note}")
        server.stop()

    results: dict[str, Any] = {}
    for w in active:
        entry: dict[str, Any] = {"title": w.title, "ours": w.ours, "subjects": {}}
        for c in w.calls:
            t = tallies[w.key][c.subject]
            entry["subjects"][c.subject] = {
                "latency_ms": summary_ms(t.latencies),
                "cpu_ms_per_call": t.cpu_s / t.calls * 1000 if t.calls else None,
                "block_cpu_ms": [round(v, 3) for v in t.block_cpu_ms],
                "answer_kb": median(t.answer_bytes) / 1024 if t.answer_bytes else None,
                "errors": t.errors,
                "first_error": t.first_error,
                "note": c.note,
            }
            say(
                f"  {w.key:17} {c.subject:14} p50 {entry['subjects'][c.subject]['latency_ms'].get('p50', 0):9.2f} ms"
                f"  cpu/call {entry['subjects'][c.subject]['cpu_ms_per_call'] or 0:9.3f} ms"
                + (f"  ERRORS {t.errors}: {t.first_error}" if t.errors else "")
            )
        results[w.key] = entry
    return results, memory


# -- HTTP ---------------------------------------------------------------------------------------


@dataclass
class HttpServer:
    key: str
    argv: list[str]
    env: dict[str, str]
    port: int
    probe: str
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=REPO,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )

    def ready(self) -> None:
        assert self.proc is not None
        wait_http(self.probe, self.proc)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@dataclass
class ClientConfig:
    key: str
    server: str
    era: str
    tool: str
    arguments: dict[str, Any]
    auth: bool
    label: str


def http_setups(ctx: Context) -> tuple[dict[str, tuple[list[str], dict[str, str], str]], list[ClientConfig]]:
    """The HTTP servers to start (argv with ``{port}``, environment, readiness path) and the client set-ups."""
    py = sys.executable
    serve = [py, "-m", "mcp_workbench", "serve", "--config", str(ctx.config), "--transport", "http"]
    echo = [py, "-m", "bench.servers.echo_fastmcp"]
    specs: dict[str, tuple[list[str], dict[str, str], str]] = {}

    def add(name: str, argv: list[str], env: dict[str, str] | None = None, probe: str = "/livez") -> None:
        specs[name] = (argv, {**ctx.env, **(env or {})}, probe)

    add("fastmcp-1", [*echo, "--http", "{port}"], probe="/mcp")
    add("fastmcp-2", [*echo, "--http", "{port}", "--workers", "2"], probe="/mcp")
    add("fastmcp-2-nodelay", [*echo, "--http", "{port}", "--workers", "2", "--nodelay"], probe="/mcp")
    add("workbench-1", [*serve, "--port", "{port}"])
    add("workbench-1-stateless", [*serve, "--port", "{port}"], {"WORKBENCH_HTTP__STATELESS": "true"})
    # The product's own workers: one SO_REUSEPORT + TCP_NODELAY socket each (mcp_workbench.cli.workers).
    add("workbench-2", [*serve, "--port", "{port}", "--workers", "2"])
    add("fastmcp-2-reuseport", [*echo, "--http", "{port}", "--workers", "2", "--reuseport"], probe="/mcp")
    if not ctx.plan.quick:
        add("fastmcp-1-stateless", [*echo, "--http", "{port}", "--stateless"], probe="/mcp")
        add("workbench-1-noauth", [*serve, "--port", "{port}", "--no-auth"])
    echo_call = ("echo", {"text": "hello"})
    trivial = ("data_read", {"operation": "sources"})
    table = [  # key, server, era, call, API key?, label
        ("fastmcp-1", "fastmcp-1", HANDSHAKE, echo_call, False, "bare FastMCP, 1 process, stateful"),
        (
            "fastmcp-1-stateless",
            "fastmcp-1-stateless",
            HANDSHAKE,
            echo_call,
            False,
            "bare FastMCP, 1 process, stateless",
        ),
        ("fastmcp-2", "fastmcp-2", HANDSHAKE, echo_call, False, "bare FastMCP, uvicorn 2 workers (stateless)"),
        (
            "fastmcp-2-nodelay",
            "fastmcp-2-nodelay",
            HANDSHAKE,
            echo_call,
            False,
            "bare FastMCP, 2 workers + TCP_NODELAY fix",
        ),
        ("workbench-1", "workbench-1", HANDSHAKE, trivial, True, "workbench, 1 process, stateful, API key"),
        (
            "workbench-1-noauth",
            "workbench-1-noauth",
            HANDSHAKE,
            trivial,
            False,
            "workbench, 1 process, stateful, --no-auth",
        ),
        (
            "workbench-1-stateless",
            "workbench-1-stateless",
            HANDSHAKE,
            trivial,
            True,
            "workbench, 1 process, stateless, API key",
        ),
        (
            "workbench-2",
            "workbench-2",
            HANDSHAKE,
            trivial,
            True,
            "workbench, --workers 2 (stateless; SO_REUSEPORT + TCP_NODELAY), API key",
        ),
        (
            "fastmcp-2-reuseport",
            "fastmcp-2-reuseport",
            HANDSHAKE,
            echo_call,
            False,
            "bare FastMCP, 2 workers, SO_REUSEPORT + TCP_NODELAY",
        ),
        (
            "workbench-1-modern",
            "workbench-1",
            MODERN,
            trivial,
            True,
            "workbench, 1 process, 2026-07-28 era (Mcp-Param schema lookup built in), API key",
        ),
    ]
    clients = [
        ClientConfig(key, server, era, call[0], call[1], auth, label)
        for key, server, era, call, auth, label in table
        if server in specs and (not ctx.plan.quick or era == HANDSHAKE)
    ]
    return specs, clients


def http_phase(ctx: Context) -> dict[str, Any]:
    plan = ctx.plan
    key = _make_key(ctx)
    specs, clients = http_setups(ctx)
    say(
        f"\n== HTTP: {len(clients)} client set-ups x {HTTP_LEVELS} clients x {plan.http_seconds:g} s"
        f" x {plan.http_reps} rep(s)"
    )
    servers: dict[str, HttpServer] = {}
    try:
        for name, (argv, env, probe) in specs.items():
            port = free_port()
            servers[name] = HttpServer(
                name,
                [a.replace("{port}", str(port)) for a in argv],
                env,
                port,
                f"http://127.0.0.1:{port}{probe}",
                ctx.work / "logs" / f"http-{name}.log",
            )
            servers[name].start()
        for server in servers.values():
            server.ready()
        memory: dict[str, Any] = {}
        for c in clients:  # warm every server (both workers), then let it settle
            _load(ctx, servers[c.server], c, key, clients=10, seconds=1.0)
        time.sleep(1.5)
        for name, server in servers.items():
            assert server.proc is not None
            memory[name] = {"idle": asdict(proc.memory(server.proc.pid))}
        runs: dict[str, dict[int, list[dict[str, Any]]]] = {c.key: {n: [] for n in HTTP_LEVELS} for c in clients}
        for rep in range(plan.http_reps):
            for level in HTTP_LEVELS:
                order = clients[rep % len(clients) :] + clients[: rep % len(clients)]
                for c in order:
                    outcome = _load(ctx, servers[c.server], c, key, clients=level, seconds=plan.http_seconds)
                    runs[c.key][level].append(outcome)
                say(
                    f"  rep {rep + 1} x{level:<3}"
                    + "  ".join(f"{c.key} {runs[c.key][level][-1]['calls_per_s']:.0f}/s" for c in clients)
                )
        for name, server in servers.items():
            assert server.proc is not None
            memory[name]["after"] = asdict(proc.memory(server.proc.pid))
    finally:
        for server in servers.values():
            server.stop()
    results: dict[str, Any] = {"configs": {}, "memory": memory}
    for c in clients:
        levels = {str(level): _summarise(outcomes) for level, outcomes in runs[c.key].items()}
        results["configs"][c.key] = {"label": c.label, "server": c.server, "era": c.era, "levels": levels}
    return results


def _summarise(outcomes: list[dict[str, Any]]) -> dict[str, Any]:
    middle = sorted(outcomes, key=lambda o: o["calls_per_s"])[len(outcomes) // 2]  # the median rep
    return {
        "calls_per_s": median([o["calls_per_s"] for o in outcomes]),
        "reps_calls_per_s": [round(o["calls_per_s"], 1) for o in outcomes],
        "latency_ms": middle["latency_ms"],
        "server_cpu_ms_per_call": median([o["server_cpu_ms_per_call"] for o in outcomes]),
        "client_cpu_share": median([o["client_cpu_share"] for o in outcomes]),
        "server_cpu_share": median([o["server_cpu_share"] for o in outcomes]),
        "busiest_process_share": median([o.get("busiest_process_share", 1.0) for o in outcomes]),
        "errors": sum(o["errors"] for o in outcomes),
        "first_error": next((o["first_error"] for o in outcomes if o["first_error"]), None),
    }


def _load(
    ctx: Context, server: HttpServer, c: ClientConfig, key: str, *, clients: int, seconds: float
) -> dict[str, Any]:
    assert server.proc is not None
    pid = server.proc.pid
    marks: dict[str, float] = {}

    split: dict[str, dict[int, float]] = {}

    def on_start() -> None:
        marks["cpu0"] = proc.cpu_seconds(pid)
        split["before"] = proc.cpu_by_process(pid)

    headers = {"Authorization": f"Bearer {key}"} if c.auth else {}
    result = asyncio.run(
        run_load(
            host="127.0.0.1",
            port=server.port,
            path="/mcp",
            headers=headers,
            era=c.era,
            tool=c.tool,
            arguments=c.arguments,
            clients=clients,
            seconds=seconds,
            on_start=on_start,
        )
    )
    server_cpu = proc.cpu_seconds(pid) - marks["cpu0"]
    after = proc.cpu_by_process(pid)
    per_process = [after[p] - split["before"].get(p, 0.0) for p in after]
    busiest = max(per_process) / max(sum(per_process), 1e-9) if len(per_process) > 1 else 1.0
    if result.errors:
        ctx.notes.append(f"HTTP {c.key} x{clients}: {result.errors} failed calls, first: {result.first_error}")
    return {
        "calls_per_s": result.calls_per_s,
        "calls": result.calls,
        "latency_ms": summary_ms(result.latencies),
        "server_cpu_ms_per_call": server_cpu / max(1, result.calls) * 1000,
        "server_cpu_share": server_cpu / result.seconds / (os.cpu_count() or 1),
        "client_cpu_share": result.client_cpu_s / result.seconds / (os.cpu_count() or 1),
        "busiest_process_share": busiest,
        "errors": result.errors,
        "first_error": result.first_error,
    }


def _make_key(ctx: Context) -> str:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mcp_workbench",
            "keys",
            "create",
            "--config",
            str(ctx.config),
            "--name",
            "bench",
            "--scopes",
            "*",
        ],
        env=ctx.env,
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    return done.stdout.strip().splitlines()[-1]


# -- targets ------------------------------------------------------------------------------------


def research_phase(plan: Plan, results: dict[str, Any]) -> None:
    say("\n== research: every source faked at 200 ms latency with its pacing, one standard run per question")
    results["research"] = research.run(quick=plan.quick, shared=True, say=say)
    results["meta"]["load"].append(load_snapshot("after research"))


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []

    def add(name: str, ratio: float | None, limit: float, direction: str, detail: str) -> None:
        if ratio is None:
            out.append({"target": name, "ratio": None, "limit": limit, "met": None, "detail": detail})
            return
        met = ratio <= limit if direction == "<=" else ratio >= limit
        out.append(
            {
                "target": name,
                "ratio": ratio,
                "limit": limit,
                "direction": direction,
                "met": met,
                "margin": (limit / ratio - 1) if direction == "<=" else (ratio / limit - 1),
                "detail": detail,
            }
        )

    cold = results.get("cold_start") or {}
    if "workbench" in cold and "fastmcp" in cold:
        wb, fm = cold["workbench"]["median_ms"], cold["fastmcp"]["median_ms"]
        add(
            "cold start <= 1.15x bare FastMCP",
            cold["workbench"].get("paired_ratio_to_fastmcp", wb / fm),
            1.15,
            "<=",
            f"median of per-run ratios (runs interleaved); medians {wb:.0f} ms vs {fm:.0f} ms",
        )
    stdio = results.get("stdio") or {}
    trivial = (stdio.get("trivial") or {}).get("subjects", {})
    if "workbench" in trivial and "fastmcp" in trivial:
        wb, fm = trivial["workbench"]["cpu_ms_per_call"], trivial["fastmcp"]["cpu_ms_per_call"]
        rounds = [
            a / b
            for a, b in zip(trivial["workbench"]["block_cpu_ms"], trivial["fastmcp"]["block_cpu_ms"], strict=True)
            if b
        ]
        add(
            "server CPU per trivial call <= 1.15x bare FastMCP (stdio)",
            median(rounds) if rounds else wb / fm,
            1.15,
            "<=",
            f"median of per-round ratios; totals {wb:.3f} vs {fm:.3f} ms/call ({wb / fm:.2f}x)",
        )
    floors = {"raw", "fastmcp", "fastmcp-4mw", "ripgrep", "grep", "workbench-sql"} | set(ABLATIONS)
    for key, entry in stdio.items():
        if key == "trivial":
            continue
        subjects = entry["subjects"]
        ours = subjects.get("workbench")
        if not ours or not ours["latency_ms"].get("n"):
            continue
        peers_ = {
            k: v for k, v in subjects.items() if k not in floors and k != "workbench" and v["latency_ms"].get("n")
        }
        if peers_:
            best = min(peers_, key=lambda k: peers_[k]["latency_ms"]["p50"])
            add(
                f"{key}: at least as fast as the fastest peer ({best})",
                ours["latency_ms"]["p50"] / peers_[best]["latency_ms"]["p50"],
                1.0,
                "<=",
                f"p50 {ours['latency_ms']['p50']:.1f} ms vs {peers_[best]['latency_ms']['p50']:.1f} ms",
            )
        for floor in ("ripgrep", "grep"):
            if key == "search_content" and floor in subjects and subjects[floor]["latency_ms"].get("n"):
                add(
                    f"search_content: within 3x of {floor}",
                    ours["latency_ms"]["p50"] / subjects[floor]["latency_ms"]["p50"],
                    3.0,
                    "<=",
                    f"p50 {ours['latency_ms']['p50']:.0f} ms vs {subjects[floor]['latency_ms']['p50']:.0f} ms",
                )
    http = (results.get("http") or {}).get("configs") or {}
    for two_key, base in (
        ("workbench-2", "workbench-1-stateless"),
        ("workbench-2", "workbench-1"),
    ):
        if two_key in http and base in http:
            for level in ("10", "50"):
                two_reps = http[two_key]["levels"][level]["reps_calls_per_s"]
                one_reps = http[base]["levels"][level]["reps_calls_per_s"]
                paired = [a / b for a, b in zip(two_reps, one_reps, strict=True) if b]
                two = http[two_key]["levels"][level]["calls_per_s"]
                one = http[base]["levels"][level]["calls_per_s"]
                add(
                    f"HTTP x{level}: {two_key} >= 1.8x {base}",
                    median(paired) if paired else two / one,
                    1.8,
                    ">=",
                    f"median of per-rep ratios; medians {two:.0f} vs {one:.0f} calls/s",
                )
    memory = results.get("memory") or {}
    if "workbench" in memory and "fastmcp" in memory:
        wb, fm = memory["workbench"]["idle"]["rss_mb"], memory["fastmcp"]["idle"]["rss_mb"]
        add("idle RSS <= 1.3x bare FastMCP (stdio)", wb / fm, 1.3, "<=", f"{wb:.0f} MB vs {fm:.0f} MB")
    research_run = results.get("research")
    if research_run:
        ratio = research_run["ratio"]
        add(
            "research wall time vs the slowest source's unavoidable minimum (median run)",
            ratio["median"],
            ratio["target"],
            "<=",
            f"{research_run['wall_s']['median']:.2f} s vs {research_run['slowest_minimum_s']['median']:.2f} s; "
            f"p90 {ratio['p90']:.2f}×",
        )
    return out


# -- main ---------------------------------------------------------------------------------------


def prepare(work: Path, plan: Plan, floor: dict[str, str | None], notes: list[str]) -> tuple[Context, Any]:
    """Fresh state, the fixtures, the loopback web site and the workbench config."""
    if (work / "logs").exists():
        shutil.rmtree(work / "logs")
    for stale in ("workbench-data", "xdg"):
        shutil.rmtree(work / stale, ignore_errors=True)
    fx = fixtures.ensure(work / "data")
    web_port = free_port()
    pages = subprocess.Popen(
        [sys.executable, "-m", "bench.servers.pages", str(fx.pages), str(web_port)],
        cwd=REPO,
        env=child_env(work),
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    wait_http(f"http://127.0.0.1:{web_port}/robots.txt", pages)
    ctx = Context(
        plan=plan,
        work=work,
        fx=fx,
        config=workbench_config(fx, work, web_port=web_port),
        env=child_env(work),
        web=f"http://127.0.0.1:{web_port}",
        floor=floor,
        notes=notes,
    )
    return ctx, pages


def named_phases(ctx: Context, phases: list[str], results: dict[str, Any]) -> None:
    """The phases that run only when named: memory, research, analyze, backup."""
    if "memory" in phases:
        say("\n== memory: the worst reads, one fresh server each, peak RSS growth against the bound")
        results["read_memory"] = memory.run(ctx.work, ctx.fx.db, say=say)
        results["meta"]["load"].append(load_snapshot("after memory"))
    if "research" in phases:
        research_phase(ctx.plan, results)
    if "analyze" in phases:
        from bench import analyze

        results["analyze"] = analyze.run(say=say, quick=ctx.plan.quick)
        results["meta"]["load"].append(load_snapshot("after analyze"))
    if "backup" in phases:
        say("\n== backup: a 100 MB workspace, idle and while clients write, alternating")
        results["backup"] = backup.run(ctx.work, rounds=1 if ctx.plan.quick else 3, say=say)
        results["meta"]["load"].append(load_snapshot("after backup"))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="reduced run (about 3 minutes)")
    parser.add_argument(
        "--only",
        action="append",
        choices=["cold", "stdio", "http", "memory", "research", "analyze", "backup"],
        help="run only these phases (repeatable; memory, research, analyze and backup run only when named)",
    )
    parser.add_argument(
        "--work",
        type=Path,
        default=Path(os.environ.get("TMPDIR", "/tmp")) / "mcp-workbench-bench",
        help="where generated data, logs and server state go (default: $TMPDIR/mcp-workbench-bench)",
    )
    parser.add_argument(
        "--workload",
        action="append",
        help="stdio phase: run only this piece of work, by key (repeatable; e.g. select100)",
    )
    parser.add_argument("--skip-setup", action="store_true", help="do not install peers (use what is there)")
    parser.add_argument("--label", default="", help="a word to add to the result file names")
    parser.add_argument(
        "--baseline",
        metavar="PYTHON",
        help="also run bare FastMCP and mcp-workbench with this interpreter (say, the venv of a checkout "
        "on the previous FastMCP), interleaved with ours, in the cold and stdio phases",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    phases = args.only or ["cold", "stdio", "http"]
    plan = Plan.make(args.quick)
    started = time.time()
    notes: list[str] = []
    say("== setup")
    floor = peers.install(notes) if not args.skip_setup else peers._ripgrep(notes)
    ctx, pages = prepare(args.work, plan, floor, notes)
    ctx.workloads = args.workload
    ctx.baseline = args.baseline
    labels = dict(LABELS)
    try:
        say("== machine: measuring how busy it is (2 s, nothing of ours running)")
        results: dict[str, Any] = {
            "meta": {
                "quick": plan.quick,
                "plan": asdict(plan),
                "machine": machine_info(),
                "peers": peers.versions(),
                "search_floor": floor,
                "fixtures": ctx.fx.facts(),
                "busy_before": proc.busy_fraction(2.0),
                "load": [load_snapshot("start")],
                "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
            }
        }
        if args.baseline:
            results["meta"]["baseline"] = baseline_info(args.baseline)
            labels |= baseline_labels(results["meta"]["baseline"])
        if "cold" in phases:
            results["cold_start"] = cold_phase(ctx)
            results["meta"]["load"].append(load_snapshot("after cold start"))
        if "stdio" in phases:
            results["stdio"], results["memory"] = stdio_phase(ctx)
            results["meta"]["load"].append(load_snapshot("after stdio"))
        if "http" in phases:
            results["http"] = http_phase(ctx)
            results["meta"]["load"].append(load_snapshot("after HTTP"))
        named_phases(ctx, phases, results)
        results["meta"]["busy_after"] = proc.busy_fraction(2.0)
        results["meta"]["duration_s"] = round(time.time() - started)
        results["notes"] = ctx.notes
        results["targets"] = targets(results)
    finally:
        pages.terminate()
        pages.wait()
    out_dir = BENCH / "results"
    out_dir.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S") + (f"-{args.label}" if args.label else "") + ("-quick" if plan.quick else "")
    text = report.render(results, labels)
    for name in (stamp, "latest"):
        (out_dir / f"{name}.json").write_text(json.dumps(results, indent=1))
        (out_dir / f"{name}.md").write_text(text)
    say("\n" + text)
    say(f"results: {out_dir / (stamp + '.json')} and .md ({results['meta']['duration_s']} s)")
    return 0

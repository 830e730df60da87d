"""Where the time goes: py-spy samples of mcp-workbench (and the floors) under the benchmark's work.

    uv run python -m bench.profile            # every scenario, about 2 minutes
    uv run python -m bench.profile trivial    # some scenarios by name

py-spy (``uvx --from py-spy==0.4.3 py-spy``, fetched from PyPI by uv) attaches to the running
server, samples its on-CPU Python stacks while the benchmark drives calls, and writes collapsed
stacks to ``bench/profiles/<scenario>.txt``. Each sample is then charged to a component: walking
from the innermost frame outwards, the first frame that belongs to a known component takes it
(a ``json.dumps`` inside the log formatter counts as "log line"). ``bench/profiles/summary.md``
has the component shares, the hottest functions, and the import-time breakdown of a cold start.
"""

from __future__ import annotations

import asyncio
import collections
import json
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import peers
from bench.httpload import HANDSHAKE, MODERN, run_load
from bench.run import Context, HttpServer, Plan, free_port, prepare, say
from bench.stdio import StdioServer
from bench.subjects import BENCH, REPO

PY_SPY = ["uvx", "--from", "py-spy==0.4.3", "py-spy"]
OUT = BENCH / "profiles"

# (component, patterns matched against a frame's "function (path)"), innermost match wins
COMPONENTS: list[tuple[str, tuple[str, ...]]] = [
    ("log line (logging + JSON formatter)", ("logging/", "mcp_workbench/platform/logging.py")),
    ("metrics (prometheus_client)", ("prometheus_client/", "mcp_workbench/platform/metrics.py")),
    ("rate limit (limits)", ("limits/", "mcp_workbench/platform/limits.py")),
    ("timeout task", ("mcp_workbench/platform/timeouts.py",)),
    (
        "scopes / API key",
        ("mcp_workbench/platform/auth.py", "mcp_workbench/platform/keys.py", "mcp_workbench/platform/identity.py"),
    ),
    ("call record / correlation id", ("mcp_workbench/platform/call_middleware.py", "uuid.py")),
    ("operation parsing (pydantic)", ("mcp_workbench/platform/tool_adapters.py",)),
    ("error results", ("mcp_workbench/platform/errors.py",)),
    ("data: SQL (sqlalchemy/aiosqlite/sqlglot)", ("sqlalchemy/", "aiosqlite/", "sqlglot/", "sqlite3/")),
    ("data capability", ("mcp_workbench/data/",)),
    (
        "files: search worker",
        (
            "mcp_workbench/files/search.py",
            "mcp_workbench/files/walk.py",
            "mcp_workbench/files/ignore.py",
            "mcp_workbench/platform/isolation.py",
        ),
    ),
    ("files capability", ("mcp_workbench/files/",)),
    ("web: extraction (trafilatura/lxml)", ("trafilatura/", "lxml/", "justext/", "courlan/", "htmldate/")),
    ("web: HTTP client + cache (httpx2/hishel)", ("httpx2/", "httpcore2/", "hishel/")),
    ("web capability", ("mcp_workbench/web/",)),
    ("2026-07-28 envelope / header checks", ("mcp/shared/inbound.py",)),
    ("OpenTelemetry (no SDK)", ("opentelemetry/", "fastmcp/telemetry")),
    ("pydantic (validation / serialisation)", ("pydantic/", "pydantic_core/")),
    ("FastMCP middleware chain", ("fastmcp/server/middleware/",)),
    ("FastMCP server / tools", ("fastmcp/",)),
    ("mcp SDK (session, JSON-RPC)", ("mcp/", "mcp_types/")),
    ("HTTP server (uvicorn/starlette/sse)", ("uvicorn/", "starlette/", "sse_starlette/", "h11/")),
    ("auth provider (FastMCP/mcp auth)", ("fastmcp/server/auth", "mcp/server/auth")),
    ("anyio / asyncio", ("anyio/", "asyncio/", "selectors.py", "threading.py", "concurrent/", "queue.py")),
    ("json", ("json/",)),
]


# Work done on behalf of something further out in the stack: the outermost such frame takes the sample.
CONTEXTS: list[tuple[str, tuple[str, ...]]] = [
    ("2026-07-28 Mcp-Param check: a whole tools/list per call", ("_tool_input_schema (mcp/server/",)),
]


def component(stack: list[str]) -> str:
    for name, patterns in CONTEXTS:
        if any(p in frame for frame in stack for p in patterns):
            return name
    for frame in reversed(stack):
        for name, patterns in COMPONENTS:
            if any(p in frame for p in patterns):
                return name
    return "other"


def parse(path: Path) -> list[tuple[list[str], int]]:
    samples = []
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            samples.append((stack.split(";"), int(count)))
    return samples


def analyse(name: str, path: Path) -> list[str]:
    samples = parse(path)
    total = sum(c for _, c in samples) or 1
    by_component: collections.Counter[str] = collections.Counter()
    by_leaf: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    for stack, count in samples:
        by_component[component(stack)] += count
        by_leaf[stack[-1]] += count
        for frame in set(stack):
            inclusive[frame] += count
    lines = [f"### {name} ({total} samples)", "", "| component | share |", "|---|---:|"]
    lines += [f"| {c} | {n / total:.1%} |" for c, n in by_component.most_common(14)]
    lines += ["", "Hottest functions (self time):", "", "| function | self |", "|---|---:|"]
    lines += [f"| `{f}` | {n / total:.1%} |" for f, n in by_leaf.most_common(12)]
    ours = [(f, n) for f, n in inclusive.most_common() if "mcp_workbench/" in f][:12]
    if ours:
        lines += [
            "",
            "mcp-workbench functions (inclusive, within the sampled stacks):",
            "",
            "| function | inclusive |",
            "|---|---:|",
        ]
        lines += [f"| `{f}` | {n / total:.1%} |" for f, n in ours]
    return [*lines, ""]


def record(
    pid: int, name: str, seconds: float, drive: Callable[[Callable[[], bool]], None], *, subprocesses: bool = False
) -> Path:
    """Sample ``pid`` for ``seconds`` while ``drive(still_recording)`` makes calls."""
    OUT.mkdir(exist_ok=True)
    out = OUT / f"{name}.txt"
    argv = [
        *PY_SPY,
        "record",
        "--pid",
        str(pid),
        "--duration",
        str(int(seconds)),
        "--rate",
        "250",
        "--format",
        "raw",
        "--output",
        str(out),
        "--nolineno",
        "--nonblocking",
        "--gil",
    ]
    if subprocesses:
        argv.append("--subprocesses")
    spy = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(1.0)  # py-spy attaches
    deadline = time.monotonic() + seconds + 2
    drive(lambda: spy.poll() is None and time.monotonic() < deadline)
    _, err = spy.communicate(timeout=60)
    if spy.returncode != 0 or not out.exists():
        raise RuntimeError(f"py-spy failed: {err.decode()[-500:]}")
    return out


def stdio_scenario(
    ctx: Context,
    *,
    label: str,
    subject: str,
    tool: str,
    args: Callable[[int], dict[str, Any]],
    seconds: float,
    subprocesses: bool = False,
    warmup: int = 5,
) -> Path:
    server = StdioServer(subject, _argv(ctx, subject), ctx.env, REPO, ctx.work / "logs" / f"profile-{subject}.log")
    server.start()
    server.initialize()
    server.list_tools()
    for i in range(warmup):
        server.call(tool, args(-i - 1))

    def drive(recording: Callable[[], bool]) -> None:
        i = 0
        while recording():
            i += 1
            reply = server.call(tool, args(i))
            if reply.failed:
                raise RuntimeError(f"{tool}: {reply.failed}")

    try:
        return record(server.pid, f"stdio-{label}", seconds, drive, subprocesses=subprocesses)
    finally:
        server.stop()


def _argv(ctx: Context, subject: str) -> list[str]:
    from bench.subjects import stdio_argv

    return stdio_argv(subject, ctx.fx, ctx.config)


def http_scenario(ctx: Context, era: str, seconds: float) -> Path:
    from bench.run import _make_key

    key = _make_key(ctx)
    port = free_port()
    server = HttpServer(
        "workbench-1",
        [
            sys.executable,
            "-m",
            "mcp_workbench",
            "serve",
            "--config",
            str(ctx.config),
            "--transport",
            "http",
            "--port",
            str(port),
        ],
        ctx.env,
        port,
        f"http://127.0.0.1:{port}/livez",
        ctx.work / "logs" / "profile-http.log",
    )
    server.start()
    try:
        server.ready()
        assert server.proc is not None
        load = {
            "host": "127.0.0.1",
            "port": port,
            "path": "/mcp",
            "headers": {"Authorization": f"Bearer {key}"},
            "era": era,
            "tool": "data_read",
            "arguments": {"operation": "sources"},
            "clients": 10,
        }
        asyncio.run(run_load(**load, seconds=1.0))  # type: ignore[arg-type]

        def drive(recording: Callable[[], bool]) -> None:
            while recording():
                asyncio.run(run_load(**load, seconds=2.0))  # type: ignore[arg-type]

        return record(server.proc.pid, f"http-workbench-{'modern' if era == MODERN else 'handshake'}", seconds, drive)
    finally:
        server.stop()


def _importtime(ctx: Context, script: str) -> tuple[collections.Counter[str], list[str]]:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", script],
        env=ctx.env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    per_package: collections.Counter[str] = collections.Counter()
    for line in done.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if m:
            per_package[m.group(4).split(".")[0]] += int(m.group(1))
    stamps = done.stdout.split("TIMES", 1)[1].split() if "TIMES" in done.stdout else []
    return per_package, stamps


def import_times(ctx: Context) -> list[str]:
    """``python -X importtime`` of each server's start, summed by top-level package (self times),
    the workbench next to the bare FastMCP echo, and the workbench's own phases in one process."""
    runs = 3
    bare: list[collections.Counter[str]] = []
    ours: list[collections.Counter[str]] = []
    phases: list[list[float]] = []
    script = (
        "import time\n"
        "from pathlib import Path\n"
        "t0 = time.perf_counter()\n"
        "import fastmcp\n"
        "t1 = time.perf_counter()\n"
        "from mcp_workbench.cli.serve import serve\n"
        "from mcp_workbench.server import build_server\n"
        "from mcp_workbench.settings import load_settings\n"
        "t2 = time.perf_counter()\n"
        f"settings = load_settings(Path({str(ctx.config)!r}))\n"
        "t3 = time.perf_counter()\n"
        "mcp = build_server(settings)\n"
        "t4 = time.perf_counter()\n"
        "print(f'TIMES {t1-t0:.4f} {t2-t1:.4f} {t3-t2:.4f} {t4-t3:.4f}')\n"
    )
    for _ in range(runs):
        counts, stamps = _importtime(ctx, script)
        ours.append(counts)
        phases.append([float(x) for x in stamps])
        counts, stamps = _importtime(
            ctx,
            "import time\nt0 = time.perf_counter()\nimport bench.servers.echo_fastmcp\n"
            "print(f'TIMES {time.perf_counter() - t0:.4f}')\n",
        )
        bare.append(counts)
        phases[-1].append(float(stamps[0]))

    def med(counters: list[collections.Counter[str]], key: str) -> float:
        return sorted(c.get(key, 0) for c in counters)[len(counters) // 2] / 1000

    total_ours = sorted(sum(c.values()) for c in ours)[runs // 2] / 1000
    total_bare = sorted(sum(c.values()) for c in bare)[runs // 2] / 1000
    phase = [sorted(p[i] for p in phases)[runs // 2] * 1000 for i in range(5)]
    imports = sorted(p[0] + p[1] for p in phases)[runs // 2] * 1000
    keys = {k for c in ours for k in c} | {k for c in bare for k in c}
    extra = sorted(keys, key=lambda k: med(ours, k) - med(bare, k), reverse=True)
    lines = [
        "### cold start: imports and build",
        "",
        (
            f"Medians of {runs} runs, in one process, without stdio, under `-X importtime` (which slows imports "
            f"down, so compare the two servers with each other, not with the cold-start table): the workbench's "
            f"imports take {imports:.0f} ms, `load_settings` {phase[2]:.0f} ms, `build_server` {phase[3]:.0f} ms; "
            f"the bare FastMCP echo module imports in {phase[4]:.0f} ms. Self time of all imports: workbench "
            f"{total_ours:.0f} ms, bare FastMCP {total_bare:.0f} ms."
        ),
        "",
        "Packages the workbench imports beyond what the bare FastMCP server imports (ms, self time):",
        "",
        "| package | workbench | bare FastMCP | extra |",
        "|---|---:|---:|---:|",
    ]
    for key in extra[:16]:
        lines.append(
            f"| {key} | {med(ours, key):.0f} | {med(bare, key):.0f} | {med(ours, key) - med(bare, key):+.0f} |"
        )
    return [*lines, ""]


def startup_levers(ctx: Context, runs: int = 7) -> list[str]:
    """Import + build + freeze wall time in one process, as shipped vs with levers (interleaved, medians)."""
    body = (
        "import gc, time\n"
        "{pre}"
        "t0 = time.perf_counter()\n"
        "from pathlib import Path\n"
        "from mcp_workbench.cli.serve import serve\n"
        "from mcp_workbench.server import build_server\n"
        "from mcp_workbench.settings import load_settings\n"
        f"mcp = build_server(load_settings(Path({str(ctx.config)!r})))\n"
        "{post}"
        "print('TOTAL', time.perf_counter() - t0)\n"
    )
    variants = {
        "as shipped: imports, build_server, gc.freeze()": ("", "gc.freeze()\n"),
        "with a gc.collect() before the freeze (as before)": ("", "gc.collect(); gc.freeze()\n"),
        "gc.disable() before the imports, gc.freeze() + gc.enable() after build (no collect)": (
            "gc.disable()\n",
            "gc.freeze(); gc.enable()\n",
        ),
    }
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(runs):
        for name, (pre, post) in variants.items():
            done = subprocess.run(
                [sys.executable, "-c", body.format(pre=pre, post=post)],
                env=ctx.env,
                cwd=REPO,
                capture_output=True,
                text=True,
                check=True,
            )
            times[name].append(float(done.stdout.split("TOTAL", 1)[1]))
    lines = [f"Start-up levers (one process, no stdio, medians of {runs} interleaved runs):", ""]
    lines += ["| variant | ms |", "|---|---:|"]
    lines += [f"| {name} | {sorted(v)[runs // 2] * 1000:.0f} |" for name, v in times.items()]
    return [*lines, ""]


MEMORY_STEPS = [
    ("bare FastMCP echo server module", "import bench.servers.echo_fastmcp"),
    ("+ sqlalchemy (asyncio) + aiosqlite", "import sqlalchemy, sqlalchemy.ext.asyncio, aiosqlite"),
    ("+ sqlglot", "import sqlglot"),
    ("+ limits (async)", "import limits.aio.strategies, limits.aio.storage"),
    ("+ prometheus_client", "import prometheus_client"),
    ("+ charset_normalizer", "import charset_normalizer"),
    ("+ the rest of mcp_workbench's imports", "from mcp_workbench.cli.serve import serve"),
    ("+ load_settings + build_server", "mcp = build_server(load_settings(CONFIG))"),
    ("+ gc.freeze()", "import gc; gc.freeze()"),
]


def memory_steps(ctx: Context) -> list[str]:
    """RSS of one fresh interpreter after each step: what each import adds to the idle server."""
    script = [
        "import os, time",
        "from pathlib import Path",
        f"CONFIG = Path({str(ctx.config)!r})",
        "def rss():",
        "    for line in open(f'/proc/{os.getpid()}/status'):",
        "        if line.startswith('VmRSS:'): return int(line.split()[1]) / 1024",
        "print('STEP', rss())",
    ]
    for _, code in MEMORY_STEPS:
        if code.startswith("mcp ="):
            script.append(
                "from mcp_workbench.server import build_server; from mcp_workbench.settings import load_settings"
            )
        script += [code, "print('STEP', rss())"]
    values: list[list[float]] = []
    for _ in range(3):
        done = subprocess.run(
            [sys.executable, "-c", "\n".join(script)], env=ctx.env, cwd=REPO, capture_output=True, text=True, check=True
        )
        values.append([float(line.split()[1]) for line in done.stdout.splitlines() if line.startswith("STEP")])
    med = [sorted(v[i] for v in values)[1] for i in range(len(values[0]))]
    lines = [
        "### idle memory: what each import adds",
        "",
        f"RSS of one fresh interpreter after each step (medians of 3); an empty interpreter: {med[0]:.0f} MB.",
        "",
        "| step | RSS MB | adds MB |",
        "|---|---:|---:|",
    ]
    for i, (label, _) in enumerate(MEMORY_STEPS, start=1):
        lines.append(f"| {label} | {med[i]:.1f} | {med[i] - med[i - 1]:+.1f} |")
    return [*lines, ""]


def layer_costs(ctx: Context, rounds: int = 5, calls: int = 2000) -> list[str]:
    """The production layer per call, layer by layer, in one process (see :mod:`bench.layers`)."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.layers", str(ctx.config), str(rounds), str(calls)],
        env=ctx.env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        check=True,
    )
    results: dict[str, list[float]] = json.loads(done.stdout)
    full = results["workbench (whole production layer)"]

    def med(values: list[float]) -> float:
        return sorted(values)[len(values) // 2]

    lines = [
        "### the production layer, layer by layer (in-process, no transport)",
        "",
        (
            f"`FastMCP.call_tool` on servers built in one process, {calls} calls per round, {rounds} interleaved "
            "rounds, CPU time (`time.process_time`), medians; “saves” is the median over rounds of the full "
            "server's cost minus the variant's."
        ),
        "",
        "| variant | µs/call | saves µs/call |",
        "|---|---:|---:|",
    ]
    for name, values in results.items():
        lines.append(f"| {name} | {med(values):.0f} | {med([a - b for a, b in zip(full, values, strict=True)]):.0f} |")
    return [*lines, ""]


SCENARIOS: dict[str, Callable[[Context], list[str]]] = {}


def scenario(name: str) -> Callable[[Callable[[Context], list[str]]], Callable[[Context], list[str]]]:
    def register(fn: Callable[[Context], list[str]]) -> Callable[[Context], list[str]]:
        SCENARIOS[name] = fn
        return fn

    return register


@scenario("layers")
def _layers(ctx: Context) -> list[str]:
    return layer_costs(ctx)


@scenario("trivial")
def _trivial(ctx: Context) -> list[str]:
    sources = {"operation": "sources"}
    a = stdio_scenario(
        ctx, label="trivial-workbench", subject="workbench", tool="data_read", args=lambda _i: sources, seconds=10
    )
    b = stdio_scenario(
        ctx, label="trivial-fastmcp", subject="fastmcp", tool="echo", args=lambda _i: {"text": "hello"}, seconds=10
    )
    return analyse("stdio, trivial call: mcp-workbench data_read sources", a) + analyse(
        "stdio, trivial call: bare FastMCP echo", b
    )


@scenario("select")
def _select(ctx: Context) -> list[str]:
    args = {"operation": "select", "table": "items", "order_by": [{"column": "id"}], "limit": 1000}
    path = stdio_scenario(
        ctx, label="select1000", subject="workbench", tool="data_read", args=lambda _i: args, seconds=10
    )
    return analyse("stdio, data_read select 1,000 rows", path)


@scenario("read")
def _read(ctx: Context) -> list[str]:
    args = {"operation": "read", "path": ctx.fx.read_file}
    path = stdio_scenario(ctx, label="read", subject="workbench", tool="files_read", args=lambda _i: args, seconds=10)
    return analyse("stdio, files_read read (40 KB, 1,000 lines)", path)


@scenario("search")
def _search(ctx: Context) -> list[str]:
    from bench.fixtures import MARKER_REGEX

    args = {"operation": "search", "contains": MARKER_REGEX, "max_results": 5000}
    path = stdio_scenario(
        ctx,
        label="search-content",
        subject="workbench",
        tool="files_read",
        args=lambda _i: args,
        seconds=12,
        subprocesses=True,
        warmup=1,
    )
    return analyse("stdio, files_read search (content regex, 20,001 files; server + search worker)", path)


@scenario("web")
def _web(ctx: Context) -> list[str]:
    a = stdio_scenario(
        ctx,
        label="web-small",
        subject="workbench",
        tool="web_fetch",
        args=lambda i: {"url": f"{ctx.web}/small?p={i}"},
        seconds=10,
    )
    b = stdio_scenario(
        ctx,
        label="web-big",
        subject="workbench",
        tool="web_fetch",
        args=lambda i: {"url": f"{ctx.web}/big?p={i}"},
        seconds=12,
        warmup=1,
    )
    return analyse("stdio, web_fetch 12 KB page, cold", a) + analyse("stdio, web_fetch 1 MB page, cold", b)


@scenario("http")
def _http(ctx: Context) -> list[str]:
    return analyse("HTTP, 10 clients, handshake era, 1 process", http_scenario(ctx, HANDSHAKE, 10)) + analyse(
        "HTTP, 10 clients, 2026-07-28 era, 1 process", http_scenario(ctx, MODERN, 10)
    )


@scenario("cold")
def _cold(ctx: Context) -> list[str]:
    return import_times(ctx) + startup_levers(ctx)


@scenario("memory")
def _memory(ctx: Context) -> list[str]:
    return memory_steps(ctx)


def main(argv: list[str] | None = None) -> int:
    names = (argv if argv is not None else sys.argv[1:]) or list(SCENARIOS)
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        raise SystemExit(f"unknown scenario(s) {unknown}; choose from {list(SCENARIOS)}")
    notes: list[str] = []
    floor = peers._ripgrep(notes)
    ctx, pages = prepare(Path("/tmp") / "mcp-workbench-bench", Plan.make(True), floor, notes)
    lines = [
        "# mcp-workbench profiles",
        "",
        (
            f"{time.strftime('%Y-%m-%d %H:%M')}; py-spy at 250 Hz, on-CPU samples "
            "(only the thread holding the GIL, so waiting threads are left out). "
            "Shares are of all samples of the scenario."
        ),
        "",
    ]
    try:
        for name in names:
            say(f"== profile: {name}")
            lines += SCENARIOS[name](ctx)
    finally:
        pages.terminate()
        pages.wait()
    OUT.mkdir(exist_ok=True)
    summary = OUT / "summary.md"
    summary.write_text("\n".join(lines))
    say("\n".join(lines))
    say(f"\nwritten: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

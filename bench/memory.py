"""The memory one read call can take: the worst statements against the documented bound.

    uv run python -m bench --only memory --skip-setup       # as a phase of the benchmark
    uv run python -m bench.memory [WORK [WORDS]]            # alone (WORDS: only statements named so); JSON

Each statement runs in a fresh ``mcp-workbench serve`` (stdio) whose sources were opened by a
trivial read first; the figure is the server's peak RSS during the call (``VmHWM``) above its
RSS just before it. A fresh process per statement keeps memory that the allocator kept from
one statement out of the next one's figure. SQLite always; PostgreSQL when its binaries are
installed (a throwaway server from ``tests/support/postgres.py``).

The bound compared against is the one the README (Safety) documents, at the default
``max_result_bytes`` of 1 MB: see :data:`BOUND_MB`.
"""

from __future__ import annotations

import json
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench import proc
from bench.stdio import StdioServer
from bench.subjects import REPO, child_env

MAX_RESULT_BYTES = 1_000_000
# What the README promises at that cap: one read holds about 40 x max_result_bytes at worst (the
# page budget, the crossing row, the converted page and its JSON); a row of many values on
# SQLite can take up to twice SQLite's heap bound (the row in SQLite and its copy), 64 MiB here.
BOUND_MB = 40 * MAX_RESULT_BYTES / 1e6
HEAP_BOUND_MB = 2 * 64 * 1024 * 1024 / 1e6

_MANY = "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < {n}) "
_HEX_100MB = "hex(zeroblob(50000000))"
SQLITE_CASES: list[tuple[str, str, float]] = [  # what, SQL, bound in MB
    (
        "zeroblob(10^8) in each of 2 rows (the issue's example)",
        "SELECT zeroblob(100000000) FROM (VALUES (1),(2))",
        BOUND_MB,
    ),
    ("randomblob(10^8)", "SELECT randomblob(100000000)", BOUND_MB),
    ("printf of two 100 MB strings", f"SELECT printf('%s%s', {_HEX_100MB}, {_HEX_100MB})", BOUND_MB),
    ("replace() blow-up to 200 MB", f"SELECT replace({_HEX_100MB}, '0', 'xy')", BOUND_MB),
    (
        "group_concat over 4M rows (240 MB)",
        _MANY.format(n=4_000_000) + "SELECT group_concat(hex(randomblob(30)), '') FROM c",
        BOUND_MB,
    ),
    (
        "recursive CTE, 100,000 rows of 3.8 MB each",
        _MANY.format(n=100_000) + "SELECT n, hex(zeroblob(1900000)) FROM c",
        BOUND_MB,
    ),
    (
        "recursive CTE, 100,000 rows of 10 KB (page budget)",
        _MANY.format(n=100_000) + "SELECT n, hex(zeroblob(5000)) FROM c",
        BOUND_MB,
    ),
    (
        "one row of 300 values of 3.8 MB (heap bound)",
        "SELECT " + ", ".join(["hex(zeroblob(1900000))"] * 300),
        HEAP_BOUND_MB,
    ),
    ("a normal 1,000-row select of the bench table", "SELECT * FROM items ORDER BY id LIMIT 1000", BOUND_MB),
]
PG_CASES: list[tuple[str, str, float]] = [
    ("repeat('x', 10^8) in each of 2 rows", "SELECT repeat('x', 100000000) FROM (VALUES (1),(2)) AS v", BOUND_MB),
    ("decode to a 100 MB bytea", "SELECT decode(repeat('00', 100000000), 'hex')", BOUND_MB),
    (
        "string_agg over 4M rows (128 MB)",
        "SELECT string_agg(md5(g::text), '') FROM generate_series(1, 4000000) AS g",
        BOUND_MB,
    ),
    ("200 rows of 3.8 MB each", "SELECT g, repeat('x', 3800000) FROM generate_series(1, 200) AS g", BOUND_MB),
    (
        "100,000 rows of 10 KB (page budget)",
        "SELECT g, repeat('x', 10000) FROM generate_series(1, 100000) AS g",
        BOUND_MB,
    ),
    ("one row of 30 values of 3.8 MB", "SELECT " + ", ".join(["repeat('x', 3800000)"] * 30), BOUND_MB),
]


def _config(work: Path, db: Path, pg_url: str | None) -> Path:
    path = work / "memory.toml"
    pg = f'\n[data.sources.pg]\nurl = "{pg_url}"\n' if pg_url else ""
    path.write_text(
        f"""log_level = "WARNING"
data_dir = "{work / "memory-data"}"

[limits]
default = "100000/second"

[data]
max_result_bytes = {MAX_RESULT_BYTES}
statement_timeout_s = 120

[data.sources.workspace]
url = "sqlite:///{db}"
{pg}"""
    )
    return path


def _one(work: Path, config: Path, source: str, sql: str) -> dict[str, Any]:
    server = StdioServer(
        "workbench",
        [sys.executable, "-m", "mcp_workbench", "serve", "--config", str(config)],
        child_env(work),
        REPO,
        work / "logs" / "memory.log",
    ).start()
    try:
        server.initialize()
        warm = server.call("data_read", {"operation": "sql", "source": source, "sql": "SELECT 1"})
        if warm.failed:
            raise RuntimeError(f"warm-up failed: {warm.failed}")
        time.sleep(0.3)
        before = proc.memory(server.pid).rss_mb
        reply = server.call("data_read", {"operation": "sql", "source": source, "sql": sql, "limit": 1000}, 600)
        peak = _hwm_mb(server.pid)
        result = reply.result
        data = result.get("structuredContent") or {}
        if "error" in reply.message:
            outcome = f"JSON-RPC error {reply.message['error'].get('code')}"
        elif result.get("isError"):
            text = reply.text()
            try:
                outcome = json.loads(text).get("error_code", text[:40])
            except ValueError:
                outcome = text[:40]
        else:
            outcome = f"{data.get('row_count')} row(s){', truncated' if data.get('truncated') else ''}"
        return {
            "outcome": outcome,
            "seconds": round(reply.seconds, 2),
            "rss_before_mb": round(before, 1),
            "peak_growth_mb": round(peak - before, 1),
        }
    finally:
        server.stop()


def _hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run(work: Path, db: Path, say: Any = print, only: str = "") -> dict[str, Any]:
    results: dict[str, Any] = {"max_result_bytes": MAX_RESULT_BYTES, "bound_mb": BOUND_MB, "cases": []}
    with ExitStack() as stack:
        pg_url = None
        try:
            sys.path.insert(0, str(REPO))
            from tests.support.postgres import PostgresNotAvailable, PostgresServer

            try:
                pg_url = stack.enter_context(PostgresServer()).url
            except PostgresNotAvailable as exc:
                results["postgresql"] = f"not measured: {exc}"
        except ImportError as exc:
            results["postgresql"] = f"not measured: {exc}"
        config = _config(work, db, pg_url)
        cases = [("sqlite", "workspace", *case) for case in SQLITE_CASES]
        cases += [("postgresql", "pg", *case) for case in PG_CASES] if pg_url else []
        for engine, source, what, sql, bound in cases:
            if only not in what:
                continue
            measured = _one(work, config, source, sql)
            entry = {"engine": engine, "what": what, "bound_mb": round(bound, 1), **measured}
            entry["within_bound"] = measured["peak_growth_mb"] <= bound
            results["cases"].append(entry)
            say(
                f"  {engine:10} {what[:55]:55} {measured['outcome']:>22}  +{measured['peak_growth_mb']:7.1f} MB"
                f"  (bound {bound:.0f} MB)  {measured['seconds']:.2f} s"
            )
    return results


def report(results: dict[str, Any]) -> str:
    lines = [
        "## Memory of one read (worst statements, fresh server each)",
        "",
        (
            f"max_result_bytes = {results['max_result_bytes']:,}; the figure is the peak RSS during the call"
            " (VmHWM) above the RSS before it."
        ),
        "",
        "| engine | statement | answer | peak growth MB | bound MB | within |",
        "|---|---|---|---:|---:|:--:|",
    ]
    for case in results["cases"]:
        lines.append(
            f"| {case['engine']} | {case['what']} | {case['outcome']} | {case['peak_growth_mb']} | "
            f"{case['bound_mb']} | {'yes' if case['within_bound'] else '**no**'} |"
        )
    if "postgresql" in results:
        lines += ["", f"PostgreSQL: {results['postgresql']}"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from bench import fixtures

    args = sys.argv[1:] if argv is None else argv
    work = Path(args[0]) if args else Path("/tmp/mcp-workbench-bench")
    fx = fixtures.ensure(work / "data")
    only = args[1] if len(args) > 1 else ""
    results = run(work, fx.db, say=lambda *parts: sys.stderr.write(" ".join(map(str, parts)) + "\n"), only=only)
    print(json.dumps(results, indent=1))  # noqa: T201 - the benchmark reports on stdout
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""How long a backup of a 100 MB workspace takes while the server serves writes.

    uv run python -m bench --only backup --skip-setup     # as a phase of the benchmark
    uv run python -m bench.backup [WORK]                    # alone; prints JSON

A workspace of about 100 MB (one table of text rows, half of them random, made once under
WORK) is served by ``mcp-workbench serve --transport http``. Each round, alternating:

- **idle**: ``mcp-workbench backup`` runs with the server idle;
- **serving writes**: clients insert rows through ``data_write`` back to back; after a
  baseline window the same backup command runs, and the writes go on until it is done.

The backup runs as its own process, as cron or an operator runs it. Reported: the command's
wall time (interpreter start included) and the time it reports itself (snapshot, integrity
check, compression, archive), the archive's size, and the writes' rate and latency while the
backup ran against the baseline window just before it (same clients, same length), as ratios.
Medians over the rounds.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.httpload import HANDSHAKE, Client, Connection
from bench.stats import median, summary_ms
from bench.subjects import REPO, child_env

TARGET_BYTES = 100 * 1024 * 1024
ROW_CHARS = 1000
WRITERS = 4
BASELINE_S = 5.0
INSERT = {"operation": "insert", "table": "writes", "rows": [{"body": "w" * 200}]}


def _say(*parts: object) -> None:
    print(*parts, flush=True)  # noqa: T201 - the benchmark reports on stdout


def make_workspace(db: Path) -> int:
    """A ~100 MB SQLite workspace in WAL mode (kept between runs); returns its size."""
    if db.exists() and db.stat().st_size >= TARGET_BYTES * 0.95:
        return db.stat().st_size
    db.parent.mkdir(parents=True, exist_ok=True)
    for stale in db.parent.glob(f"{db.name}*"):
        stale.unlink()
    rng = random.Random(15)
    words = ["alpha", "beta", "gamma", "delta", "report", "quarterly", "numbers", "board", "plan", "review"]
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT NOT NULL, body TEXT NOT NULL)")
    conn.execute("CREATE TABLE writes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    rows = TARGET_BYTES // (ROW_CHARS + 40)
    conn.execute("BEGIN")
    for i in range(rows):
        if i % 2:
            body = rng.randbytes(ROW_CHARS // 2).hex()  # incompressible half
        else:
            body = " ".join(rng.choice(words) for _ in range(ROW_CHARS // 6))[:ROW_CHARS]
        conn.execute("INSERT INTO notes VALUES (?, ?, ?)", (i, f"note {i}", body))
    conn.execute("COMMIT")
    conn.execute("CREATE INDEX notes_title ON notes (title)")
    conn.close()
    return db.stat().st_size


@dataclass
class Writers:
    """``WRITERS`` clients inserting rows back to back in a thread; each call's start and end."""

    port: int
    calls: list[tuple[float, float, bool]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join(60)

    async def _run(self) -> None:
        clients = [
            Client(Connection("127.0.0.1", self.port, "/mcp", {}), HANDSHAKE, "data_write", INSERT)
            for _ in range(WRITERS)
        ]
        await asyncio.gather(*(c.start() for c in clients))

        async def loop(client: Client) -> None:
            while not self._stop.is_set():
                t0 = time.perf_counter()
                problem = await client.call()
                self.calls.append((t0, time.perf_counter(), problem is None))

        await asyncio.gather(*(loop(c) for c in clients))
        await asyncio.gather(*(c.conn.close() for c in clients))

    def window(self, start: float, end: float) -> dict[str, Any]:
        inside = [(t0, t1, ok) for t0, t1, ok in self.calls if start <= t0 < end]
        return {
            "calls_per_s": sum(1 for *_, ok in inside if ok) / (end - start),
            "errors": sum(1 for *_, ok in inside if not ok),
            "latency_ms": summary_ms([t1 - t0 for t0, t1, _ in inside]),
        }


def _backup(env: dict[str, str], archives: Path) -> dict[str, Any]:
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "mcp_workbench", "backup", "--output", str(archives), "--keep", "2"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise RuntimeError(f"backup failed: {done.stderr[-2000:]}")
    reported = re.search(r"Backup written in ([\d.]+) s \((\d+) bytes\)", done.stderr)
    assert reported is not None, done.stderr
    return {"wall_s": wall, "reported_s": float(reported[1]), "archive_bytes": int(reported[2])}


def _server(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "mcp_workbench", "serve", "--transport", "http", "--no-auth", "--port", str(port)],
            env=env,
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
    from bench.run import wait_http

    wait_http(f"http://127.0.0.1:{port}/livez", server)
    return server


def run(work: Path, *, rounds: int = 3, say: Any = _say) -> dict[str, Any]:
    from bench.run import free_port

    base = work / "backup-bench"
    data = base / "data"
    size = make_workspace(data / "workspace.db")
    say(f"  workspace: {size / 1e6:.0f} MB")
    env = {**child_env(work), "WORKBENCH_DATA_DIR": str(data), "WORKBENCH_LIMITS__DEFAULT": "100000/second"}
    archives = base / "archives"
    port = free_port()
    server = _server(env, port, base / "server.log")
    idle: list[dict[str, Any]] = []
    loaded: list[dict[str, Any]] = []
    try:
        _backup(env, archives)  # warm: page cache, byte-code
        for r in range(rounds):
            idle.append(_backup(env, archives))
            writers = Writers(port)
            writers.start()
            time.sleep(2.0)  # connected and warm
            baseline_start = time.perf_counter()
            time.sleep(BASELINE_S)
            b0 = time.perf_counter()
            result = _backup(env, archives)
            b1 = time.perf_counter()
            time.sleep(0.5)
            writers.stop()
            result["baseline"] = writers.window(baseline_start, b0)
            result["during"] = writers.window(b0, b1)
            result["workspace_bytes"] = (data / "workspace.db").stat().st_size
            loaded.append(result)
            say(
                f"  round {r + 1}: idle {idle[-1]['wall_s']:.2f} s (reported {idle[-1]['reported_s']:.2f} s); "
                f"serving writes {result['wall_s']:.2f} s (reported {result['reported_s']:.2f} s); writes "
                f"{result['baseline']['calls_per_s']:.0f}/s before, {result['during']['calls_per_s']:.0f}/s during"
            )
    finally:
        server.terminate()
        server.wait(30)
    verify = subprocess.run(
        [sys.executable, "-m", "mcp_workbench", "backup", "verify", str(max(archives.glob("*.tar")))],
        env=env, cwd=REPO, capture_output=True, text=True, check=False,
    )  # fmt: skip
    return {
        "workspace_mb": size / 1e6,
        "writers": WRITERS,
        "rounds": rounds,
        "idle": idle,
        "serving": loaded,
        "last_archive_verified": verify.returncode == 0,
        "summary": {
            "idle_wall_s": median([x["wall_s"] for x in idle]),
            "idle_reported_s": median([x["reported_s"] for x in idle]),
            "serving_wall_s": median([x["wall_s"] for x in loaded]),
            "serving_reported_s": median([x["reported_s"] for x in loaded]),
            "archive_mb": median([x["archive_bytes"] for x in loaded]) / 1e6,
            "writes_per_s_before": median([x["baseline"]["calls_per_s"] for x in loaded]),
            "writes_per_s_during": median([x["during"]["calls_per_s"] for x in loaded]),
            "write_p50_ms_before": median([x["baseline"]["latency_ms"]["p50"] for x in loaded]),
            "write_p50_ms_during": median([x["during"]["latency_ms"]["p50"] for x in loaded]),
            "write_p99_ms_before": median([x["baseline"]["latency_ms"]["p99"] for x in loaded]),
            "write_p99_ms_during": median([x["during"]["latency_ms"]["p99"] for x in loaded]),
            "write_errors": sum(x["during"]["errors"] + x["baseline"]["errors"] for x in loaded),
        },
    }


def report(results: dict[str, Any]) -> str:
    s = results["summary"]
    return "\n".join(
        [
            "## Backup of a 100 MB workspace while serving writes",
            "",
            (
                f"Workspace {results['workspace_mb']:.0f} MB; {results['writers']} HTTP clients inserting rows back "
                f"to back; `mcp-workbench backup` as its own process; medians of {results['rounds']} rounds."
            ),
            "",
            "| | idle server | serving writes |",
            "|---|---:|---:|",
            f"| backup command, wall time | {s['idle_wall_s']:.2f} s | {s['serving_wall_s']:.2f} s |",
            f"| backup itself (as it reports) | {s['idle_reported_s']:.2f} s | {s['serving_reported_s']:.2f} s |",
            "",
            (
                f"Archive {s['archive_mb']:.0f} MB; the newest verified: {results['last_archive_verified']}. Writes "
                f"while the backup ran: {s['writes_per_s_during']:.0f}/s against {s['writes_per_s_before']:.0f}/s "
                f"just before ({s['writes_per_s_during'] / s['writes_per_s_before']:.2f}x); p50 "
                f"{s['write_p50_ms_during']:.1f} ms against {s['write_p50_ms_before']:.1f} ms, p99 "
                f"{s['write_p99_ms_during']:.1f} ms against {s['write_p99_ms_before']:.1f} ms; failed writes: "
                f"{s['write_errors']}."
            ),
            "",
        ]
    )


if __name__ == "__main__":
    work = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(os.environ.get("TMPDIR", "/tmp")) / "mcp-workbench-bench"
    _say(json.dumps(run(work), indent=1))

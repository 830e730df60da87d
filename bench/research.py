"""The research phase: every source faked at 200 ms latency, with the providers' own pacing.

    uv run python -m bench.research            # all corpus questions, standard depth
    uv run python -m bench.research --quick    # the first ten
    uv run python -m bench.research --shared   # and each again with the turns booked on Redis

The fake providers of the tests (``tests/research/fakes.py``, the real wire formats) run in a
child process, so the CPU measured here is the research run's alone. Each question is one
standard run on a fresh service (fresh pacers, empty HTTP cache), as a first call would be.

With ``--shared`` every question is run twice, interleaved: with the turns booked in this
process, and on a Redis this phase starts (emptied before each run), as workers and replicas
share them; the Redis book lives across runs, as a server's does. The two are reported side by
side.

Per run it measures: the time to the first progress notification; the wall time; the CPU time
of this process; and the slowest source's unavoidable minimum: for the requests each source
actually sent, the time they need at 200 ms each under that source's pacing (interval between
starts, requests in flight), taking the largest over sources. The gather is parallel when the
wall time stays close to that minimum (target: at most 1.3×). Recall@10 of the corpus' known
items is computed from the same runs.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import anyio

REPO = Path(__file__).resolve().parent.parent
LATENCY_S = 0.2
TARGET_RATIO = 1.3


def serve() -> None:
    """Child process: start every fake provider, print their URLs as one JSON line, wait for stdin to close."""
    sys.path.insert(0, str(REPO))
    from tests.research.fakes import PROVIDERS, load_documents

    documents = load_documents()
    started = {name: cls(name, documents, latency_s=LATENCY_S).start() for name, cls in PROVIDERS.items()}
    sys.stdout.write(json.dumps({name: p.url for name, p in started.items()}) + "\n")
    sys.stdout.flush()
    sys.stdin.read()
    for provider in started.values():
        provider.stop()


def minimum_s(requests: int, interval_s: float, concurrent: int, latency_s: float = LATENCY_S) -> float:
    """The earliest the last of ``requests`` can finish under the pacing rules."""
    starts: list[float] = []
    ends: list[float] = []
    for _ in range(requests):
        start = starts[-1] + interval_s if starts else 0.0
        if len(ends) >= concurrent:
            start = max(start, sorted(ends)[-concurrent])
        starts.append(start)
        ends.append(start + latency_s)
    return max(ends, default=0.0)


def run(*, quick: bool = False, shared: bool = False, say: Callable[[str], None] = print) -> dict[str, Any]:
    if not shared:
        return anyio.run(_run, quick, None, say)
    redis = _start_redis()
    try:
        return anyio.run(_run, quick, redis[1], say)
    finally:
        redis[0].terminate()
        redis[0].wait(timeout=10)


def _start_redis() -> tuple[subprocess.Popen[bytes], str]:
    import shutil
    import socket

    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    return proc, f"redis://127.0.0.1:{port}/0"


async def _run(quick: bool, redis_url: str | None, say: Callable[[str], None]) -> dict[str, Any]:
    sys.path.insert(0, str(REPO))
    from tests.research.fakes import load_questions

    from mcp_workbench.research.pacing import MemoryPaceBook, PaceBook, RedisPaceBook
    from mcp_workbench.research.settings import ResearchSettings
    from mcp_workbench.web.fetch import Fetcher
    from mcp_workbench.web.settings import WebSettings

    child = subprocess.Popen(  # noqa: ASYNC220 - started once, before anything is measured
        [sys.executable, "-m", "bench.research", "--serve"], cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert child.stdout is not None and child.stdin is not None
    urls: dict[str, str] = json.loads(child.stdout.readline())
    questions = load_questions()[: 10 if quick else None]
    rows = []
    try:
        sources = {name: ({} if name == "feeds" else {"base_url": url}) for name, url in urls.items()}
        settings = ResearchSettings(
            contact="mailto:bench@example.org",
            feeds=[f"{urls['feeds']}/rss.xml", f"{urls['feeds']}/atom.xml"],
            sources=sources,
        )
        warm = Fetcher(WebSettings())
        warm.client()  # the HTTP stack's imports are a start-up cost, not a run's
        await warm.aclose()
        # A server's Redis book (and its connections) lives across runs: one for all, emptied before each.
        shared = RedisPaceBook(redis_url) if redis_url is not None else None
        books: dict[str, Callable[[], PaceBook]] = {"memory": MemoryPaceBook}
        if shared is not None:
            books["redis"] = lambda: shared
        for number, question in enumerate(questions):
            names = list(books) if number % 2 == 0 else list(reversed(books))  # interleaved, neither always first
            for book_name in names:
                if book_name == "redis":
                    await _flush(redis_url)
                row = await _one_run(settings, urls, question, books[book_name]())
                rows.append({"book": book_name, **row})
                say(
                    f"  {question['id']} ({book_name}): {row['wall_s']:.2f} s wall, floor "
                    f"{row['slowest_minimum_s']:.2f} s ({row['slowest_source']}), first progress "
                    f"{row['first_progress_ms']:.1f} ms, cpu {row['cpu_ms']:.0f} ms, recall {row['recall_at_10']:.2f}"
                )
        if shared is not None:
            await shared.aclose()
    finally:
        child.stdin.close()
        child.wait(timeout=10)
    summary = _summary([row for row in rows if row["book"] == "memory"])
    if redis_url is not None:
        summary["shared"] = _summary([row for row in rows if row["book"] == "redis"])
    return summary


async def _one_run(settings: Any, urls: dict[str, str], question: dict[str, Any], book: Any) -> dict[str, Any]:
    """One standard run of ``question`` on a fresh service (fresh pacers, empty HTTP cache)."""
    from tests.research.corpus_keys import canonical_keys, keys_of

    from mcp_workbench.research.models import Progress, ResearchRequest
    from mcp_workbench.research.service import ResearchService
    from mcp_workbench.research.sources.base import WebSource
    from mcp_workbench.web.fetch import Fetcher
    from mcp_workbench.web.service import ApiClient
    from mcp_workbench.web.settings import WebSettings

    fetcher = Fetcher(WebSettings(allow_hosts=["127.0.0.1"]))
    counting = _Counting(ApiClient(fetcher))
    service = ResearchService(settings, counting, book=book)
    first: list[float] = []

    async def progress(event: Progress) -> None:
        if not first:
            first.append(time.perf_counter())

    cpu, began = time.process_time(), time.perf_counter()
    result = await service.run(ResearchRequest(question=question["question"]), progress=progress)
    wall = time.perf_counter() - began
    cpu = time.process_time() - cpu
    await fetcher.aclose()
    floors = {}
    for name, source in service.sources.items():
        if not isinstance(source, WebSource) or name not in counting.by_source(urls):
            continue
        rules = source.etiquette(settings).configured(settings.sources.get(name))
        floors[name] = minimum_s(counting.by_source(urls)[name], rules.min_interval_s, rules.max_concurrent)
    slowest = max(floors, key=lambda n: floors[n])
    found = set().union(*(keys_of(item) for item in result.evidence)) if result.evidence else set()
    hits = [r for r in question["relevant"] if canonical_keys({r}) & found]
    return {
        "question": question["id"],
        "wall_s": round(wall, 3),
        "first_progress_ms": round((first[0] - began) * 1000, 2),
        "cpu_ms": round(cpu * 1000, 1),
        "slowest_source": slowest,
        "slowest_minimum_s": round(floors[slowest], 3),
        "ratio": round(wall / floors[slowest], 3),
        "requests": counting.by_source(urls),
        "recall_at_10": round(len(hits) / len(question["relevant"]), 3),
        "statuses": sorted({s.status for s in result.sources}),
        "source_ms": {s.name: s.elapsed_ms for s in result.sources},
    }


async def _flush(url: str | None) -> None:
    """A fresh book for the next run: nothing booked, nothing paused."""
    import redis.asyncio as aioredis

    client = aioredis.from_url(url or "")
    await client.flushdb()
    await client.aclose()


class _Counting:
    """The production WebClient, counting the requests that reach each origin (cache hits included,
    which these fresh services never have)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.counts: dict[str, int] = defaultdict(int)

    async def get(self, url: str, **kwargs: Any) -> Any:
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        self.counts[f"{parts.scheme}://{parts.netloc}"] += 1
        return await self._inner.get(url, **kwargs)

    def by_source(self, urls: Mapping[str, str]) -> dict[str, int]:
        return {name: self.counts[url] for name, url in urls.items() if self.counts.get(url)}


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    def median(values: list[float]) -> float:
        ordered = sorted(values)
        middle = len(ordered) // 2
        return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2

    def p90(values: list[float]) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]

    ratios = [r["ratio"] for r in rows]
    return {
        "latency_s": LATENCY_S,
        "runs": len(rows),
        "first_progress_ms": {
            "median": median([r["first_progress_ms"] for r in rows]),
            "max": max(r["first_progress_ms"] for r in rows),
        },
        "wall_s": {"median": median([r["wall_s"] for r in rows]), "p90": p90([r["wall_s"] for r in rows])},
        "slowest_minimum_s": {"median": median([r["slowest_minimum_s"] for r in rows])},
        "ratio": {"median": median(ratios), "p90": p90(ratios), "max": max(ratios), "target": TARGET_RATIO},
        "cpu_ms": {"median": median([r["cpu_ms"] for r in rows]), "p90": p90([r["cpu_ms"] for r in rows])},
        "recall_at_10": round(sum(r["recall_at_10"] for r in rows) / len(rows), 3),
        "rows": rows,
    }


def render(summary: dict[str, Any]) -> str:
    s = summary
    progress, wall, ratio, cpu = s["first_progress_ms"], s["wall_s"], s["ratio"], s["cpu_ms"]
    lines = [
        "## Research (every source faked at 200 ms latency, providers' pacing)",
        "",
        "| measure | value |",
        "|---|---:|",
        f"| standard runs | {s['runs']} (one per corpus question, fresh service each) |",
        f"| time to first progress | {progress['median']:.1f} ms median, {progress['max']:.1f} ms max |",
        f"| wall time | {wall['median']:.2f} s median, {wall['p90']:.2f} s p90 |",
        f"| slowest source's unavoidable minimum | {s['slowest_minimum_s']['median']:.2f} s median |",
        (
            f"| wall / minimum | {ratio['median']:.2f}× median, {ratio['p90']:.2f}× p90, {ratio['max']:.2f}× max "
            f"(target ≤ {ratio['target']}×) |"
        ),
        f"| CPU of the run (this process) | {cpu['median']:.0f} ms median, {cpu['p90']:.0f} ms p90 |",
        f"| recall@10 of the known items | {s['recall_at_10']:.3f} |",
    ]
    shared = s.get("shared")
    if shared:
        lines += [
            "",
            "The same questions with the turns booked on Redis (as workers and replicas share them), interleaved:",
            "",
            "| measure | this process's book | Redis |",
            "|---|---:|---:|",
            f"| wall time, median | {wall['median']:.2f} s | {shared['wall_s']['median']:.2f} s |",
            f"| wall / minimum, median | {ratio['median']:.2f}× | {shared['ratio']['median']:.2f}× |",
            f"| CPU of the run, median | {cpu['median']:.0f} ms | {shared['cpu_ms']['median']:.0f} ms |",
            f"| recall@10 | {s['recall_at_10']:.3f} | {shared['recall_at_10']:.3f} |",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.research", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the first ten corpus questions only")
    parser.add_argument("--shared", action="store_true", help="also book the turns on a Redis (redis-server on PATH)")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help="also write the summary here")
    args = parser.parse_args(argv)
    if args.serve:
        serve()
        return 0
    summary = run(quick=args.quick, shared=args.shared, say=lambda line: sys.stderr.write(line + "\n"))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=1))
    sys.stdout.write(render(summary) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A hostile page cannot keep a CPU busy after its call has ended: content extraction runs in a
worker process that is killed at ``convert_timeout_s``, at the call's own budget, and when the
server shuts down (SIGTERM over HTTP and stdio, within ``shutdown_grace_s``).

The hostile page is one element with a hundred thousand attributes, whose extraction takes
minutes of CPU. The worker doing it is found in the kernel's process table (a grandchild of
the server, under the forkserver, using CPU), and each test checks that it is gone.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
from pathlib import Path
from typing import Any

import anyio
import pytest
from fastmcp import Client

from tests.fuzz.wire import MODERN, HttpPeer, StdioPeer
from tests.support.loopback_site import SITE, Reply, Site
from tests.support.timeouts import SUBPROCESSES
from tests.support.waiting import eventually

pytestmark = pytest.mark.anyio

HTML = {"content-type": "text/html; charset=utf-8"}
ATTRIBUTES = 128_000
HOSTILE = (
    "<html><head><title>t</title></head><body><div "
    + " ".join(f'a{i}="x"' for i in range(ATTRIBUTES))
    + ">hello</div></body></html>"
)
ORDINARY = (
    "<html><head><title>Fine</title></head><body><article><h1>An ordinary page</h1>"
    "<p>It has a heading and a paragraph long enough to count as the main content of the page, "
    "which is all an extractor needs to find it.</p></article></body></html>"
)
BUSY_TICKS = 5  # CPU time (clock ticks) that shows a worker is extracting
EXTRACTING_TICKS = 300  # more CPU than starting a worker and importing the extractor takes


def _table() -> dict[int, tuple[int, str, int]]:
    """Every process: pid → (parent pid, state, CPU ticks used)."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        table[int(entry)] = (int(fields[1]), fields[0], int(fields[11]) + int(fields[12]))
    return table


def busy_workers(root: int) -> set[int]:
    """Processes at least two generations below ``root`` (workers under the forkserver) using CPU."""
    table = _table()
    found = set()
    for pid, (_parent, state, ticks) in table.items():
        depth, ancestor = 0, pid
        while ancestor in table and ancestor != root and depth < 10:
            ancestor, depth = table[ancestor][0], depth + 1
        if ancestor == root and depth >= 2 and state != "Z" and ticks >= BUSY_TICKS:
            found.add(pid)
    return found


def alive(pids: set[int]) -> set[int]:
    table = _table()
    return {pid for pid in pids if pid in table and table[pid][1] != "Z"}


async def extraction_started(root: int) -> set[int]:
    seen: set[int] = set()

    def busy() -> bool:
        seen.update(busy_workers(root))
        return bool(seen)

    await eventually(busy, "a worker is extracting the hostile page")
    return seen


def server_tree(root: int) -> dict[int, int]:
    """``root`` and every process below it: pid → CPU ticks used."""
    table = _table()
    tree = {root: table[root][2]} if root in table else {}
    grew = True
    while grew:
        below = {pid: ticks for pid, (parent, state, ticks) in table.items() if parent in tree and state != "Z"}
        grew = not below.keys() <= tree.keys()
        tree.update(below)
    return tree


async def server_extracting(root: int, site: Site, path: str) -> set[int]:
    """Once the site has served ``path``, wait until some process of the server's tree (the server
    itself or one below it, whatever runs the extraction) has used EXTRACTING_TICKS of CPU since;
    return the tree as it is then."""

    await eventually(lambda: site.hits(path) > 0, f"the site has served {path}")
    since = server_tree(root)

    def busy() -> bool:
        return any(ticks - since.get(pid, 0) >= EXTRACTING_TICKS for pid, ticks in server_tree(root).items())

    await eventually(busy, "the server is extracting the hostile page", timeout_s=120)
    return set(server_tree(root))


async def all_gone(pids: set[int]) -> None:
    await eventually(
        lambda: not alive(pids), f"the workers {sorted(pids)} have ended", explain=lambda: f"still alive: {alive(pids)}"
    )


class TestTimeoutMeansTheExtractionStopped:
    async def test_past_convert_timeout_the_answer_is_timeout_and_the_worker_is_gone(
        self, connect, web_settings, site: Site
    ) -> None:
        hostile = site.route("/hostile", Reply(200, HOSTILE, HTML))
        ordinary = site.route("/ordinary", Reply(200, ORDINARY, HTML))
        async with connect(web_settings(convert_timeout_s=2)) as session:
            seen: set[int] = set()
            async with anyio.create_task_group() as tasks:

                async def watch() -> None:
                    seen.update(await extraction_started(os.getpid()))

                tasks.start_soon(watch)
                for fmt in ("markdown", "text"):
                    error = await session.error("web_fetch", "TIMEOUT", url=hostile, format=fmt)
                    assert error["details"]["convert_timeout_s"] == 2
                    assert error["retryable"] is False
                    assert any("format 'raw'" in step for step in error["recovery_steps"])
            assert seen
            await all_gone(seen)
            outcome = await session.call("web_fetch", url=ordinary)  # the pool has a fresh worker
            assert not outcome.is_error and "# An ordinary page" in outcome.text, outcome.text
            raw = await session.call("web_fetch", url=hostile, format="raw", max_length=100)  # no extraction
            assert not raw.is_error and raw.text.startswith("<html>"), raw.text

    async def test_the_call_budget_stops_the_extraction_too(self, connect, make_settings, site: Site) -> None:
        hostile = site.route("/hostile", Reply(200, HOSTILE, HTML))
        settings = make_settings(
            tools=["web"],
            web={"allow_hosts": [SITE], "resolve": {SITE: ["127.0.0.1"]}, "convert_timeout_s": 600},
            timeouts={"tools": {"web_fetch": 3}},
        )
        async with connect(settings) as session:
            seen: set[int] = set()
            async with anyio.create_task_group() as tasks:

                async def watch() -> None:
                    seen.update(await extraction_started(os.getpid()))

                tasks.start_soon(watch)
                error = await session.error("web_fetch", "TIMEOUT", url=hostile)
                assert error["details"]["timeout_s"] == 3
            await all_gone(seen)


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "web.toml"
    path.write_text(
        'tools = ["web"]\n'
        "[http]\nshutdown_grace_s = 1.0\n"
        "[timeouts]\ndefault_s = 600\n"
        f'[web]\nallow_hosts = ["{SITE}"]\nconvert_timeout_s = 600\n'
        f'[web.resolve]\n"{SITE}" = ["127.0.0.1"]\n',
        encoding="utf-8",
    )
    return path


@SUBPROCESSES
class TestShutdownStopsARunningExtraction:
    """SIGTERM while the server extracts a page that would take minutes: it exits 0 within its
    grace (well before the extraction could end) and leaves no process behind. Shutdown does not
    depend on the era, so each transport runs in one, and the two transports cover both."""

    @pytest.mark.parametrize("era", ["legacy"])
    async def test_over_http(self, site: Site, tmp_path: Path, era: str) -> None:
        url = site.route("/hostile", Reply(200, HOSTILE, HTML))
        server = HttpPeer("legacy", tmp_path / "data", args=["--config", str(_config(tmp_path))]).start()
        assert server.proc is not None
        try:

            async def call() -> None:
                with contextlib.suppress(Exception):  # the server goes away under it: that is the point
                    async with Client(f"{server.base}/mcp", mode=era, timeout=600) as client:
                        await client.call_tool_mcp("web_fetch", {"url": url})

            with anyio.fail_after(120):
                async with anyio.create_task_group() as tasks:
                    tasks.start_soon(call)
                    tree = await server_extracting(server.proc.pid, site, "/hostile")
                    server.proc.send_signal(signal.SIGTERM)
                    code = await anyio.to_thread.run_sync(server.proc.wait, 60)
                    tasks.cancel_scope.cancel()
            assert code == 0, server.stderr_text()[-3000:]
            await all_gone(tree)
        finally:
            if server.proc.poll() is None:
                server.stop()

    @pytest.mark.parametrize("era", ["auto"])
    async def test_over_stdio(self, site: Site, tmp_path: Path, era: str) -> None:
        url = site.route("/hostile", Reply(200, HOSTILE, HTML))
        wire_era = "legacy" if era == "legacy" else MODERN
        peer = StdioPeer(wire_era, tmp_path / "data", env={"WORKBENCH_CONFIG": str(_config(tmp_path))}).start()
        assert peer.proc is not None
        try:
            call: dict[str, Any] = {
                "jsonrpc": "2.0",
                "id": "hostile",
                "method": "tools/call",
                "params": {"name": "web_fetch", "arguments": {"url": url}},
            }
            peer.send(json.dumps(peer.with_meta(call)).encode())
            with anyio.fail_after(120):
                tree = await server_extracting(peer.proc.pid, site, "/hostile")
                peer.proc.send_signal(signal.SIGTERM)
                code = await anyio.to_thread.run_sync(peer.proc.wait, 60)
            assert code == 0, peer.stderr_text()[-3000:]
            assert not peer.non_protocol_lines()
            await all_gone(tree)
        finally:
            peer.close()

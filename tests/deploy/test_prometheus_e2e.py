"""The alerts end to end: a real Prometheus scrapes a real server with the rules of deploy/; we
cause failures and watch the matching alerts go from inactive to firing through Prometheus's API.

The rules are the shipped ones with one change: every ``for`` is 0s, so an alert fires at the
first evaluation its expression holds instead of minutes later (the promtool tests check the
durations). Prometheus scrapes every 2 s and evaluates every second.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastmcp import Client
from ruamel.yaml import YAML

from tests.support.servers import HttpServer, create_key, free_port, request
from tests.support.tools import require
from tests.support.waiting import wait_until

pytestmark = pytest.mark.anyio

RULES = Path(__file__).resolve().parents[2] / "deploy" / "prometheus" / "workbench-rules.yml"
WATCHED = ("WorkbenchAuthFailureSurge", "WorkbenchToolErrorRatioHigh", "WorkbenchBackupFailing")
DEADLINE_S = 180.0
INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}},
}


class Prometheus:
    def __init__(self, binary: Path, work: Path, target: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        yaml = YAML(typ="safe")
        rules = yaml.load(RULES.read_text(encoding="utf-8"))
        for group in rules["groups"]:
            for rule in group["rules"]:
                if "alert" in rule:
                    rule["for"] = "0s"
        (work / "rules.yml").write_text(json.dumps(rules), encoding="utf-8")  # JSON is YAML
        config = {
            "global": {"scrape_interval": "2s", "scrape_timeout": "2s", "evaluation_interval": "1s"},
            "rule_files": [str(work / "rules.yml")],
            "scrape_configs": [{"job_name": "mcp-workbench", "static_configs": [{"targets": [target]}]}],
        }
        (work / "prometheus.yml").write_text(json.dumps(config), encoding="utf-8")
        self.log = (work / "prometheus.log").open("w")
        self.proc = subprocess.Popen(
            [str(binary), f"--config.file={work / 'prometheus.yml'}", f"--storage.tsdb.path={work / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def api(self, path: str) -> Any:
        with urllib.request.urlopen(f"{self.base}{path}", timeout=10) as response:
            return json.loads(response.read())["data"]

    def states(self) -> dict[str, str]:
        return {
            rule["name"]: rule["state"]
            for group in self.api("/api/v1/rules?type=alert")["groups"]
            for rule in group["rules"]
        }

    def explain(self) -> str:
        """What the rules see, for a failure's message."""
        queries = ("workbench_tool_calls_total", "workbench:tool_calls:rate5m", "workbench:tool_error_ratio:rate5m")
        return json.dumps({q: self.api(f"/api/v1/query?query={q}")["result"] for q in queries})

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def until(what: str, check: Callable[[], bool], prometheus: Prometheus) -> None:
    """Poll ``check`` until it holds (connection errors count as "not yet"); fail past the
    deadline, or when Prometheus exits, with its log."""
    wait_until(
        check,
        what,
        timeout_s=DEADLINE_S,
        poll_s=0.5,
        process=prometheus.proc,
        ignore=(OSError,),
        explain=lambda: "prometheus log:\n" + Path(prometheus.log.name).read_text(encoding="utf-8")[-3000:],
    )


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[HttpServer, Prometheus, str, Path]]:
    binary = require("prometheus", debian_package="prometheus")
    data, backups = tmp_path / "data", tmp_path / "backups"
    config = tmp_path / "c.toml"
    config.write_text(
        f'[backup]\ninterval = "1s"\nkeep = 2\noutput = "{backups}"\n[web]\nallow_hosts = ["127.0.0.1"]\n'
        '[limits]\ndefault = "100000/minute"\n',
        encoding="utf-8",
    )
    key = create_key(data, "*")
    server = HttpServer(["--config", str(config)], data).start()
    (tmp_path / "prometheus").mkdir()
    prometheus = Prometheus(binary, tmp_path / "prometheus", f"127.0.0.1:{server.port}")
    try:
        yield server, prometheus, key, backups
    finally:
        prometheus.stop()
        server.stop()


async def test_alerts_go_from_inactive_to_firing_in_a_real_prometheus(
    setup: tuple[HttpServer, Prometheus, str, Path],
) -> None:
    server, prometheus, key, backups = setup

    def scraped_and_evaluated() -> bool:
        targets = prometheus.api("/api/v1/targets")["activeTargets"]
        ready = prometheus.api("/api/v1/query?query=workbench_ready")["result"]
        return (
            bool(targets) and targets[0]["health"] == "up" and bool(ready) and set(WATCHED) <= set(prometheus.states())
        )

    await asyncio.to_thread(
        until, "Prometheus scrapes the server and evaluates the rules", scraped_and_evaluated, prometheus
    )
    await asyncio.sleep(2)  # a few evaluations with data
    before = await asyncio.to_thread(prometheus.states)
    assert {name: before[name] for name in WATCHED} == dict.fromkeys(WATCHED, "inactive")

    # 1. backups fail: the output directory becomes a file (moved aside in one step: a scheduled
    # backup may be writing into it right now)
    backups.rename(backups.with_name("backups-before"))
    backups.write_text("not a directory", encoding="utf-8")

    # 2. credentials are guessed, over and over
    stop = threading.Event()

    def guess() -> None:
        headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json",
                   "Authorization": "Bearer wbk_000000000000_guessed"}  # fmt: skip
        while not stop.is_set():
            assert request("POST", server.url, INIT, headers)[0] == 401

    guesser = threading.Thread(target=guess, daemon=True)
    guesser.start()

    # 3. a tool fails by an upstream's fault: web_fetch of a site that refuses connections
    try:
        async with Client(server.url, auth=key) as client:
            deadline = time.monotonic() + DEADLINE_S
            while (await asyncio.to_thread(prometheus.states))["WorkbenchToolErrorRatioHigh"] != "firing":
                failed = await client.call_tool_mcp("web_fetch", {"url": f"http://127.0.0.1:{free_port()}/"})
                assert failed.is_error and json.loads(failed.content[0].text)["error_code"] == "UPSTREAM_ERROR"
                assert time.monotonic() < deadline, f"WorkbenchToolErrorRatioHigh did not fire: {prometheus.explain()}"
                await asyncio.sleep(0.2)
        await asyncio.to_thread(
            until, "every watched alert fires",
            lambda: all(prometheus.states()[name] == "firing" for name in WATCHED), prometheus,
        )  # fmt: skip
    finally:
        stop.set()
        guesser.join(30)

    firing = {a["labels"]["alertname"]: a for a in prometheus.api("/api/v1/alerts")["alerts"] if a["state"] == "firing"}
    assert firing["WorkbenchToolErrorRatioHigh"]["labels"]["tool"] == "web_fetch"
    assert firing["WorkbenchToolErrorRatioHigh"]["annotations"]["summary"].startswith(
        "web_fetch fails 100% of its calls"
    )
    assert firing["WorkbenchBackupFailing"]["labels"]["instance"] == f"127.0.0.1:{server.port}"
    assert "rejected credentials/s (mcp-workbench)" in firing["WorkbenchAuthFailureSurge"]["annotations"]["summary"]

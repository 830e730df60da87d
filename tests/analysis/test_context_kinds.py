"""Context of kinds sql, table, file and url, gathered through the data, files and web
capabilities with the caller's scopes and the same safety as their tools."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastmcp import Client

from mcp_workbench.asgi import server_app
from mcp_workbench.platform.keys import KeyStore
from mcp_workbench.server import build_server
from mcp_workbench.settings import Settings, load_settings
from tests.support.loopback_site import Reply, Site
from tests.support.servers import serving_in_thread
from tests.support.session import Session

pytestmark = pytest.mark.anyio

PAGE = "<html><body><main><h1>Quarterly note</h1><p>Revenue in the third quarter reached 4,200 units of the new " \
    "product line, the highest quarter so far.</p></main></body></html>"  # fmt: skip


@dataclass
class World:
    base: Path
    page_url: str

    def settings(self, **overrides: Any) -> Settings:
        return load_settings(
            None,
            data_dir=self.base / "data",
            files={"roots": {"notes": {"path": str(self.base / "notes")}}},
            web={"allow_hosts": ["127.0.0.1"], "ignore_robots": True},
            log_level="WARNING",
            **overrides,
        )

    def items(self) -> dict[str, dict[str, Any]]:
        return {
            "sql": {"kind": "sql", "sql": "SELECT month, units FROM sales WHERE units > ?", "params": [0]},
            "table": {"kind": "table", "table": "sales"},
            "file": {"kind": "file", "root": "notes", "path": "march.md"},
            "url": {"kind": "url", "url": self.page_url},
        }


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    base = tmp_path_factory.mktemp("kinds")
    (base / "notes").mkdir()
    (base / "notes" / "march.md").write_text("# March\n\nThe shop sold 120 units in March.\n", encoding="utf-8")
    (base / "data").mkdir()
    with sqlite3.connect(base / "data" / "workspace.db") as db:
        db.execute("CREATE TABLE sales (month TEXT, units INTEGER)")
        db.executemany("INSERT INTO sales VALUES (?, ?)", [("January", 80), ("February", 95), ("March", 120)])
    site = Site().start()
    try:
        site.route("/note", Reply(200, PAGE, {"Content-Type": "text/html; charset=utf-8"}))
        yield World(base, site.url("/note", host="127.0.0.1"))
    finally:
        site.stop()


async def _brief(session: Session, item: dict[str, Any]) -> dict[str, Any]:
    out = await session.ok("analyze", task="How did sales go?", context=[item], mode="brief")
    [gathered] = out["brief"]["context"]
    return gathered


async def test_every_kind_is_gathered_through_its_capability(world: World, era: str) -> None:
    async with Client(build_server(world.settings()), mode=era) as client:
        session = Session(client)
        sql = await _brief(session, world.items()["sql"])
        table = await _brief(session, world.items()["table"])
        file = await _brief(session, world.items()["file"])
        page = await _brief(session, world.items()["url"])
    assert sql["kind"] == "rows" and sql["label"].startswith("sql on workspace")
    assert sql["profile"]["row_count"] == 3
    assert [c["max"] for c in sql["profile"]["columns"] if c["name"] == "units"] == [120]
    assert table["kind"] == "rows" and table["label"] == "table sales of workspace"
    assert [c["name"] for c in table["profile"]["columns"]] == ["month", "units"]
    assert "120 units in March" in json.dumps(file)
    assert "4,200 units" in json.dumps(page)


async def test_the_capabilities_safety_holds_for_the_context(world: World) -> None:
    async with Client(build_server(world.settings())) as client:
        session = Session(client)
        writing = await session.call(
            "analyze", task="t", context=[{"kind": "sql", "sql": "DELETE FROM sales"}], mode="brief"
        )
        escaping = await session.call(
            "analyze", task="t", context=[{"kind": "file", "root": "notes", "path": "../data/workspace.db"}]
        )
        private = await session.call(
            "analyze", task="t", context=[{"kind": "url", "url": "http://169.254.169.254/latest/meta-data/"}]
        )
    assert writing.is_error and writing.code in {"PERMISSION_DENIED", "READ_ONLY"}, writing.text
    assert escaping.is_error and escaping.code == "PERMISSION_DENIED", escaping.text
    assert private.is_error and private.code == "PERMISSION_DENIED", private.text
    with sqlite3.connect(world.base / "data" / "workspace.db") as db:
        assert db.execute("SELECT count(*) FROM sales").fetchone() == (3,)


async def test_a_kind_whose_capability_is_off_is_refused_before_anything_is_gathered(world: World) -> None:
    async with Client(build_server(world.settings(tools=["analysis", "files"]))) as client:
        session = Session(client)
        refused = await session.error(
            "analyze", "VALIDATION_ERROR", task="t", context=[world.items()["file"], world.items()["sql"]], mode="brief"
        )
    assert refused["details"]["unavailable"] == ["sql"]


@dataclass
class Served:
    url: str
    keys: KeyStore

    def client(self, scopes: list[str], era: str) -> Client:
        return Client(self.url, mode=era, auth=self.keys.create("test", scopes)[1])


@pytest.fixture(scope="module")
def served(world: World) -> Iterator[Served]:
    settings = world.settings(transport="http")
    with serving_in_thread(server_app(build_server(settings), settings, stateless=False)) as port:
        yield Served(f"http://127.0.0.1:{port}/mcp", KeyStore.in_dir(settings.data_dir))


OPENS = {"sql": "data:read", "table": "data:read", "file": "files:read", "url": "web"}


@pytest.mark.parametrize("kind", list(OPENS))
async def test_a_key_without_the_kinds_scope_gathers_nothing(served: Served, world: World, era: str, kind: str) -> None:
    others = sorted({scope for other, scope in OPENS.items() if scope != OPENS[kind]})
    async with served.client(["analyze", *others], era) as client:
        refused = await Session(client).error(
            "analyze", "NOT_FOUND", task="t", context=[world.items()[kind]], mode="brief"
        )
    assert "is not available to this call" in refused["error"]


@pytest.mark.parametrize("kind", list(OPENS))
async def test_the_kinds_scope_opens_it(served: Served, world: World, era: str, kind: str) -> None:
    async with served.client(["analyze", OPENS[kind]], era) as client:
        gathered = await _brief(Session(client), world.items()[kind])
    assert gathered["label"].startswith({"sql": "sql", "table": "table", "file": "file", "url": "page"}[kind])

"""A capability reaches another only through the services it offers, and only as far as the
caller's scopes reach.

The ``probe`` capability exists only here: it is installed after data, files and web, asks the
registry for their reader ports on behalf of whoever calls it, and is served over real HTTP
with API keys. A key that may use ``probe`` but not ``files:read`` cannot read a file through
it, exactly as it cannot through ``files_read``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import pytest
from fastmcp import Client, FastMCP
from mcp_types import ToolAnnotations
from pydantic import BaseModel

from mcp_workbench.asgi import server_app
from mcp_workbench.capability import Capability, Lazy, Services, Unavailable
from mcp_workbench.data.port import DataReader
from mcp_workbench.files.port import FilesReader
from mcp_workbench.platform.identity import LOCAL, Caller, current_caller
from mcp_workbench.platform.keys import KeyStore
from mcp_workbench.platform.tool_adapters import Answer, ModelTool
from mcp_workbench.server import build_server
from mcp_workbench.web.port import WebReader
from tests.support.loopback_site import Reply, Site
from tests.support.servers import serving_in_thread

pytestmark = pytest.mark.anyio

PROBE = "probe"


class ProbeArgs(BaseModel):
    kind: Literal["data", "files", "web"]
    target: str


class ProbeCapability(Capability):
    name = "probe"

    def __init__(self, services: Services) -> None:
        self.services = services

    async def probe(self, args: ProbeArgs) -> Answer:
        reach = self.services.for_caller(current_caller())
        if args.kind == "data":
            page = await reach.get(DataReader).sql("workspace", args.target)
            found = json.dumps(page.rows)
        elif args.kind == "files":
            found = (await reach.get(FilesReader).read_text(None, args.target)).text
        else:
            found = (await reach.get(WebReader).page(args.target, format="text")).text
        return Answer(found, {"found": found})


def install_probe(mcp: FastMCP, _section: object, services: Services) -> ProbeCapability:
    capability = ProbeCapability(services)
    mcp.add_tool(
        ModelTool.build(
            name="probe",
            title="Probe",
            description="Reads through another capability's service.",
            model=ProbeArgs,
            handler=capability.probe,
            annotations=ToolAnnotations(readOnlyHint=True),
            scope=PROBE,
        )
    )
    return capability


@dataclass
class Served:
    url: str
    keys: KeyStore
    page_url: str

    def client(self, scopes: list[str], era: str) -> Client:
        return Client(self.url, mode=era, auth=self.keys.create("test", scopes)[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    from mcp_workbench.server import CapabilitySpec
    from mcp_workbench.settings import load_settings

    base = tmp_path_factory.mktemp("contract")
    root = base / "proj"
    root.mkdir()
    (root / "notes.txt").write_text("the file\n", encoding="utf-8")
    data = base / "data"
    data.mkdir()
    with sqlite3.connect(data / "workspace.db") as db:
        db.execute("CREATE TABLE t (word TEXT)")
        db.execute("INSERT INTO t VALUES ('the row')")
    site = Site().start()
    site.route("/page", Reply(200, "the web page"))
    page_url = site.url("/page", host="127.0.0.1")
    settings = load_settings(
        None,
        data_dir=data,
        transport="http",
        files={"roots": {"proj": {"path": str(root)}}},
        web={"allow_hosts": ["127.0.0.1"], "ignore_robots": True},
        log_level="WARNING",
    )
    mcp = build_server(settings, extra_capabilities=[CapabilitySpec("probe", lambda s: None, install_probe)])
    try:
        with serving_in_thread(server_app(mcp, settings, stateless=False)) as port:
            yield Served(f"http://127.0.0.1:{port}/mcp", KeyStore.in_dir(data), page_url)
    finally:
        site.stop()


TARGETS = {"data": "SELECT word FROM t", "files": "notes.txt", "web": None}
FOUND = {"data": "the row", "files": "the file", "web": "the web page"}
OPENS = {"data": "data:read", "files": "files:read", "web": "web"}


async def _probe(served: Served, scopes: list[str], era: str, kind: str) -> tuple[bool, dict[str, Any]]:
    target = TARGETS[kind] or served.page_url
    async with served.client(scopes, era) as client:
        result = await client.call_tool("probe", {"kind": kind, "target": target}, raise_on_error=False)
    if result.is_error:
        return True, json.loads(result.content[0].text)
    return False, result.structured_content or {}


@pytest.mark.parametrize("kind", list(TARGETS))
async def test_a_key_without_the_scope_reaches_nothing_through_another_capability(
    served: Served, era: str, kind: str
) -> None:
    others = [scope for other, scope in OPENS.items() if other != kind]
    failed, body = await _probe(served, [PROBE, *others], era, kind)
    assert failed
    assert body["error_code"] == "NOT_FOUND"
    assert "is not available to this call" in body["error"]


@pytest.mark.parametrize("kind", list(TARGETS))
async def test_the_scope_that_opens_the_tool_opens_the_service(served: Served, era: str, kind: str) -> None:
    failed, body = await _probe(served, [PROBE, OPENS[kind]], era, kind)
    assert not failed, body
    assert FOUND[kind] in body["found"]


async def test_a_key_for_every_scope_reaches_every_service(served: Served) -> None:
    for kind in TARGETS:
        failed, body = await _probe(served, ["*"], "auto", kind)
        assert not failed, body


async def test_the_probe_itself_stays_behind_its_own_scope(served: Served) -> None:
    async with served.client(["files:read"], "auto") as client:
        assert "probe" not in [tool.name for tool in await client.list_tools()]


class TestServices:
    class Port:
        pass

    def test_a_port_is_built_once_and_only_when_asked_for(self) -> None:
        built: list[object] = []
        services = Services()
        services.offer(self.Port, Lazy(lambda: built.append(object()) or built[-1]), scope="x", what="the port")
        assert built == []
        reach = services.for_caller(Caller("key:1", frozenset({"x"})))
        assert reach.may(self.Port)
        assert reach.get(self.Port) is reach.get(self.Port) is built[0]

    def test_missing_and_refused_read_alike(self) -> None:
        services = Services()
        services.offer(self.Port, Lazy(self.Port), scope="x", what="the port")
        refused = services.for_caller(Caller("key:1", frozenset({"y"})))
        assert not refused.may(self.Port)
        with pytest.raises(Unavailable, match="the port is not available to this call"):
            refused.get(self.Port)
        with pytest.raises(Unavailable, match="is not available to this call"):
            Services().for_caller(LOCAL).get(self.Port)

    def test_the_local_caller_reaches_everything_offered(self) -> None:
        services = Services()
        services.offer(self.Port, Lazy(self.Port), scope="x", what="the port")
        assert isinstance(services.for_caller(LOCAL).get(self.Port), self.Port)

    def test_a_port_is_offered_once(self) -> None:
        services = Services()
        services.offer(self.Port, Lazy(self.Port), scope="x", what="the port")
        with pytest.raises(ValueError, match="already offered"):
            services.offer(self.Port, Lazy(self.Port), scope="y", what="again")

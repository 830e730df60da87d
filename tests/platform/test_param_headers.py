"""``Mcp-Param-*`` headers on the 2026-07-28 era over real HTTP: checked against the tool's
schema from a lookup built when the app starts, not from a tools/list run on every call;
a tool hidden from the caller stays hidden.

None of the product's tools declares ``x-mcp-header`` today, so each test adds one that does.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

import httpx2
import pytest
from fastmcp import Client
from fastmcp.client.transports import StreamableHttpTransport
from fastmcp.server.middleware import Middleware
from mcp.shared.exceptions import MCPError
from mcp_types.jsonrpc import HEADER_MISMATCH
from pydantic import Field

from mcp_workbench.asgi import server_app
from mcp_workbench.server import build_server
from tests.support.servers import create_key, serving_in_thread

pytestmark = pytest.mark.anyio
MODERN = "auto"  # negotiates 2026-07-28 against this server


class ListingCounter(Middleware):
    def __init__(self) -> None:
        self.listings = 0

    async def on_list_tools(self, context: Any, call_next: Any) -> Any:
        self.listings += 1
        return await call_next(context)


async def route_to(region: Annotated[str, Field(json_schema_extra={"x-mcp-header": "Region"})]) -> dict[str, str]:
    """Echo the region a proxy would route this call by."""
    return {"region": region}


class Served:
    def __init__(self, data_dir: Path, counter: ListingCounter, port: int) -> None:
        self.data_dir, self.counter = data_dir, counter
        self.url = f"http://127.0.0.1:{port}/mcp"


@pytest.fixture
def served(make_settings, tmp_path: Path) -> Iterator[Served]:
    settings = make_settings(transport="http")
    mcp = build_server(settings)
    mcp.tool(route_to)
    counter = ListingCounter()
    mcp.add_middleware(counter)
    with serving_in_thread(server_app(mcp, settings, stateless=False)) as port:
        yield Served(settings.data_dir, counter, port)


def client(url: str, key: str, rewrite: Callable[[httpx2.Request], None] | None = None) -> Client:
    """A 2026-07-28 client; ``rewrite`` edits each request on its way out, as a bad proxy would."""

    async def hook(request: httpx2.Request) -> None:
        if rewrite is not None:
            rewrite(request)

    def factory(**options: Any) -> httpx2.AsyncClient:
        return httpx2.AsyncClient(**options, event_hooks={"request": [hook]})

    return Client(StreamableHttpTransport(url, auth=key, httpx_client_factory=factory), mode=MODERN)


def _calls(name: str) -> Callable[[httpx2.Request], bool]:
    return lambda request: json.loads(request.content or b"{}").get("params", {}).get("name") == name


def set_region_header(value: str, on: Callable[[httpx2.Request], bool]) -> Callable[[httpx2.Request], None]:
    def rewrite(request: httpx2.Request) -> None:
        if on(request):
            request.headers["Mcp-Param-Region"] = value

    return rewrite


async def test_a_matching_header_is_served_without_listing_the_tools_per_call(served: Served) -> None:
    key = create_key(served.data_dir, "*")
    async with client(served.url, key) as session:
        assert "route_to" in [tool.name for tool in await session.list_tools()]  # the client learns the header
        before = served.counter.listings
        for region in ("eu", "us", "ap"):
            result = await session.call_tool_mcp("route_to", {"region": region})
            assert not result.is_error and result.structured_content == {"region": region}
        assert served.counter.listings == before


async def test_a_header_that_disagrees_with_the_body_is_refused_as_header_mismatch(served: Served) -> None:
    key = create_key(served.data_dir, "*")
    async with client(served.url, key, set_region_header("us", _calls("route_to"))) as session:
        await session.list_tools()
        with pytest.raises(MCPError) as refused:
            await session.call_tool_mcp("route_to", {"region": "eu"})
        assert refused.value.code == HEADER_MISMATCH and "Mcp-Param-Region" in refused.value.message


async def test_a_hidden_tool_answers_not_found_and_reveals_no_header(served: Served) -> None:
    key = create_key(served.data_dir, "data:read")  # route_to needs '*'
    async with client(served.url, key, set_region_header("us", _calls("route_to"))) as session:
        assert [tool.name for tool in await session.list_tools()] == ["data_read"]
        result = await session.call_tool_mcp("route_to", {"region": "eu"})  # with a mismatching header
    payload = json.loads(result.content[0].text)
    assert result.is_error and payload["error_code"] == "NOT_FOUND" and "scope" not in result.content[0].text
    assert "Region" not in result.content[0].text

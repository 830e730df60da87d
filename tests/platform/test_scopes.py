"""Scopes hold for every request that reaches a capability, over real HTTP with API keys.

tools/call, resources/read, prompts/get, completion/complete and the four listings all ask the
same question: does this component exist for this key? A component outside the key's scopes is
absent — left out of every listing and answered exactly as a component that does not exist —
and what the key may use spends from its rate limit like the tool of the same scope.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastmcp import Client
from mcp.shared.exceptions import MCPError
from mcp_types import PromptReference, ResourceTemplateReference

from mcp_workbench.platform.keys import KeyStore
from tests.support.servers import HttpServer, get

pytestmark = pytest.mark.anyio

FILE_TEMPLATE = "files://{root}/{path*}"
TABLE_TEMPLATE = "data://{source}/tables/{table}"
SCHEMA = "data://workspace/schema"
EVERY_TOOL = ["analyze", "data_read", "data_write", "files_read", "files_write", "research", "web_fetch"]

# What a key with each scope finds: tools, resources, resource templates, prompts.
VISIBLE = {
    "web": (["web_fetch"], [], [], []),
    "files:read": (["files_read"], [], [FILE_TEMPLATE], []),
    "files:write": (["files_write"], [], [], []),
    "data:read": (["data_read"], [SCHEMA], [TABLE_TEMPLATE], ["explore_database"]),
    "data:write": (["data_write"], [], [], []),
    "analyze": (["analyze"], [], [], ["analysis"]),
    "research": (["research"], [], [], ["research_brief"]),
    "*": (EVERY_TOOL, [SCHEMA], [TABLE_TEMPLATE, FILE_TEMPLATE], ["analysis", "explore_database", "research_brief"]),
}

# Reads that reach a file or a database, each with the scope that opens it.
READS = [
    ("files://proj/secret.txt", "files:read"),
    ("files://proj/sub", "files:read"),
    (SCHEMA, "data:read"),
    ("data://workspace/tables/secrets", "data:read"),
]

# Completions that list a root's files or a database's tables, with the scope that opens them.
COMPLETIONS = [
    (ResourceTemplateReference(type="ref/resource", uri=FILE_TEMPLATE), "root", "", {}, "files:read", ["proj"]),
    (ResourceTemplateReference(type="ref/resource", uri=FILE_TEMPLATE), "path", "", {"root": "proj"}, "files:read",
     ["secret.txt", "sub/"]),
    (ResourceTemplateReference(type="ref/resource", uri=TABLE_TEMPLATE), "table", "", {"source": "workspace"},
     "data:read", ["secrets"]),
    (PromptReference(type="ref/prompt", name="explore_database"), "source", "", {}, "data:read", ["workspace"]),
]  # fmt: skip


@dataclass
class Served:
    server: HttpServer
    keys: KeyStore

    def key(self, scopes: str) -> str:
        """A fresh key (its own rate-limit budget), made in the store the server reads."""
        return self.keys.create("test", scopes.split(","))[1]

    def client(self, scopes: str, era: str) -> Client:
        return Client(self.server.url, mode=era, auth=self.key(scopes))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    base = tmp_path_factory.mktemp("scopes")
    root = base / "proj"
    (root / "sub").mkdir(parents=True)
    (root / "secret.txt").write_text("the secret\n", encoding="utf-8")
    data = base / "data"
    data.mkdir()
    with sqlite3.connect(data / "workspace.db") as db:
        db.execute("CREATE TABLE secrets (id INTEGER PRIMARY KEY, word TEXT)")
    config = base / "c.toml"
    config.write_text(  # log_level: nothing reads the server's stderr pipe until it stops, so it must not fill
        f'log_level = "WARNING"\n[files.roots.proj]\npath = "{root}"\n'
        '[limits.tools]\nfiles_read = "4/minute"\ndata_read = "4/minute"\n'
        '[http]\nmetrics_token = "scrape-secret"\n',
        encoding="utf-8",
    )
    server = HttpServer(["--config", str(config)], data).start()
    try:
        yield Served(server, KeyStore.in_dir(data))
    finally:
        code, out, _ = server.stop()
        assert (code, out) == (0, "")


def _text(error: MCPError) -> str:
    return json.dumps([error.code, error.message, error.data])


@pytest.mark.parametrize("scopes", list(VISIBLE))
async def test_every_listing_shows_only_what_the_key_may_use(served: Served, era: str, scopes: str) -> None:
    tools, resources, templates, prompts = VISIBLE[scopes]
    async with served.client(scopes, era) as client:
        assert sorted(t.name for t in await client.list_tools()) == tools
        assert sorted(str(r.uri) for r in await client.list_resources()) == resources
        assert sorted(t.uri_template for t in await client.list_resource_templates()) == templates
        assert sorted(p.name for p in await client.list_prompts()) == prompts


class TestAKeyWithoutTheScope:
    """A ``web`` key (or a key for the other capability) finds nothing else, in every request type."""

    @pytest.mark.parametrize(("uri", "scope"), READS)
    async def test_a_hidden_resource_reads_exactly_as_a_missing_one(
        self, served: Served, era: str, uri: str, scope: str
    ) -> None:
        missing = uri.replace("://", "-missing://", 1)  # no component has that scheme
        other = "data:read" if scope.startswith("files") else "files:read"
        for scopes in ("web", other):
            async with served.client(scopes, era) as client:
                with pytest.raises(MCPError) as hidden:
                    await client.read_resource(uri)
                with pytest.raises(MCPError) as absent:
                    await client.read_resource(missing)
            assert _text(hidden.value) == _text(absent.value).replace(missing, uri)
            assert hidden.value.message == f"Resource not found: {uri!r}"
        async with served.client(scope, era) as client:
            assert await client.read_resource(uri)  # the scope opens it

    async def test_a_hidden_prompt_gets_exactly_as_a_missing_one(self, served: Served, era: str) -> None:
        for scopes in ("web", "files:read", "data:write"):
            async with served.client(scopes, era) as client:
                with pytest.raises(MCPError) as hidden:
                    await client.get_prompt("explore_database", {"source": "workspace"})
                with pytest.raises(MCPError) as absent:
                    await client.get_prompt("explore_nothing", {"source": "workspace"})
            assert _text(hidden.value) == _text(absent.value).replace("explore_nothing", "explore_database")
        async with served.client("data:read", era) as client:
            assert (await client.get_prompt("explore_database", {"source": "workspace"})).messages

    @pytest.mark.parametrize("case", COMPLETIONS)
    async def test_a_completion_for_a_hidden_reference_gives_nothing(self, served: Served, era: str, case) -> None:
        ref, argument, value, context, scope, expected = case
        for scopes in ("web", "data:write" if scope.startswith("files") else "files:read"):
            async with served.client(scopes, era) as client:
                completion = await client.complete(ref, {"name": argument, "value": value}, context or None)
            assert completion.values == []
        async with served.client(scope, era) as client:
            completion = await client.complete(ref, {"name": argument, "value": value}, context or None)
        assert sorted(completion.values) == expected

    @pytest.mark.parametrize("tool", ["data_read", "data_write", "files_read", "files_write"])
    async def test_a_hidden_tool_answers_exactly_as_a_missing_one(self, served: Served, era: str, tool: str) -> None:
        missing = tool.replace("_", "_no_")
        async with served.client("web", era) as client:
            hidden = await client.call_tool_mcp(tool, {"operation": "roots"})
            absent = await client.call_tool_mcp(missing, {"operation": "roots"})
        assert hidden.is_error and absent.is_error
        shown, other = json.loads(hidden.content[0].text), json.loads(absent.content[0].text)
        for payload, name in ((shown, tool), (other, missing)):
            assert payload["error_code"] == "NOT_FOUND" and payload["error"] == f"unknown tool {name!r}"
            assert payload["details"] == {"tool": name, "did_you_mean": []}  # web_fetch is nothing like it
            del payload["correlation_id"], payload["error"], payload["details"]["tool"]
        assert shown == other
        assert "scope" not in hidden.content[0].text


class TestTheUnknownToolAnswer:
    """An unknown tool is the NOT_FOUND error object with did_you_mean, whatever the key."""

    @pytest.mark.parametrize(
        ("scopes", "name", "suggested"),
        [
            ("*", "sql_query", []),
            ("*", "data_reed", ["data_read", "data_write"]),
            ("*", "files-read", ["files_read", "files_write"]),
            ("data:read", "data_reed", ["data_read"]),
            ("data:read", "data_write", ["data_read"]),  # hidden: suggests only what the key may use
            ("web", "web_fetsh", ["web_fetch"]),
        ],
    )
    async def test_it_names_the_closest_visible_tools(
        self, served: Served, era: str, scopes: str, name: str, suggested: list[str]
    ) -> None:
        async with served.client(scopes, era) as client:
            result = await client.call_tool_mcp(name, {})
        payload = json.loads(result.content[0].text)
        assert result.is_error and payload["error_code"] == "NOT_FOUND" and payload["retryable"] is False
        assert payload["details"] == {"tool": name, "did_you_mean": suggested}
        assert payload["recovery_steps"] and payload["correlation_id"]

    async def test_a_long_name_is_not_repeated_back(self, served: Served, era: str) -> None:
        async with served.client("*", era) as client:  # (2026-07-28 carries the name in a header too)
            result = await client.call_tool_mcp("x" * 6_000, {})
        payload = json.loads(result.content[0].text)
        assert payload["error_code"] == "NOT_FOUND" and len(result.content[0].text) < 2_000


class TestWhatAKeyMayUseSpendsItsBudget:
    """Reads, prompts and completions spend from the budget of the tool with the same scope."""

    async def test_file_reads_and_completions_spend_the_files_read_budget(self, served: Served, era: str) -> None:
        async with served.client("files:read", era) as client:
            await client.read_resource("files://proj/secret.txt")
            await client.complete(ResourceTemplateReference(type="ref/resource", uri=FILE_TEMPLATE),
                                  {"name": "root", "value": ""})  # fmt: skip
            assert not (await client.call_tool_mcp("files_read", {"operation": "roots"})).is_error
            await client.read_resource("files://proj/sub")  # the fourth of 4/minute
            with pytest.raises(MCPError) as limited:
                await client.read_resource("files://proj/secret.txt")
            refused = await client.call_tool_mcp("files_read", {"operation": "roots"})
        assert limited.value.message.startswith("RATE_LIMITED: ")
        assert limited.value.data["error_code"] == "RATE_LIMITED" and limited.value.data["details"]["retry_after_s"] > 0
        assert json.loads(refused.content[0].text)["error_code"] == "RATE_LIMITED"

    async def test_schema_reads_prompts_and_completions_spend_the_data_read_budget(
        self, served: Served, era: str
    ) -> None:
        async with served.client("data:read", era) as client:
            await client.read_resource(SCHEMA)
            await client.read_resource("data://workspace/tables/secrets")
            await client.get_prompt("explore_database", {"source": "workspace"})
            await client.complete(PromptReference(type="ref/prompt", name="explore_database"),
                                  {"name": "source", "value": ""})  # fmt: skip
            refused = await client.call_tool_mcp("data_read", {"operation": "sources"})
            with pytest.raises(MCPError, match=r"^RATE_LIMITED: "):
                await client.complete(ResourceTemplateReference(type="ref/resource", uri=TABLE_TEMPLATE),
                                      {"name": "table", "value": ""}, {"source": "workspace"})  # fmt: skip
        assert json.loads(refused.content[0].text)["error_code"] == "RATE_LIMITED"

    async def test_refusals_spend_nothing(self, served: Served, era: str) -> None:
        async with served.client("web", era) as client:
            for _ in range(6):  # more than the 4/minute of files_read and data_read
                with pytest.raises(MCPError):
                    await client.read_resource("files://proj/secret.txt")
                await client.call_tool_mcp("data_read", {"operation": "sources"})


async def test_every_request_kind_is_counted_with_bounded_labels(served: Served, era: str) -> None:
    async with served.client("*", era) as client:
        await client.read_resource("files://proj/secret.txt")
        await client.get_prompt("explore_database", {"source": "workspace"})
        for _ in range(3):
            await client.call_tool_mcp("data_read", {"operation": "z" * 1_000_000})
            await client.call_tool_mcp("y" * 6_000, {"operation": "z" * 1_000_000})  # names go in headers too
            with pytest.raises(MCPError):
                await client.read_resource("files-nothing://" + "q" * 6_000)
            with pytest.raises(MCPError):
                await client.get_prompt("p" * 6_000)
    status, _, body = get(f"{served.server.base}/metrics", {"Authorization": "Bearer scrape-secret"})
    text = body.decode()
    assert status == 200 and len(body) < 64_000
    assert 'workbench_requests_total{kind="resource",name="file",outcome="ok"}' in text
    assert 'workbench_requests_total{kind="prompt",name="explore_database",outcome="ok"}' in text
    assert 'workbench_requests_total{kind="resource",name="other",outcome="NOT_FOUND"}' in text
    assert 'workbench_tool_calls_total{operation="other",outcome="VALIDATION_ERROR",tool="data_read"}' in text
    assert 'workbench_tool_calls_total{operation="other",outcome="NOT_FOUND",tool="other"}' in text
    assert "zzz" not in text and "yyy" not in text and "qqq" not in text and "ppp" not in text

"""What the model sees: tools, resources, prompts and completions, in both eras.

The whole tool catalog is snapshotted: any change to a name, description, schema or
annotation shows up as a diff of tests/snapshots/catalog.json. Regenerate deliberately with
``UPDATE_SNAPSHOTS=1 uv run pytest tests/test_catalog.py``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from mcp_workbench import __version__

pytestmark = pytest.mark.anyio

SNAPSHOT = Path(__file__).parent / "snapshots" / "catalog.json"


async def test_tool_catalog_matches_the_snapshot(session) -> None:
    tools = await session.client.list_tools()
    catalog = [
        {
            "name": tool.name,
            "title": tool.title,
            "description": tool.description,
            "inputSchema": tool.input_schema,
            "annotations": tool.annotations.model_dump(by_alias=True, exclude_none=True) if tool.annotations else None,
        }
        for tool in tools
    ]
    rendered = json.dumps(catalog, indent=2, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(rendered, encoding="utf-8")
    assert rendered == SNAPSHOT.read_text(encoding="utf-8"), "the tool catalog changed; review and update the snapshot"


async def test_catalog_fits_every_client(session) -> None:
    tools = await session.client.list_tools()
    assert 1 <= len(tools) <= 8
    for tool in tools:
        assert len(tool.name) <= 30 and tool.title and tool.description
        assert tool.input_schema["type"] == "object"
        assert "oneOf" not in tool.input_schema and "anyOf" not in tool.input_schema
        assert "$ref" not in json.dumps(tool.input_schema)
    annotations = {tool.name: tool.annotations for tool in tools}
    assert annotations["data_read"].read_only_hint is True
    assert annotations["data_write"].destructive_hint is True and annotations["data_write"].read_only_hint is False
    assert annotations["web_fetch"].read_only_hint is True and annotations["web_fetch"].open_world_hint is True
    assert annotations["web_fetch"].destructive_hint is False and annotations["web_fetch"].idempotent_hint is True
    assert annotations["analyze"].read_only_hint is True and annotations["analyze"].destructive_hint is False


async def test_server_info_names_mcp_workbench_and_its_version(era: str, make_settings) -> None:
    from fastmcp import Client

    from mcp_workbench.server import build_server

    async with Client(build_server(make_settings()), mode=era) as client:
        info = client.server_info  # from initialize (legacy) or discover (2026-07-28)
        assert info is not None
        assert info.name == "mcp-workbench" and info.version == __version__


async def test_each_source_has_a_schema_resource(session) -> None:
    await session.ok(
        "data_write",
        operation="create_table",
        table="t",
        columns=[{"name": "id", "type": "integer", "primary_key": True}],
    )
    resources = await session.client.list_resources()
    assert [str(r.uri) for r in resources] == ["data://workspace/schema"]
    assert all(r.title and r.description for r in resources)
    [content] = await session.client.read_resource("data://workspace/schema")
    schema = json.loads(content.text)
    assert schema["name"] == "workspace" and [t["table"] for t in schema["tables"]] == ["t"]


async def test_table_description_template(session) -> None:
    await session.ok(
        "data_write",
        operation="create_table",
        table="t",
        columns=[{"name": "id", "type": "integer", "primary_key": True}],
    )
    templates = await session.client.list_resource_templates()
    assert [t.uri_template for t in templates] == ["data://{source}/tables/{table}"]
    [content] = await session.client.read_resource("data://workspace/tables/t")
    assert json.loads(content.text)["primary_key"] == ["id"]


async def test_reading_a_missing_table_resource_is_an_error(session) -> None:
    from mcp.shared.exceptions import MCPError

    with pytest.raises(MCPError, match="NOT_FOUND"):
        await session.client.read_resource("data://workspace/tables/missing")


async def test_explore_prompt_guides_through_the_tools(session) -> None:
    prompts = await session.client.list_prompts()
    assert [p.name for p in prompts] == ["explore_database", "analysis", "research_brief"]
    assert all(p.title and p.description for p in prompts)
    result = await session.client.get_prompt("explore_database", {"source": "workspace", "focus": "orders"})
    text = result.messages[0].content.text
    assert '"operation": "tables"' in text and "orders" in text


async def test_analysis_prompt_guides_through_the_loop_and_score_mode(session) -> None:
    result = await session.client.get_prompt(
        "analysis", {"task": "Why did churn rise?", "criteria": "Name causes\nCite"}
    )
    text = result.messages[0].content.text
    assert text.startswith("Produce a checked analysis of: Why did churn rise?")
    assert '"mode": "score"' in text and "brief.prompt" in text and "threshold_met" in text
    assert "Use these criteria: Name causes; Cite." in text
    assert '"kind": "sql"' in text and '"kind": "table"' in text and '"kind": "url"' in text
    assert '"kind": "file"' not in text  # no roots configured here: the prompt offers only what the server gathers


async def test_completions_offer_source_and_table_names(session) -> None:
    import mcp_types

    for name in ("orders", "order_items", "people"):
        await session.ok("data_write", operation="create_table", table=name, columns=[{"name": "a", "type": "text"}])
    template = mcp_types.ResourceTemplateReference(type="ref/resource", uri="data://{source}/tables/{table}")
    sources = await session.client.complete(template, {"name": "source", "value": "wo"})
    assert sources.values == ["workspace"]
    tables = await session.client.complete(template, {"name": "table", "value": "ord"}, {"source": "workspace"})
    assert tables.values == ["order_items", "orders"]
    prompt = mcp_types.PromptReference(type="ref/prompt", name="explore_database")
    assert (await session.client.complete(prompt, {"name": "source", "value": ""})).values == ["workspace"]


async def test_completions_for_the_file_template_come_from_the_files_capability(
    connect, make_settings, tmp_path
) -> None:
    import mcp_types

    root = tmp_path / "proj"
    (root / "src").mkdir(parents=True)
    (root / "src" / "main.py").write_text("print('hi')\n")
    async with connect(make_settings(files={"roots": {"proj": {"path": root}}})) as session:
        template = mcp_types.ResourceTemplateReference(type="ref/resource", uri="files://{root}/{path*}")
        assert (await session.client.complete(template, {"name": "root", "value": "p"})).values == ["proj"]
        paths = await session.client.complete(template, {"name": "path", "value": "src/"}, {"root": "proj"})
        assert paths.values == ["src/main.py"]
        data = mcp_types.ResourceTemplateReference(type="ref/resource", uri="data://{source}/tables/{table}")
        assert (await session.client.complete(data, {"name": "source", "value": ""})).values == ["workspace"]


async def test_every_argument_says_what_it_is_for_each_operation_that_takes_it(tmp_path: Path, make_settings) -> None:
    """A field shared by operations with different meanings is described per operation, and no
    field is left without a description: the model reads these to build its calls."""
    from fastmcp import Client

    from mcp_workbench.data.models import CreateTableArgs, InsertArgs, SearchArgs, SelectArgs
    from mcp_workbench.server import build_server

    (tmp_path / "root").mkdir()
    settings = make_settings(files={"roots": {"root": {"path": tmp_path / "root"}}})
    async with Client(build_server(settings)) as client:
        schemas = {tool.name: tool.input_schema["properties"] for tool in await client.list_tools()}
    for tool, properties in schemas.items():
        for name, schema in properties.items():
            assert schema.get("description"), f"{tool}.{name} has no description"

    def meaning(model: type, field: str) -> str:
        return model.model_fields[field].description

    read_table, write_table = (
        schemas["data_read"]["table"]["description"],
        schemas["data_write"]["table"]["description"],
    )
    assert f"describe, select, count: {meaning(SelectArgs, 'table')}" in read_table
    assert f"search: {meaning(SearchArgs, 'table')}" in read_table
    assert f"insert, update, delete, drop_table: {meaning(InsertArgs, 'table')}" in write_table
    assert f"create_table: {meaning(CreateTableArgs, 'table')}" in write_table


async def test_research_brief_prompt_guides_through_the_tool_and_its_continuation(session) -> None:
    result = await session.client.get_prompt("research_brief", {"question": "Is coffee healthy?", "depth": "deep"})
    text = result.messages[0].content.text
    assert text.startswith("Research this question and report what the evidence says: Is coffee healthy?")
    assert '"depth": "deep"' in text and "continuation" in text and "confidence" in text

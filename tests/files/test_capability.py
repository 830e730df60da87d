"""How the files capability appears: configuration, registration, annotations, the file
resource, completions, and the worker processes' lifetime."""

from __future__ import annotations

import base64
import json
import logging
import multiprocessing
from pathlib import Path

import pytest

from mcp_workbench.cli.main import build_parser, overrides_from
from mcp_workbench.files.models import SearchArgs
from mcp_workbench.files.server import FILE_TEMPLATE
from mcp_workbench.files.service import FilesService
from mcp_workbench.settings import ConfigError, load_settings
from tests.files.images import PNG
from tests.support.files_world import World
from tests.support.session import Session

pytestmark = pytest.mark.anyio


# --- configuration ---------------------------------------------------------------------------------


def test_a_root_from_the_command_line_is_named_after_its_directory(world: World, tmp_path: Path) -> None:
    args = build_parser().parse_args(["serve", "--root", str(world.root), "--root", str(world.sibling)])
    settings = load_settings(None, data_dir=tmp_path / "data", **overrides_from(args))
    assert list(settings.files.roots) == ["root", "rootX"]
    assert settings.files.roots["root"].read_only is False


def test_roots_come_from_the_config_file(world: World, tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(f'[files.roots.docs]\npath = "{world.root}"\nread_only = true\n[files]\nmax_read_bytes = 4096\n')
    settings = load_settings(config, data_dir=tmp_path / "data")
    assert settings.files.roots["docs"].read_only is True and settings.files.max_read_bytes == 4096


@pytest.mark.parametrize(
    ("roots", "message"),
    [
        ({"proj": {"path": "/no/such/dir"}}, "files.roots.proj.path: directory '/no/such/dir' does not exist"),
        ({"bad name": {"path": "."}}, "root name 'bad name' must be a simple name"),
        ({"../x": {"path": "."}}, "must be a simple name"),
        ({".hidden": {"path": "."}}, "must be a simple name"),
        ({"Proj": {"path": "."}, "proj": {"path": "."}}, "differ only in case"),
        ({"proj": {"path": ".", "writable": True}}, "files.roots.proj.writable: unknown key"),
        ({"proj": {}}, "files.roots.proj.path: Field required"),
    ],
    ids=["missing-dir", "space", "traversal", "dot", "case-twins", "unknown-key", "no-path"],
)
def test_bad_root_settings_are_refused_at_start_naming_the_key(tmp_path: Path, roots, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(None, data_dir=tmp_path / "data", files={"roots": roots})
    assert message in str(raised.value)


def test_a_root_must_be_a_directory(tmp_path: Path) -> None:
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(ConfigError, match="is not a directory"):
        load_settings(None, data_dir=tmp_path / "data", files={"roots": {"f": {"path": str(tmp_path / "file.txt")}}})


@pytest.mark.parametrize("key", ["max_read_bytes", "max_write_bytes", "max_search_files", "search_timeout_s"])
def test_limits_are_bounded(tmp_path: Path, key: str) -> None:
    with pytest.raises(ConfigError, match=f"files.{key}"):
        load_settings(None, data_dir=tmp_path / "data", files={key: 0})


# --- registration ------------------------------------------------------------------------------------


async def test_without_roots_there_are_no_file_tools_and_the_log_says_how_to_add_one(
    connect, make_settings, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="mcp_workbench.files"):
        async with connect(make_settings()) as session:
            names = [tool.name for tool in await session.client.list_tools()]
    assert not any(name.startswith("files_") for name in names)
    assert any("--root PATH" in record.getMessage() for record in caplog.records)


async def test_the_file_tools_are_annotated_by_safety(fs: Session) -> None:
    tools = {tool.name: tool for tool in await fs.client.list_tools()}
    read, write = tools["files_read"].annotations, tools["files_write"].annotations
    assert (read.read_only_hint, read.destructive_hint, read.idempotent_hint, read.open_world_hint) == (
        True,
        False,
        True,
        False,
    )
    assert (write.read_only_hint, write.destructive_hint, write.open_world_hint) == (False, True, False)
    assert len(tools) <= 8
    for name in ("files_read", "files_write"):
        schema = tools[name].input_schema
        assert tools[name].title and tools[name].description and len(name) <= 30
        assert "oneOf" not in json.dumps(schema) and "$ref" not in json.dumps(schema)
        assert schema["additionalProperties"] is False


async def test_the_files_group_can_be_switched_off(connect, make_settings, world: World) -> None:
    settings = make_settings(tools=["data"], files={"roots": {"root": {"path": str(world.root)}}})
    async with connect(settings) as session:
        assert not any(t.name.startswith("files_") for t in await session.client.list_tools())


async def test_an_unknown_operation_lists_the_allowed_ones(fs: Session) -> None:
    error = await fs.error("files_read", "VALIDATION_ERROR", operation="cat", path="x")
    assert error["details"]["allowed"] == ["info", "list", "read", "roots", "search", "tree"]
    error = await fs.error("files_write", "VALIDATION_ERROR", operation="write", path="x")
    assert error["details"]["problems"][0]["field"] == "content"


# --- the file resource ----------------------------------------------------------------------------------


async def test_the_file_template_is_listed(fs: Session) -> None:
    templates = {t.uri_template: t for t in await fs.client.list_resource_templates()}
    assert FILE_TEMPLATE in templates and templates[FILE_TEMPLATE].title


async def test_files_are_read_as_resources(fs: Session, world: World) -> None:
    (world.root / "docs").mkdir()
    (world.root / "docs" / "readme.md").write_text("# Hello\n")
    (world.root / "docs" / "logo.png").write_bytes(PNG)
    [text] = await fs.client.read_resource("files://root/docs/readme.md")
    assert text.text == "# Hello\n"
    [image] = await fs.client.read_resource("files://root/docs/logo.png")
    assert image.mime_type == "image/png" and base64.b64decode(image.blob) == PNG
    [listing] = await fs.client.read_resource("files://root/docs")
    assert [e["name"] for e in json.loads(listing.text)["entries"]] == ["logo.png", "readme.md"]


async def test_resource_errors_carry_the_error_code(connect, files_settings, world: World) -> None:
    from mcp.shared.exceptions import MCPError

    (world.root / "big.txt").write_text("x" * 5000)
    async with connect(files_settings(max_read_bytes=1024)) as session:
        with pytest.raises(MCPError, match="NOT_FOUND"):
            await session.client.read_resource("files://root/missing.txt")
        with pytest.raises(MCPError, match="TOO_LARGE"):
            await session.client.read_resource("files://root/big.txt")
        with pytest.raises(MCPError, match="NOT_FOUND"):
            await session.client.read_resource("files://nosuchroot/big.txt")


# --- completions ------------------------------------------------------------------------------------------


async def test_completions_offer_roots_and_paths(world: World, files_settings) -> None:
    (world.root / "src" / "pkg").mkdir(parents=True)
    (world.root / "src" / "setup.py").write_text("x")
    (world.root / "src" / ".hidden").write_text("x")
    (world.root / "README.md").write_text("x")
    roots = {"proj": {"path": str(world.root)}, "other": {"path": str(world.sibling)}}
    service = FilesService(files_settings(roots).files)
    try:
        assert await service.complete_files("root", "pr", None) == ["proj"]
        assert await service.complete_files("root", "", {}) == ["proj", "other"]
        assert await service.complete_files("path", "src/", {"root": "proj"}) == ["src/pkg/", "src/setup.py"]
        assert await service.complete_files("path", "src/s", {"root": "proj"}) == ["src/setup.py"]
        assert await service.complete_files("path", "src/.h", {"root": "proj"}) == ["src/.hidden"]
        assert await service.complete_files("path", "re", {"root": "proj"}) == ["README.md"]
        assert await service.complete_files("path", "../", {"root": "proj"}) == []
        assert await service.complete_files("path", "x", {"root": "nope"}) == []
        assert await service.complete_files("path", "x", None) == []  # two roots, none named
        assert await service.complete_files("table", "x", None) is None
    finally:
        await service.aclose()


# --- worker processes ----------------------------------------------------------------------------------


def search_workers() -> list[multiprocessing.Process]:
    return [p for p in multiprocessing.active_children() if p.name == "mcp-workbench-search"]


async def test_content_search_workers_end_when_the_capability_closes(world: World, files_settings) -> None:
    (world.root / "a.txt").write_text("needle\n")
    service = FilesService(files_settings().files)
    try:
        found = await service.search(SearchArgs(operation="search", contains="needle"))
        assert found["matches"] == [{"path": "a.txt", "line": 1, "text": "needle"}]
        assert len(search_workers()) == 1
        await service.search(SearchArgs(operation="search", contains="needle"))
        assert len(search_workers()) == 1, "the worker is reused"
    finally:
        await service.aclose()
    assert search_workers() == []


async def test_the_server_closes_its_workers_at_shutdown(connect, files_settings, world: World) -> None:
    (world.root / "a.txt").write_text("needle\n")
    async with connect(files_settings()) as session:
        await session.ok("files_read", operation="search", contains="needle")
    assert search_workers() == []

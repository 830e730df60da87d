"""The Claude Desktop bundle: the official validator (``mcpb`` 2.1.2) accepts it; its manifest
declares the live catalog; unpacked and started the way Claude Desktop starts it (``${__dirname}``
and the user's settings substituted into ``mcp_config``), it completes a handshake in both eras
and lists exactly the tools and prompts it declares. It starts offline, from uv's cache."""

from __future__ import annotations

import hashlib
import json
import subprocess
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest

from mcp_workbench.cli.bundle import catalog, project
from mcp_workbench.cli.bundle.command import build
from mcp_workbench.cli.install.entries import Launch
from mcp_workbench.cli.install.verify import check_sync
from mcp_workbench.cli.main import build_parser, overrides_from
from mcp_workbench.settings import Settings, load_settings
from tests.conformance.nodepkgs import bin_entry, ensure_packages
from tests.packaging.tooling import Dist, fresh_env

pytestmark = pytest.mark.timeout(900)
MCPB = "@anthropic-ai/mcpb"


def mcpb(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    node = ensure_packages(MCPB)
    return subprocess.run(
        [str(node), str(bin_entry(MCPB, "mcpb")), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        check=False,
    )


@pytest.fixture(scope="module")
def unpacked(bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundle unpacked by the official tool, as a host unpacks it."""
    target = tmp_path_factory.mktemp("unpacked") / "mcp-workbench"
    done = mcpb("unpack", str(bundle), str(target), cwd=target.parent)
    assert done.returncode == 0, done.stdout + done.stderr
    return target


@pytest.fixture(scope="module")
def manifest(unpacked: Path) -> dict[str, Any]:
    return json.loads((unpacked / "manifest.json").read_text(encoding="utf-8"))


def test_the_official_validator_accepts_it(unpacked: Path) -> None:
    done = mcpb("validate", str(unpacked / "manifest.json"), cwd=unpacked)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Manifest schema validation passes!" in done.stdout and "ERROR" not in done.stdout


def test_the_validator_refuses_a_key_the_schema_does_not_know(unpacked: Path, tmp_path: Path) -> None:
    """The check can fail: the schema is strict."""
    data = json.loads((unpacked / "manifest.json").read_text(encoding="utf-8"))
    data["tools"][0]["inputSchema"] = {"type": "object"}
    (tmp_path / "manifest.json").write_text(json.dumps(data), encoding="utf-8")
    (tmp_path / "icon.png").write_bytes((unpacked / "icon.png").read_bytes())
    done = mcpb("validate", str(tmp_path / "manifest.json"), cwd=tmp_path)
    assert done.returncode != 0 and "tools" in done.stdout


def test_it_is_a_uv_bundle_of_the_source_and_the_lock(bundle: Path, manifest: dict[str, Any]) -> None:
    assert manifest["manifest_version"] == "0.4" and manifest["server"]["type"] == "uv"
    with zipfile.ZipFile(bundle) as archive:
        names = set(archive.namelist())
        icon = archive.read("icon.png")
    assert {"manifest.json", "icon.png", "pyproject.toml", "uv.lock", "README.md"} <= names
    assert manifest["server"]["entry_point"] in names
    assert not any("__pycache__" in n or n.startswith(("tests/", ".venv/")) for n in names)
    assert icon.startswith(b"\x89PNG\r\n\x1a\n") and icon[16:24] == (512).to_bytes(4, "big") * 2
    root = Path(project.find().root)
    assert archive_bytes(bundle, "uv.lock") == (root / "uv.lock").read_bytes()


def archive_bytes(bundle: Path, name: str) -> bytes:
    with zipfile.ZipFile(bundle) as archive:
        return archive.read(name)


def test_it_is_reproducible(bundle: Path, tmp_path: Path) -> None:
    again = build(tmp_path / "again.mcpb")
    assert hashlib.sha256(again.read_bytes()).digest() == hashlib.sha256(bundle.read_bytes()).digest()


def test_the_manifest_declares_the_live_catalog(manifest: dict[str, Any]) -> None:
    live = catalog.live_catalog()
    assert manifest["tools"] == [{"name": t.name, "description": t.description} for t in live.tools]
    assert [(p["name"], p["description"], p["arguments"]) for p in manifest["prompts"]] == [
        (p.name, p.description, list(p.arguments)) for p in live.prompts
    ]
    prompts = {p["name"]: p for p in manifest["prompts"]}
    explore, analysis = prompts["explore_database"], prompts["analysis"]
    assert "${arguments.source}" in explore["text"] and "${arguments.focus}" in explore["text"]
    assert "${arguments.task}" in analysis["text"] and "${arguments.criteria}" in analysis["text"]


def substitute(manifest: dict[str, Any], dirname: Path, settings: dict[str, Any]) -> Launch:
    """mcp_config as Claude Desktop makes it a command (the mcpb library's getMcpConfigForManifest):
    user settings over the manifest's defaults; ``${__dirname}`` and ``${user_config.KEY}`` replaced;
    a list-valued setting that is a whole argument expands into one argument per item."""
    config = manifest["server"]["mcp_config"]
    values = {key: option.get("default") for key, option in manifest["user_config"].items()}
    values.update(settings)
    variables: dict[str, Any] = {"__dirname": str(dirname)}
    for key, value in values.items():
        if isinstance(value, list):
            variables[f"user_config.{key}"] = [str(v) for v in value]
        elif isinstance(value, bool):
            variables[f"user_config.{key}"] = "true" if value else "false"
        else:
            variables[f"user_config.{key}"] = str(value)

    def text(value: str) -> str:
        for name, replacement in variables.items():
            if not isinstance(replacement, list):
                value = value.replace("${" + name + "}", replacement)
        return value

    args: list[str] = []
    for arg in config["args"]:
        whole = arg[2:-1] if arg.startswith("${") and arg.endswith("}") else None
        if whole in variables and isinstance(variables[whole], list):
            args.extend(variables[whole])
        else:
            args.append(text(arg))
    return Launch(text(config["command"]), tuple(args), {k: text(v) for k, v in config.get("env", {}).items()})


def _settings_of(launch: Launch, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The settings a server started by ``launch`` runs with (its flags and its environment)."""
    for key, value in launch.env.items():
        monkeypatch.setenv(key, value)
    args = build_parser().parse_args(list(launch.args[launch.args.index("serve") :]))
    return load_settings(None, **overrides_from(args))


def test_the_defaults_start_a_plain_server(
    manifest: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No folder, not read-only, no data directory: the server's own defaults."""
    default_dir = load_settings(None).data_dir
    launch = substitute(manifest, tmp_path, {})
    assert launch.args[-1] == "--data-dir=" and "${" not in " ".join(launch.args)
    settings = _settings_of(launch, monkeypatch)
    assert settings.files.roots == {} and settings.data_dir == default_dir


def test_every_setting_reaches_the_server(
    manifest: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folders = [tmp_path / "a b", tmp_path / "c"]
    for folder in folders:
        folder.mkdir()
    chosen = {"roots": [str(f) for f in folders], "read_only": True, "data_dir": str(tmp_path / "data")}
    settings = _settings_of(substitute(manifest, tmp_path, chosen), monkeypatch)
    assert [r.path for r in settings.files.roots.values()] == folders
    assert all(r.read_only for r in settings.files.roots.values()) and settings.data_dir == tmp_path / "data"


def test_it_starts_as_claude_desktop_starts_it_and_lists_what_it_declares(
    manifest: dict[str, Any], unpacked: Path, uv: str, uv_cache: str, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    folder = tmp_path / "My Projects"
    folder.mkdir()
    launch = substitute(manifest, unpacked, {"roots": [str(folder)], "data_dir": str(tmp_path / "data")})
    assert launch.command == "uv"
    env = fresh_env(home, uv_cache, path=f"{Path(uv).parent}:/usr/bin:/bin", UV_OFFLINE="1")
    results = check_sync(Launch(launch.command, launch.args, {**env, **launch.env}), 600)
    for result in results:
        assert result.ok, result.error
        assert [(t.name, t.description) for t in result.tool_list] == [
            (t["name"], t["description"]) for t in manifest["tools"]
        ]
        assert [(p.name, p.description, list(p.arguments)) for p in result.prompt_list] == [
            (p["name"], p["description"], p["arguments"]) for p in manifest["prompts"]
        ]
    assert [r.protocol for r in results] == ["2025-11-25", "2026-07-28"]
    assert (unpacked / ".venv").is_dir()  # uv made the environment inside the bundle's directory


def test_it_builds_from_an_unpacked_sdist_but_not_from_an_installed_wheel(dist: Dist, tmp_path: Path) -> None:
    with tarfile.open(dist.sdist) as sdist:
        sdist.extractall(tmp_path, filter="data")
    [tree] = tmp_path.iterdir()
    found = project.find(tree / "src" / "mcp_workbench" / "__init__.py")
    assert found.root == tree and found.version == project.find().version
    installed = tmp_path / "site-packages" / "mcp_workbench"
    installed.mkdir(parents=True)
    with pytest.raises(project.NotASourceTree, match="source tree"):
        project.find(installed / "__init__.py")

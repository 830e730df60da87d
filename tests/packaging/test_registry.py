"""The listings: ``server.json`` for the official MCP Registry (validated against the 2025-12-11
schema kept in tests/schemas, byte-for-byte the published one), the ``mcp-name`` line the
registry looks for in the README, ``glama.json`` and ``smithery.yaml`` — each agreeing with
pyproject.toml, with the CLI it describes, and with the live catalog."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator, FormatChecker
from ruamel.yaml import YAML

from mcp_workbench.cli.bundle import catalog
from mcp_workbench.cli.bundle.manifest import user_config
from mcp_workbench.cli.main import build_parser, overrides_from
from mcp_workbench.settings import load_settings
from tests.conformance.nodepkgs import ensure_packages

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "tests" / "schemas" / "server.schema.2025-12-11.json"
SCHEMA_URL = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"
# sha256 of the published schema at SCHEMA_URL; a newer schema is a deliberate change of both.
SCHEMA_SHA256 = "3fba09590c99f61735d234822279f4223fab9e300c0a81e81c91ab62a4114de0"

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _json(name: str) -> dict[str, Any]:
    return json.loads((ROOT / name).read_text(encoding="utf-8"))


def _owner_and_repo() -> tuple[str, str]:
    match = re.fullmatch(r"https://github\.com/([^/]+)/([^/]+)", PYPROJECT["urls"]["Repository"])
    assert match, "the repository URL in pyproject.toml is a GitHub URL"
    return match[1], match[2]


@pytest.fixture(scope="module")
def live() -> catalog.Catalog:
    return catalog.live_catalog()


class TestServerJson:
    def test_the_kept_schema_is_the_published_2025_12_11_one(self) -> None:
        assert hashlib.sha256(SCHEMA.read_bytes()).hexdigest() == SCHEMA_SHA256
        assert json.loads(SCHEMA.read_text(encoding="utf-8"))["$id"] == SCHEMA_URL

    def test_it_is_valid_against_the_schema(self) -> None:
        schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
        Draft7Validator.check_schema(schema)
        errors = sorted(
            Draft7Validator(schema, format_checker=FormatChecker()).iter_errors(_json("server.json")), key=str
        )
        assert not errors, "\n".join(f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors)
        assert _json("server.json")["$schema"] == SCHEMA_URL

    def test_the_schema_refuses_what_the_registry_refuses(self) -> None:
        """The validation can fail: a version range and a description over 100 characters."""
        schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
        bad = _json("server.json")
        bad["packages"][0]["version"] = "latest"
        bad["description"] = "x" * 101
        failures = {e.path[-1] if e.path else "" for e in Draft7Validator(schema).iter_errors(bad)}
        assert "description" in failures and "version" in failures

    def test_it_agrees_with_pyproject_and_the_readme(self) -> None:
        server = _json("server.json")
        owner, repo = _owner_and_repo()
        assert server["name"] == f"io.github.{owner}/{repo}"
        readme = (ROOT / "README.md").read_text(encoding="utf-8")
        assert re.findall(r"mcp-name: (\S+)", readme) == [server["name"]]
        assert server["version"] == PYPROJECT["version"]
        assert server["description"] == PYPROJECT["description"]
        assert server["repository"] == {"url": PYPROJECT["urls"]["Repository"], "source": "github"}
        [package] = server["packages"]
        assert package["registryType"] == "pypi" and package["identifier"] == PYPROJECT["name"]
        assert package["version"] == PYPROJECT["version"] and package["transport"] == {"type": "stdio"}

    def test_its_arguments_are_real_flags_of_serve(self, tmp_path: Path) -> None:
        [package] = _json("server.json")["packages"]
        argv: list[str] = []
        for argument in package["packageArguments"]:
            if argument["type"] == "positional":
                argv.append(argument["value"])
            else:
                value = tmp_path if argument.get("format") == "filepath" else "x"
                if argument["name"] == "--config":
                    value = tmp_path / "config.toml"
                    value.write_text("")
                argv += [argument["name"], str(value)]
        args = build_parser().parse_args(argv)
        settings = load_settings(args.config, **overrides_from(args))
        assert args.command == "serve" and settings.data_dir == tmp_path
        assert [r.path for r in settings.files.roots.values()] == [tmp_path]

    def test_it_lists_the_live_catalog(self, live: catalog.Catalog) -> None:
        listed = _json("server.json")["_meta"]["io.modelcontextprotocol.registry/publisher-provided"]
        assert listed["tools"] == [t.name for t in live.tools]
        assert listed["prompts"] == [p.name for p in live.prompts]


def test_glama_json_names_the_repository_owner_as_maintainer() -> None:
    glama = _json("glama.json")
    assert glama == {"$schema": "https://glama.ai/mcp/schemas/server.json", "maintainers": [_owner_and_repo()[0]]}


@pytest.fixture(scope="module")
def start() -> dict[str, Any]:
    """smithery.yaml's startCommand."""
    return YAML(typ="safe").load((ROOT / "smithery.yaml").read_text(encoding="utf-8"))["startCommand"]


class TestSmithery:
    def command_for(self, start: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
        """Smithery's commandFunction, evaluated by Node as Smithery evaluates it."""
        node = ensure_packages()
        script = (
            f"const f = {start['commandFunction']};\nprocess.stdout.write(JSON.stringify(f({json.dumps(config)})));"
        )
        done = subprocess.run([str(node), "-e", script], capture_output=True, text=True, timeout=60, check=True)
        return json.loads(done.stdout)

    def test_the_config_schema_is_json_schema_and_the_example_fits_it(self, start: dict[str, Any]) -> None:
        Draft7Validator.check_schema(start["configSchema"])
        Draft7Validator(start["configSchema"]).validate(start["exampleConfig"])

    def test_its_settings_are_the_bundles_settings(self, start: dict[str, Any]) -> None:
        names = {re.sub(r"(?<!^)([A-Z])", r"_\1", k).lower() for k in start["configSchema"]["properties"]}
        assert names == set(user_config())

    def test_the_command_runs_this_version_with_real_flags(self, start: dict[str, Any], tmp_path: Path) -> None:
        roots = [tmp_path / "a", tmp_path / "b"]
        for root in roots:
            root.mkdir()
        config = {"roots": [str(r) for r in roots], "readOnly": True, "dataDir": str(tmp_path / "data")}
        command = self.command_for(start, config)
        assert command["command"] == "uvx" and command["env"] == {"PYTHONUTF8": "1"}
        package, *argv = command["args"]
        assert package == f"{PYPROJECT['name']}@{PYPROJECT['version']}"
        args = build_parser().parse_args(argv)
        settings = load_settings(None, **overrides_from(args))
        assert args.command == "serve" and settings.data_dir == tmp_path / "data"
        assert [r.path for r in settings.files.roots.values()] == roots
        assert all(r.read_only for r in settings.files.roots.values())
        plain = self.command_for(start, start["exampleConfig"])
        assert "--read-only" not in plain["args"] and "--data-dir" not in plain["args"]

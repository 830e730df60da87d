"""``manifest.json`` (MCPB manifest 0.4) from the project's metadata and the live catalog.

The schema is strict (an unknown key fails ``mcpb validate``): ``tools`` entries take only a
name and a description, ``prompts`` entries need the prompt's ``text``. ``mcp_config`` is given
although the ``uv`` server type could do without it, because the validator (2.1.2) requires it,
and because it says exactly how the server starts:

- ``uv run --project ${__dirname} --frozen --no-dev``: the bundle's own lock, nothing resolved
  again, no test tools;
- ``--data-dir=${user_config.data_dir}``: an empty field is "the default" (``serve`` reads an
  empty ``--data-dir=`` as not given);
- ``${user_config.roots}`` last: a list of folders expands to one argument each, which ``serve``
  takes as roots (a plain ``--root`` would only take the first);
- ``WORKBENCH_FILES__READ_ONLY``: the read-only switch arrives as "true" or "false".
"""

from __future__ import annotations

from typing import Any

from mcp_workbench.cli.bundle.catalog import Catalog
from mcp_workbench.cli.bundle.project import Project

MANIFEST_VERSION = "0.4"
ICON = "icon.png"
ENTRY_POINT = "src/mcp_workbench/__main__.py"


def mcp_config() -> dict[str, Any]:
    return {
        "command": "uv",
        "args": [
            "run",
            "--project",
            "${__dirname}",
            "--frozen",
            "--no-dev",
            "mcp-workbench",
            "serve",
            "--data-dir=${user_config.data_dir}",
            "${user_config.roots}",
        ],
        "env": {
            "PYTHONUTF8": "1",
            "UV_COMPILE_BYTECODE": "1",  # compiled once at the first start; every later start is about twice as fast
            "WORKBENCH_FILES__READ_ONLY": "${user_config.read_only}",
        },
    }


def user_config() -> dict[str, Any]:
    return {
        "roots": {
            "type": "directory",
            "title": "Folders",
            "description": "Folders the file tools may work in. Leave empty to offer no file tools.",
            "multiple": True,
            "required": False,
            "default": [],
        },
        "read_only": {
            "type": "boolean",
            "title": "Read-only folders",
            "description": "The file tools may read the folders but never change them.",
            "required": False,
            "default": False,
        },
        "data_dir": {
            "type": "directory",
            "title": "Data directory",
            "description": "Where the workspace database and other state live. Empty: the default user data directory.",
            "required": False,
            "default": "",
        },
    }


def build(project: Project, catalog: Catalog) -> dict[str, Any]:
    repository = project.url("Repository")
    manifest: dict[str, Any] = {
        "manifest_version": MANIFEST_VERSION,
        "name": project.name,
        "display_name": "MCP Workbench",
        "version": project.version,
        "description": project.description,
        "long_description": (
            "Safe tools over SQL databases (an embedded SQLite workspace, or your own SQLite and PostgreSQL), "
            "the folders you choose, and the web (SSRF-safe, cached). Read and write tools are separate, every "
            "failure says how to recover, and the server runs on your machine."
        ),
        "author": {"name": _author(project)},
        "icon": ICON,
        "server": {"type": "uv", "entry_point": ENTRY_POINT, "mcp_config": mcp_config()},
        "tools": [{"name": t.name, "description": t.description} for t in catalog.tools],
        "tools_generated": False,
        "prompts": [
            {"name": p.name, "description": p.description, "arguments": list(p.arguments), "text": p.text}
            for p in catalog.prompts
        ],
        "prompts_generated": False,
        "keywords": list(project.metadata.get("keywords", [])),
        "license": str(project.metadata.get("license", "")),
        "compatibility": {
            "platforms": ["darwin", "win32", "linux"],
            "runtimes": {"python": str(project.metadata.get("requires-python", ">=3.11"))},
        },
        "user_config": user_config(),
    }
    if repository:
        manifest["repository"] = {"type": "git", "url": repository}
    for key, label in (("homepage", "Homepage"), ("documentation", "Documentation"), ("support", "Issues")):
        if url := project.url(label):
            manifest[key] = url
    return manifest


def _author(project: Project) -> str:
    authors = project.metadata.get("authors") or [{}]
    return str(authors[0].get("name") or project.name)

"""The tools and prompts the bundled server offers, read from the server itself.

The server is built as the bundle runs it when a user picks a folder (every capability on, a
writable root, the embedded workspace) and listed through an in-process client, so the
manifest cannot drift from the code. The builder's own configuration (its config file, its
``WORKBENCH_*`` variables) is left out: a bundle runs with only what its settings pass.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import anyio

from mcp_workbench.settings import ENV_PREFIX, Settings

# Prompt arguments become the manifest's ${arguments.NAME} placeholders.
PLACEHOLDER = "${{arguments.{name}}}"


@dataclass(frozen=True)
class Tool:
    name: str
    description: str


@dataclass(frozen=True)
class Prompt:
    name: str
    description: str
    arguments: tuple[str, ...]
    text: str


@dataclass(frozen=True)
class Catalog:
    tools: tuple[Tool, ...]
    prompts: tuple[Prompt, ...]


@contextlib.contextmanager
def _without_workbench_environment() -> Iterator[None]:
    saved = {k: v for k, v in os.environ.items() if k.upper().startswith(ENV_PREFIX)}
    for key in saved:
        del os.environ[key]
    try:
        yield
    finally:
        os.environ.update(saved)


async def _listed(settings: Settings) -> Catalog:
    from fastmcp import Client

    from mcp_workbench.server import build_server

    async with Client(build_server(settings)) as client:
        tools = tuple(Tool(t.name, t.description or "") for t in await client.list_tools())
        prompts = []
        for prompt in await client.list_prompts():
            names = tuple(a.name for a in prompt.arguments or ())
            rendered = await client.get_prompt(prompt.name, {n: PLACEHOLDER.format(name=n) for n in names})
            text = "\n\n".join(m.content.text for m in rendered.messages if getattr(m.content, "text", None))
            prompts.append(Prompt(prompt.name, prompt.description or "", names, text))
    return Catalog(tools, tuple(prompts))


def live_catalog() -> Catalog:
    with tempfile.TemporaryDirectory(prefix="mcp-workbench-bundle-") as scratch:
        root = Path(scratch) / "folder"
        root.mkdir()
        with _without_workbench_environment():
            settings = Settings(data_dir=Path(scratch) / "data", files={"roots": {"folder": {"path": root}}})
        return anyio.run(_listed, settings)

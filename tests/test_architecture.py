"""The shape of the code, checked from its imports (every import, including those inside
functions: a lazy import hides a dependency from start-up, not from the design).

- ``platform/`` is reusable by any FastMCP server: it imports no capability and nothing of the
  application's root (settings, composition, scopes).
- A capability folder (``data``, ``files``, ``web``, ...) has one module that speaks MCP, its
  ``server.py``; the rest (its service and domain modules) import neither FastMCP nor the MCP SDK.
- No capability imports the root settings or the composition root; it gets its own section.
- A capability reaches another only through the other's ``port`` module (the typed services
  offered through :class:`~mcp_workbench.capability.Services`), never its server or internals.
- No import cycles.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = "mcp_workbench"
SRC = Path(__file__).resolve().parents[1] / "src" / PACKAGE
MCP_LIBRARIES = ("fastmcp", "mcp", "mcp_types", "starlette", "uvicorn")
NOT_CAPABILITIES = {"platform", "cli"}
ROOT_MODULES = {f"{PACKAGE}.settings", f"{PACKAGE}.server", f"{PACKAGE}.scopes", f"{PACKAGE}.capability"}


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # the imported module (for ``from X import y``: X.y when that is a module, else X)
    line: int


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in SRC.rglob("*.py")}


def _absolute(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module.split(".")
    is_package = MODULES[module].name == "__init__.py"
    base = package if is_package else package[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _imports(module: str) -> Iterator[Import]:
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, node)
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                yield Import(module, candidate if candidate in MODULES else base, node.lineno)


IMPORTS = [found for module in MODULES for found in _imports(module)]


def _capability(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) > 2 and parts[1] not in NOT_CAPABILITIES and (SRC / parts[1]).is_dir():
        return parts[1]
    return None


def _where(found: Import) -> str:
    return f"{found.module} imports {found.target} (line {found.line})"


def test_the_package_has_capabilities_to_check() -> None:
    assert {"data", "files", "web"} <= {c for m in MODULES if (c := _capability(m))}


def test_platform_imports_no_capability_and_nothing_of_the_application() -> None:
    wrong = [
        _where(found)
        for found in IMPORTS
        if found.module.startswith(f"{PACKAGE}.platform")
        and found.target.startswith(f"{PACKAGE}.")
        and (_capability(found.target) or found.target in ROOT_MODULES)
    ]
    assert wrong == []


def test_only_a_capabilitys_server_module_speaks_mcp() -> None:
    wrong = [
        _where(found)
        for found in IMPORTS
        if _capability(found.module)
        and not found.module.endswith(".server")
        and found.target.split(".")[0] in MCP_LIBRARIES
    ]
    assert wrong == []


def test_no_capability_imports_the_root_settings_or_the_composition_root() -> None:
    wrong = [
        _where(found)
        for found in IMPORTS
        if _capability(found.module) and found.target in {f"{PACKAGE}.settings", f"{PACKAGE}.server"}
    ]
    assert wrong == []


def test_a_capability_reaches_another_only_through_its_port() -> None:
    wrong = [
        _where(found)
        for found in IMPORTS
        if (mine := _capability(found.module))
        and (theirs := _capability(found.target))
        and mine != theirs
        and not found.target.endswith(".port")
    ]
    assert wrong == []


def _cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    graph: dict[str, set[str]] = {module: set() for module in MODULES}
    for found in IMPORTS:
        if found.target in MODULES and found.target != found.module:
            graph[found.module].add(found.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph[node]):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return components


def test_there_are_no_import_cycles() -> None:
    assert _cycles() == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from mcp_workbench.data import server\n", "mcp_workbench.data.server"),
        ("from . import port\n", "mcp_workbench.web.port"),
        ("from .fetch import Fetcher\n", "mcp_workbench.web.fetch"),
        ("def f():\n    import fastmcp\n", "fastmcp"),
    ],
)
def test_the_import_reader_sees_every_kind_of_import(
    source: str, expected: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    module = f"{PACKAGE}.web.probe_module"
    path = tmp_path / "probe_module.py"
    path.write_text(source, encoding="utf-8")
    monkeypatch.setitem(MODULES, module, path)
    assert expected in [found.target for found in _imports(module)]

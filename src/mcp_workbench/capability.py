"""What the composition root needs from a capability: install it, and close it at shutdown.

Each capability package (``data``, ``files``, ``web``, ...) has ``server.install(mcp,
settings)``, which registers its MCP components and returns a :class:`Capability` whose
resources (pools, clients) the server's lifespan closes, or ``None`` when configuration
leaves the capability off.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from fastmcp import FastMCP

from mcp_workbench.settings import Settings


class Capability(Protocol):
    """Required: ``name`` and ``aclose()``. Optional, discovered by the composition root:
    ``async check() -> dict[str, str | None]`` for readiness (dependency -> problem or None)
    ``samples() -> Iterable[Sample]`` for metrics gathered at scrape time, and
    ``async complete(ref, argument, context) -> list[str] | None`` for argument completions
    (None: not this capability's reference)."""

    name: str

    async def aclose(self) -> None:
        """Release what the capability holds (engines, HTTP clients); idempotent."""


Installer = Callable[[FastMCP, Settings], Capability | None]

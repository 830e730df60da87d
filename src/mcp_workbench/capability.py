"""What the composition root needs from a capability: install it, and close it at shutdown.

Each capability package (``data``, ``files``, ``web``, ...) has ``server.install(mcp,
settings)``, which registers its MCP components and returns a :class:`Capability` whose
resources (pools, clients) the server's lifespan closes, or ``None`` when configuration
leaves the capability off.

Installing registers components only: a capability's service, and the engine libraries it
imports (SQLAlchemy, sqlglot, ...), is built by the first call that needs it, through
:class:`Deferred`, so start-up and a server that only answers ``tools/list`` never pay for it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

from fastmcp import FastMCP

from mcp_workbench.settings import Settings


class Capability(Protocol):
    """Required: ``name`` and ``aclose()``. Optional, discovered by the composition root:
    ``async check() -> dict[str, str | None]`` for readiness (dependency -> problem or None)
    ``samples() -> Iterable[Sample]`` for metrics gathered at scrape time, and
    ``async complete(ref, argument, context) -> list[str] | None`` for argument completions
    (None: not this capability's reference), and ``async startup()`` when the lifespan starts
    (it must return at once; slow work goes to a task the capability ends in ``aclose``)."""

    name: str

    async def aclose(self) -> None:
        """Release what the capability holds (engines, HTTP clients); idempotent."""


Installer = Callable[[FastMCP, Settings], Capability | None]

T = TypeVar("T")


class Deferred(Generic[T]):
    """A service built on first use. Only the event loop touches it, so there is no lock:
    building is synchronous and happens once."""

    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self._value: T | None = None

    @property
    def built(self) -> T | None:
        """The service if something has used it, else None (and nothing is built)."""
        return self._value

    def get(self) -> T:
        if self._value is None:
            self._value = self._build()
        return self._value

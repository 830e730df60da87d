"""The contract between the composition root and a capability, and between capabilities.

A capability folder (``data``, ``files``, ``web``, ...) has three faces: ``settings.py`` (its
section of the configuration), ``service.py`` (its domain API: plain typed results, no MCP)
and ``server.py`` (its MCP components, and :func:`install`-style entry point). Installing
happens in order; each installer gets its own settings section and the :class:`Services`
that capabilities installed before it offer, so a later capability (research, analysis)
asks for a data, files or web service by type rather than through a tool.

What one capability offers another is bounded by the caller: :meth:`Services.for_caller`
gives a view that hands out a service only if the calling key holds the scope it was offered
under. A research call by a key without ``files:read`` cannot read files through the files
service any more than through ``files_read``.

Installing registers components only: a capability's service, and the engine libraries it
imports (SQLAlchemy, sqlglot, ...), is built by the first call that needs it (:class:`Lazy`),
so start-up and a server that only answers ``tools/list`` never pay for it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar

from mcp_workbench.platform.auth import ScopePolicy
from mcp_workbench.platform.errors import NotFound
from mcp_workbench.platform.identity import Caller
from mcp_workbench.platform.metrics import Sample

if TYPE_CHECKING:
    # PEP 747: a key may be a Protocol class, which ``type[T]`` refuses (mypy's type-abstract).
    from typing_extensions import TypeForm

T = TypeVar("T")


class Lazy(Generic[T]):
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


class Closeable(Protocol):
    async def aclose(self) -> None: ...


class Capability:
    """What the composition root needs from a capability. Every hook has a no-op default, so
    a capability overrides only what it has."""

    name: ClassVar[str]

    async def startup(self) -> None:
        """Called when the server's lifespan starts; must return at once (slow work goes to a
        task that :meth:`aclose` ends)."""

    async def check(self) -> dict[str, str | None]:
        """Readiness: each dependency's problem, or None when it answers."""
        return {}

    def samples(self) -> Iterable[Sample]:
        """Metric samples gathered at scrape time."""
        return ()

    async def complete(self, ref: Any, argument: Any, context: Any) -> list[str] | None:
        """Completions for a prompt or resource-template argument; None: not this capability's."""
        return None

    async def aclose(self) -> None:
        """Release what the capability holds (engines, clients, tasks); idempotent."""


S = TypeVar("S", bound=Closeable)


class ServiceCapability(Capability, Generic[S]):
    """A capability whose work is done by one service built on first use. Until then, metrics
    show :meth:`idle_samples` (each series at its zero value) and closing has nothing to do."""

    def __init__(self, build: Callable[[], S]) -> None:
        self.service: Lazy[S] = Lazy(build)

    def samples(self) -> Iterable[Sample]:
        service = self.service.built
        return self.service_samples(service) if service is not None else self.idle_samples()

    def service_samples(self, service: S) -> Iterable[Sample]:
        return ()

    def idle_samples(self) -> Iterable[Sample]:
        return ()

    async def aclose(self) -> None:
        if (service := self.service.built) is not None:
            await service.aclose()


@dataclass(frozen=True, slots=True)
class _Offer:
    service: Lazy[Any]
    scope: str
    what: str


class Unavailable(NotFound):
    """A service another capability asked for is not installed here, or not open to the caller.
    Both read the same, as a hidden tool reads like a missing one."""


class Services:
    """What installed capabilities offer to those installed after them, keyed by type.

    A capability offers a narrow face of its service (a reader, not its writer) under the scope
    that opens the same operations as tools; the face is built when first asked for.
    """

    def __init__(self) -> None:
        self._offers: dict[object, _Offer] = {}

    def offer(self, kind: TypeForm[T], service: Lazy[T], *, scope: str, what: str) -> None:
        """Offer ``service`` as ``kind`` to callers holding ``scope``; ``what`` names it in refusals
        ("reading files")."""
        if kind in self._offers:
            raise ValueError(f"{kind.__name__} is already offered")
        self._offers[kind] = _Offer(service, scope, what)

    def offered(self, kind: type[Any]) -> bool:
        """Whether some installed capability offers ``kind`` (to whichever callers)."""
        return kind in self._offers

    def for_caller(self, caller: Caller) -> CallerServices:
        return CallerServices(self._offers, caller)


class CallerServices:
    """The services as one caller may use them."""

    def __init__(self, offers: dict[object, _Offer], caller: Caller) -> None:
        self._offers = offers
        self.caller = caller

    def may(self, kind: TypeForm[Any]) -> bool:
        """Whether :meth:`get` would hand out ``kind``: installed, and open to this caller."""
        offer = self._offers.get(kind)
        return offer is not None and ScopePolicy.allowed(offer.scope, self.caller.scopes)

    def get(self, kind: TypeForm[T]) -> T:
        """The service offered as ``kind``, or :class:`Unavailable`."""
        offer = self._offers.get(kind)
        if offer is None or not ScopePolicy.allowed(offer.scope, self.caller.scopes):
            what = offer.what if offer is not None else kind.__name__
            raise Unavailable(
                f"{what} is not available to this call",
                recovery_steps=[
                    "Leave out what needs it, or ask the server's operator for a key whose scopes include it."
                ],
                details={"service": kind.__name__},
            )
        service: T = offer.service.get()
        return service


SectionT_contra = TypeVar("SectionT_contra", contravariant=True)


class Installer(Protocol[SectionT_contra]):
    """``install(mcp, section, services)``: register the capability's components on ``mcp`` and
    return it, or None when its configuration leaves it off."""

    def __call__(self, mcp: Any, section: SectionT_contra, services: Services, /) -> Capability | None: ...

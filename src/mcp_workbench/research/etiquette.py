"""Etiquette toward the providers: one identifying User-Agent, per-host pacing, and Retry-After.

Each host (scheme, name and port) has a :class:`HostPacer` that lives as long as the service,
so consecutive runs share it: a request starts only when fewer than ``max_concurrent`` are in
flight to that host and at least ``min_interval_s`` after the previous start there. A 429 (or a
503 with ``Retry-After``) pauses the host for the time it asks, for every run. A request whose
turn would come after its run's deadline is not sent at all: the source reports ``timeout``
(or ``rate_limited`` when a Retry-After is the reason) instead of waiting past the budget.

The starts, pauses and places in flight are kept in a :mod:`~mcp_workbench.research.pacing`
book: this process's own, or one on Redis that every worker and replica shares, so that the
host sees the etiquette however many processes serve.

Pacing is entered as the :class:`~mcp_workbench.web.port.WebClient` gate, so responses served from the HTTP cache
cost no turn.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

import anyio

from mcp_workbench.platform.errors import PermissionDenied, Timeout, TooLarge, WorkbenchError
from mcp_workbench.platform.retry_after import parse_retry_after
from mcp_workbench.research.errors import SourceProblem
from mcp_workbench.research.pacing import MemoryPaceBook, PaceBook
from mcp_workbench.research.settings import ResearchSettings, SourceSettings
from mcp_workbench.web.port import ApiResponse, WebClient

log = logging.getLogger("mcp_workbench.research")

DEFAULT_RETRY_AFTER_S = 30.0
MAX_RETRY_AFTER_S = 3600.0
# Added to each interval: the host's clock sees a request that opens a connection later than one
# on a kept-alive connection, so a gap measured there can be shorter than the one we kept.
SAFETY_S = 0.05
SAFETY_SHARE = 0.05
_PHRASES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass(frozen=True)
class HostRules:
    """A host's published etiquette: least time between request starts, most requests in flight."""

    min_interval_s: float = 0.0
    max_concurrent: int = 4

    def configured(self, settings: SourceSettings | None) -> HostRules:
        """These rules with the operator's overrides from ``[research.sources.NAME]``."""
        if settings is None:
            return self
        return HostRules(
            self.min_interval_s if settings.min_interval_s is None else settings.min_interval_s,
            self.max_concurrent if settings.max_concurrent is None else settings.max_concurrent,
        )

    def stricter(self, other: HostRules) -> HostRules:
        return HostRules(max(self.min_interval_s, other.min_interval_s), min(self.max_concurrent, other.max_concurrent))


class HostPacer:
    """Turns at one host: this process's own places in flight, and the starts booked in the
    :class:`~mcp_workbench.research.pacing.PaceBook` that every process serving may share."""

    def __init__(self, origin: str, rules: HostRules, book: PaceBook) -> None:
        self.origin = origin
        self.rules = rules
        self.book = book
        self._slots = anyio.Semaphore(rules.max_concurrent)
        self._order = anyio.Lock()
        self.paused_until = 0.0

    @property
    def spacing_s(self) -> float:
        """The interval kept between starts, with a margin for the host's own clock: a request that
        opens a connection reaches it later than one on a kept-alive connection."""
        interval = self.rules.min_interval_s
        return interval + max(SAFETY_S, interval * SAFETY_SHARE) if interval > 0 else 0.0

    async def pause(self, seconds: float) -> None:
        self.paused_until = max(self.paused_until, anyio.current_time() + seconds)
        await self.book.pause(self.origin, seconds)

    @asynccontextmanager
    async def turn(self, deadline: float) -> AsyncIterator[None]:
        """Wait for a place in flight and for the booked start, then hold the place for one exchange."""
        with anyio.move_on_after(max(0.0, deadline - anyio.current_time())) as waited:
            await self._slots.acquire()
        if waited.cancelled_caught:
            raise SourceProblem("timeout", f"no turn at {self.origin} before the time budget ran out")
        try:
            left = deadline - anyio.current_time()
            async with self.book.in_flight(self.origin, self.rules.max_concurrent, left) as placed:
                if not placed:
                    raise SourceProblem("timeout", f"no turn at {self.origin} before the time budget ran out")
                async with self._order:
                    slot = await self.book.reserve(self.origin, self.spacing_s, deadline - anyio.current_time())
                    if slot.refused == "rate_limited":
                        raise SourceProblem(
                            "rate_limited",
                            f"{self.origin} asked for a pause (Retry-After) that ends "
                            f"{slot.wait_s:.0f} s from now, after this run's time budget",
                            retry_after_s=slot.wait_s,
                        )
                    if slot.refused is not None:
                        raise SourceProblem(
                            "timeout",
                            f"the next turn at {self.origin} (one request every {self.rules.min_interval_s:g} s) "
                            "comes after the time budget",
                        )
                    if slot.wait_s > 0:
                        await anyio.sleep(slot.wait_s)
                yield
        finally:
            self._slots.release()


class PoliteHttp:
    """The one HTTP client of the research sources: identifying, paced, and patient with 429s.

    ``book`` is where the turns are booked; by default this process's own."""

    def __init__(self, http: WebClient, settings: ResearchSettings, book: PaceBook | None = None) -> None:
        self._http = http
        self.settings = settings
        self.book = book if book is not None else MemoryPaceBook()
        self._pacers: dict[str, HostPacer] = {}

    def pacer(self, origin: str, rules: HostRules) -> HostPacer:
        pacer = self._pacers.get(origin)
        if pacer is None:
            pacer = self._pacers[origin] = HostPacer(origin, rules, self.book)
        elif pacer.rules != rules and pacer.rules.stricter(rules) != pacer.rules:
            # Two sources on one host: the host's stricter rules win from now on (the book keeps its turns).
            fresh = HostPacer(origin, pacer.rules.stricter(rules), self.book)
            fresh.paused_until = pacer.paused_until
            pacer = self._pacers[origin] = fresh
        return pacer

    async def get(
        self,
        url: str,
        *,
        rules: HostRules,
        deadline: float,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        accept: str = "application/json",
    ) -> ApiResponse:
        """GET with etiquette; a 2xx answer, or :class:`SourceProblem` saying why not."""
        origin = _origin(url)
        pacer = self.pacer(origin, rules)
        sent = {"User-Agent": self.settings.user_agent, "Accept": accept, **(headers or {})}
        for attempt in (1, 2):
            remaining = deadline - anyio.current_time()
            if remaining <= 0:
                raise SourceProblem("timeout", f"the time budget ran out before {origin} was asked")
            try:
                response = await self._http.get(
                    url,
                    params=params,
                    headers=sent,
                    max_bytes=self.settings.max_response_bytes,
                    timeout_s=remaining,
                    gate=lambda: pacer.turn(deadline),
                )
            except SourceProblem:
                raise
            except WorkbenchError as exc:
                raise _problem(origin, exc, self.settings.max_response_bytes) from None
            if response.status == 429 or (response.status == 503 and "retry-after" in response.headers):
                wait = parse_retry_after(response.headers.get("retry-after"), cap_s=MAX_RETRY_AFTER_S)
                await pacer.pause(DEFAULT_RETRY_AFTER_S if wait is None else wait)
                log.info("research source rate limited", extra={"origin": origin, "retry_after_s": wait})
                if attempt == 1 and pacer.paused_until < deadline - 0.2:
                    continue  # the next turn waits out the pause
                said = f"Retry-After {wait:g} s" if wait is not None else "no Retry-After"
                raise SourceProblem(
                    "rate_limited",
                    f"{origin} answered HTTP {response.status} ({said}), beyond this run's time budget",
                    retry_after_s=wait,
                )
            if not 200 <= response.status < 300:
                raise SourceProblem("failed", f"{origin} answered HTTP {response.status} {_phrase(response)}")
            return response
        raise AssertionError("unreachable")  # pragma: no cover


def _phrase(response: ApiResponse) -> str:
    phrase = _PHRASES.get(response.status, "")
    snippet = response.body[:160].decode("utf-8", "replace").strip().replace("\n", " ")
    return f"{phrase}: {snippet}" if snippet and not snippet.startswith("<") else phrase


def _problem(origin: str, exc: WorkbenchError, cap: int) -> SourceProblem:
    if isinstance(exc, Timeout):
        return SourceProblem("timeout", f"{origin} did not answer within the time left")
    if isinstance(exc, TooLarge):
        return SourceProblem("failed", f"{origin} answered more than {cap:,} bytes; the answer was refused")
    if isinstance(exc, PermissionDenied):
        return SourceProblem("failed", f"{origin} may not be reached from this server: {exc.message}")
    return SourceProblem("failed", exc.message)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()

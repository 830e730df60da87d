"""Rate limits per caller and tool: a moving window in memory, or the `limits` library on Redis.

tools/call, resources/read, prompts/get and completion/complete spend budget (initialize,
discover, list calls and ping never do); a read, prompt or completion spends from the tool of
the same scope (see platform/catalog.py). A limited call is a RATE_LIMITED tool result with
``retry_after_s``, not a protocol error; the other requests have no error result, so theirs is
a protocol error carrying the same error object.

One process keeps its windows in memory (:class:`MemoryWindows`): a deque of hit times per
caller, tool and limit, so a check costs a few microseconds however high the limit is (the
`limits` library's memory storage inserts at the front of a list, which grows with the
limit). Several replicas share counts on Redis through `limits`; if Redis is unreachable the
setting decides: fail open (serve, log a warning) or closed (refuse with UPSTREAM_ERROR);
either way the server keeps running.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mcp_workbench.platform.errors import RateLimited, UpstreamError

if TYPE_CHECKING:
    from limits import RateLimitItem
    from limits.aio.storage import Storage

log = logging.getLogger("mcp_workbench.limits")


# The `limits` library's notation ("10/second; 1000 per 1 day"), parsed here so that a
# server with in-memory limits never imports the library (it costs start-up time).
_ONE = re.compile(r"\s*([0-9]+)\s*(?:/|\s*per\s*)\s*([0-9]+)?\s*([a-z]+?)s?\s*", re.IGNORECASE)
_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86_400, "month": 2_592_000, "year": 31_104_000}


@dataclass(frozen=True)
class Rate:
    """At most ``amount`` calls per ``multiples`` × ``granularity``."""

    amount: int
    multiples: int
    granularity: str

    @property
    def seconds(self) -> int:
        return self.multiples * _SECONDS[self.granularity]

    def __str__(self) -> str:
        return f"{self.amount} per {self.multiples} {self.granularity}"


def parse_rates(text: str) -> list[Rate]:
    """``"10/second; 1000/day"`` as rates, or ValueError (same notation as `limits`)."""
    rates = []
    for part in re.split(r"[,;|]", text):
        match = _ONE.fullmatch(part)
        if match is None or match.group(3).lower() not in _SECONDS:
            raise ValueError(f"couldn't parse rate limit string {text!r}")
        amount, multiples, granularity = match.groups()
        rates.append(Rate(int(amount), int(multiples or 1), granularity.lower()))
    return rates


def known_storage(storage: str) -> str:
    """``storage`` if it names a store the server can share state in; else ValueError saying which."""
    scheme, found, _ = storage.partition("://")
    if not found or scheme not in {"memory", "redis", "rediss"}:
        raise ValueError(f"unsupported storage {storage!r}; allowed: memory://, redis://HOST:PORT/DB")
    return storage


def is_shared(storage: str) -> bool:
    """Whether ``storage`` is shared by processes (Redis), not one process's memory."""
    return storage.startswith(("redis://", "rediss://"))


def storage_uri(configured: str) -> tuple[str, dict[str, Any]]:
    """Our config's ``redis://`` as the `limits` library's async URI and options."""
    scheme, rest = configured.split("://", 1)
    return f"async+{scheme}://{rest}", {"implementation": "redispy", "socket_timeout": 2, "socket_connect_timeout": 2}


class MemoryWindows:
    """Exact moving windows in this process: at most ``amount`` units in any ``seconds`` span.

    Each window is a deque of ``(time, cost)`` with a running total; expired hits leave from
    the left as new ones arrive, so a hit is O(1) amortised. Idle windows are swept now and
    then, so callers that went away do not keep memory.
    """

    SWEEP_EVERY = 4096  # hits between sweeps of idle windows

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._windows: dict[tuple[str, ...], _Window] = {}
        self._hits = 0

    def hit(self, key: tuple[str, ...], amount: int, seconds: float, cost: int) -> float | None:
        """Spend ``cost``; None if it fit, else the seconds until it would (nothing is spent)."""
        now = self._clock()
        window = self._windows.get(key)
        if window is None:
            window = self._windows[key] = _Window(seconds)
        window.expire(now - seconds)
        if window.total + cost > amount:
            return window.wait_for(window.total + cost - amount, seconds, now)
        window.hits.append((now, cost))
        window.total += cost
        self._hits += 1
        if self._hits % self.SWEEP_EVERY == 0:
            self._sweep(now)
        return None

    def _sweep(self, now: float) -> None:
        for key in [k for k, w in self._windows.items() if not w.hits or w.hits[-1][0] <= now - w.seconds]:
            del self._windows[key]

    def __len__(self) -> int:
        return len(self._windows)


class _Window:
    __slots__ = ("hits", "seconds", "total")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.hits: deque[tuple[float, int]] = deque()
        self.total = 0

    def expire(self, before: float) -> None:
        hits = self.hits
        while hits and hits[0][0] <= before:
            self.total -= hits.popleft()[1]

    def wait_for(self, excess: int, seconds: float, now: float) -> float:
        """Seconds until ``excess`` units have left the window."""
        freed = 0
        for at, cost in self.hits:
            freed += cost
            if freed >= excess:
                return max(0.0, at + seconds - now)
        return seconds


class RateLimiter:
    """Limits for each tool, checked and spent per caller."""

    def __init__(
        self,
        *,
        default: str,
        tools: dict[str, str],
        costs: dict[str, dict[str, int]],
        storage: str,
        fail_open: bool,
        on_reject: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._default = parse_rates(default)
        self._tools = {name: parse_rates(value) for name, value in tools.items()}
        self._costs = costs
        self._fail_open = fail_open
        self._on_reject = on_reject or (lambda _tool: None)
        self.shared = is_shared(storage)
        self._memory = MemoryWindows(clock)
        self.storage: Storage | None = None
        if self.shared:
            from limits.aio.storage import Storage as AsyncStorage
            from limits.aio.strategies import MovingWindowRateLimiter
            from limits.storage import storage_from_string

            uri, options = storage_uri(storage)
            built = storage_from_string(uri, **options)
            if not isinstance(built, AsyncStorage):  # storage_uri's async+ scheme makes an async one
                raise TypeError(f"{uri} did not give an async storage")
            self.storage = built
            self._strategy = MovingWindowRateLimiter(built)
            self._items: dict[str, list[RateLimitItem]] = {}

    def limits_for(self, tool: str) -> list[Rate]:
        return self._tools.get(tool, self._default)

    def cost(self, tool: str, operation: str | None) -> int:
        return max(1, self._costs.get(tool, {}).get(operation or "", 1))

    async def spend(self, identity: str, tool: str, operation: str | None) -> None:
        """Spend the call's cost, or raise RateLimited / UpstreamError (storage down, fail closed)."""
        if self.shared:
            await self._spend_shared(identity, tool, self.cost(tool, operation))
        else:
            self.spend_local(identity, tool, operation)

    def spend_local(self, identity: str, tool: str, operation: str | None) -> None:
        """The in-memory path, without awaiting anything."""
        cost = self.cost(tool, operation)
        for rate in self.limits_for(tool):
            wait = self._memory.hit((identity, tool, str(rate)), rate.amount, rate.seconds, cost)
            if wait is not None:
                raise self._rejected(tool, rate, wait)

    async def _spend_shared(self, identity: str, tool: str, cost: int) -> None:
        try:
            for rate, item in zip(self.limits_for(tool), self._library_items(tool), strict=True):
                if not await self._strategy.hit(item, identity, tool, cost=cost):
                    stats = await self._strategy.get_window_stats(item, identity, tool)
                    raise self._rejected(tool, rate, stats.reset_time - time.time())
        except RateLimited:
            raise
        except Exception as exc:
            if self._fail_open:
                log.warning("rate-limit storage unavailable; letting the call through", extra={"error": repr(exc)})
                return
            raise UpstreamError(
                "the rate-limit service is unavailable, so calls are refused for now",
                recovery_steps=["Retry in a few seconds; tell the user if it persists."],
                details={"dependency": "rate_limit_storage"},
            ) from exc

    def _library_items(self, tool: str) -> list[RateLimitItem]:
        items = self._items.get(tool)
        if items is None:
            from limits import parse_many

            text = "; ".join(f"{rate.amount}/{rate.multiples} {rate.granularity}" for rate in self.limits_for(tool))
            items = self._items[tool] = parse_many(text)
        return items

    def _rejected(self, tool: str, rate: Rate, wait_s: float) -> RateLimited:
        self._on_reject(tool)
        return RateLimited(
            f"rate limit for {tool} reached ({rate})",
            retry_after_s=max(0.1, math.ceil(wait_s * 10) / 10),
            details={"tool": tool, "limit": str(rate)},
        )

    async def check(self) -> bool:
        """Is the shared storage reachable? (Memory always is.)"""
        if self.storage is None:
            return True
        try:
            return bool(await self.storage.check())
        except Exception:  # noqa: BLE001 - readiness reports, it does not raise
            return False

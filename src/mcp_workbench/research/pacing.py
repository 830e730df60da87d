"""Where the turns at each provider's host are booked: in this process, or on Redis for all of them.

A provider's etiquette is about what *it* sees, so when several processes serve (``serve
--workers N``, replicas behind a load balancer) they must share one book, or together they ask
N times as often as each one keeps to. :class:`MemoryPaceBook` books for one process;
:class:`RedisPaceBook` books on the Redis that ``[limits] storage`` (or ``[research]
pacing_storage``) names, with Redis's clock, so the processes' clocks never meet:

- **start slots**: one key per host holds the earliest time the next request may start; a script
  reserves the next slot and moves the key on by the host's interval, atomically;
- **pauses**: a 429's ``Retry-After`` is written once and every process waits it out;
- **requests in flight**: a sorted set of leases per host, each ending at its request's deadline,
  so a process that dies mid-request frees its place when the lease ends.

If Redis does not answer, a request is paced by this process's own book (and a warning is logged
now and then): the source keeps working, at worst as often as one process per host would ask.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

import anyio

from mcp_workbench.platform.limits import is_shared

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.commands.core import AsyncScript

log = logging.getLogger("mcp_workbench.research")

Refusal = Literal["timeout", "rate_limited"]
KEY_PREFIX = "mcp-workbench:research:pace:"
LEASE_GRACE_S = 5.0  # a lease outlives its request's deadline by this much
POLL_S = 0.05  # how often a request waiting for a place in flight asks again
WARN_EVERY_S = 60.0


@dataclass(frozen=True)
class Slot:
    """A booked start: wait ``wait_s`` then send; or ``refused``, because the start would come
    ``wait_s`` from now, after the request's deadline (``rate_limited`` when a pause is the
    reason)."""

    wait_s: float
    refused: Refusal | None = None


class PaceBook(Protocol):
    """The turns at every host, for whoever shares this book."""

    async def reserve(self, origin: str, spacing_s: float, max_wait_s: float) -> Slot:
        """Book the next start at ``origin``, ``spacing_s`` after the one before (and after any
        pause), unless that is more than ``max_wait_s`` away: then nothing is booked."""
        ...

    async def pause(self, origin: str, seconds: float) -> None:
        """No start at ``origin`` in the next ``seconds`` (a shorter pause never shortens one)."""
        ...

    def in_flight(self, origin: str, limit: int, max_wait_s: float) -> AbstractAsyncContextManager[bool]:
        """A place among ``limit`` requests in flight to ``origin``, held for the block; yields
        False if none came free within ``max_wait_s``."""
        ...

    async def aclose(self) -> None: ...


class MemoryPaceBook:
    """One process's book; places in flight are the caller's own semaphore's business."""

    def __init__(self) -> None:
        self._next: dict[str, float] = {}
        self._paused: dict[str, float] = {}

    async def reserve(self, origin: str, spacing_s: float, max_wait_s: float) -> Slot:
        return self.reserve_now(origin, spacing_s, max_wait_s)

    def reserve_now(self, origin: str, spacing_s: float, max_wait_s: float) -> Slot:
        now = anyio.current_time()
        start = max(now, self._next.get(origin, now))
        paused = self._paused.get(origin, 0.0)
        refusal: Refusal = "timeout"
        if paused > start:
            start, refusal = paused, "rate_limited"
        if start - now > max_wait_s:
            return Slot(start - now, refusal)
        self._next[origin] = start + spacing_s
        return Slot(start - now)

    async def pause(self, origin: str, seconds: float) -> None:
        self.pause_now(origin, seconds)

    def pause_now(self, origin: str, seconds: float) -> None:
        until = anyio.current_time() + seconds
        self._paused[origin] = max(self._paused.get(origin, 0.0), until)

    @asynccontextmanager
    async def in_flight(self, origin: str, limit: int, max_wait_s: float) -> AsyncIterator[bool]:
        yield True

    async def aclose(self) -> None:
        return None


# KEYS[1] next start (ms, Redis clock), KEYS[2] paused until; ARGV spacing_ms, max_wait_ms.
# Returns {refusal: 0 none / 1 timeout / 2 rate_limited, wait_ms}.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local start = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'))
local refusal = 1
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
if paused > start then start = paused; refusal = 2 end
if start - now > tonumber(ARGV[2]) then return {refusal, start - now} end
local after = start + tonumber(ARGV[1])
redis.call('SET', KEYS[1], after, 'PX', after - now + 1000)
return {0, start - now}
"""

# KEYS[1] paused until; ARGV pause_ms.
_PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local untl = now + tonumber(ARGV[1])
if untl > tonumber(redis.call('GET', KEYS[1]) or '0') then
  redis.call('SET', KEYS[1], untl, 'PX', tonumber(ARGV[1]) + 1000)
end
return 0
"""

# KEYS[1] leases (sorted set: token -> end, ms); ARGV limit, lease_ms, token. Returns 1 if taken.
_LEASE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIRE', KEYS[1], tonumber(last[2]) - now + 1000)
return 1
"""


# KEYS[1] leases; ARGV token.
_RELEASE = "return redis.call('ZREM', KEYS[1], ARGV[1])"

_REFUSALS: dict[int, Refusal | None] = {0: None, 1: "timeout", 2: "rate_limited"}


class RedisPaceBook:
    """The book every process shares, on Redis; this process's own book while Redis is away.

    After Redis fails to answer, the next ``RETRY_S`` go straight to the fallback, so a Redis
    that hangs costs one timeout, not one per request.
    """

    RETRY_S = 5.0

    def __init__(self, url: str, *, timeout_s: float = 2.0, lease_grace_s: float = LEASE_GRACE_S) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self.lease_grace_s = lease_grace_s
        self.fallback = MemoryPaceBook()
        self._client: Redis | None = None
        self._scripts: dict[str, AsyncScript] = {}
        self._away_until = 0.0
        self._warned_at: float | None = None

    async def reserve(self, origin: str, spacing_s: float, max_wait_s: float) -> Slot:
        keys = [_key(origin, "next"), _key(origin, "paused")]
        answer = await self._run(_RESERVE, keys, [_ms(spacing_s), _ms(max_wait_s)], origin)
        if answer is None:
            return self.fallback.reserve_now(origin, spacing_s, max_wait_s)
        refusal, wait_ms = answer
        return Slot(int(wait_ms) / 1000, _REFUSALS[int(refusal)])

    async def pause(self, origin: str, seconds: float) -> None:
        self.fallback.pause_now(origin, seconds)  # this process's own turns keep it if Redis goes away
        await self._run(_PAUSE, [_key(origin, "paused")], [_ms(seconds)], origin)

    @asynccontextmanager
    async def in_flight(self, origin: str, limit: int, max_wait_s: float) -> AsyncIterator[bool]:
        key, token = _key(origin, "leases"), secrets.token_hex(8)
        lease: list[int | str] = [limit, _ms(max_wait_s + self.lease_grace_s), token]
        ends = anyio.current_time() + max_wait_s
        while (taken := await self._run(_LEASE, [key], lease, origin)) == 0:
            if anyio.current_time() + POLL_S > ends:
                yield False
                return
            await anyio.sleep(POLL_S)
        if taken is None:  # Redis is away: the caller's own semaphore is all there is
            yield True
            return
        try:
            yield True
        finally:
            with anyio.CancelScope(shield=True):
                await self._run(_RELEASE, [key], [token], origin)

    async def _run(self, script: str, keys: list[str], args: list[int | str], origin: str) -> Any:
        """The script's answer, or None when Redis does not answer."""
        if time.monotonic() < self._away_until:
            return None
        from redis.exceptions import RedisError

        try:
            if script not in self._scripts:
                self._scripts[script] = self._connected().register_script(script)
            return await self._scripts[script](keys, args)
        except (RedisError, OSError) as exc:
            self._away_until = time.monotonic() + self.RETRY_S
            self._warn(origin, exc)
            return None

    def _connected(self) -> Redis:
        if self._client is None:
            import redis.asyncio as aioredis

            timeout = self.timeout_s
            self._client = aioredis.from_url(self.url, socket_timeout=timeout, socket_connect_timeout=timeout)
        return self._client

    def _warn(self, origin: str, exc: BaseException) -> None:
        now = time.monotonic()
        if self._warned_at is None or now - self._warned_at >= WARN_EVERY_S:
            self._warned_at = now
            log.warning(
                "research pacing store unreachable; pacing in this process only",
                extra={"origin": origin, "error": f"{type(exc).__name__}: {exc}"},
            )

    async def aclose(self) -> None:
        client, self._client = self._client, None
        self._scripts.clear()
        if client is not None:
            from redis.exceptions import RedisError

            with contextlib.suppress(RedisError, OSError):
                await client.aclose()


def open_pace_book(storage: str) -> PaceBook:
    """The book for ``storage``: ``memory://`` or ``redis://HOST:PORT/DB`` (``rediss://`` too)."""
    if is_shared(storage):
        return RedisPaceBook(storage)
    return MemoryPaceBook()


def _key(origin: str, what: str) -> str:
    return f"{KEY_PREFIX}{origin}:{what}"


def _ms(seconds: float) -> int:
    return max(0, round(seconds * 1000))

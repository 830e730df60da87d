"""robots.txt, honoured for fetches a model asks for (RFC 9309, parsed by Protego).

One answer per origin (scheme, host, port), reused for ``robots_ttl_s``. What is kept is
bounded twice: a robots.txt is read up to ``ROBOTS_MAX_BYTES`` (RFC 9309's 500 KiB minimum;
Google stops there too), and the parsed rules of all origins together stay within
``ROBOTS_CACHE_CHARS`` of robots.txt text (parsed rules take tens of times their text), the
least recently used dropped first. Parsing, and checking a URL against a large file's rules,
run in a thread: both take time in proportion to the file, and the event loop serves everyone.

- 2xx: the rules apply to the user agent's first word (``mcp-workbench``), or to ``*``;
- 4xx (no robots.txt): everything is allowed;
- 5xx, 429 (or a redirect that leads nowhere): everything is disallowed for now (RFC 9309
  §2.3.1.4), and the answer is not kept, so the next call asks again.

When robots.txt cannot be reached at all (timeout, refused connection, bad TLS certificate, a
host without DNS entry, an address the SSRF guard refuses), nothing is fetched either, and the
model gets that failure itself: the page would fail the same way, and the real cause says
better what to do next.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import anyio
import httpx2

from mcp_workbench.platform.errors import PermissionDenied

ROBOTS_MAX_BYTES = 512_000  # RFC 9309 asks parsers to read at least 500 KiB
MAX_ORIGINS = 1024
ROBOTS_CACHE_CHARS = 1_000_000
"""robots.txt text whose parsed rules are kept, all origins together."""
INLINE_CHECK_CHARS = 32_768
"""Rules parsed from more text than this are checked in a thread, not on the event loop."""

RobotsFetch = Callable[[str], Awaitable[tuple[int, str]]]
"""``await fetch(robots_url)`` → (final status, body text); raises WorkbenchError when unreachable."""


@dataclass(frozen=True)
class _Rules:
    parser: Any | None  # protego.Protego; None means allow all
    expires_at: float
    chars: int = 0  # length of the text the rules were parsed from

    def allows(self, url: str, agent: str) -> bool:
        return self.parser is None or bool(self.parser.can_fetch(url, agent))


def _parse(text: str) -> Any:
    from protego import Protego

    return Protego.parse(text)


class RobotsDisallowed(PermissionDenied):
    default_recovery = (
        "Do not retry this URL: the site asks automated agents not to fetch it.",
        "Look for the same information on another site, or ask the user to open the page.",
    )


class RobotsUnavailable(PermissionDenied):
    retryable = True
    default_recovery = (
        "Retry in a minute: the site's robots.txt could not be read, so automated fetches are paused.",
        "Or look for the same information on another site.",
    )


def origin_of(url: httpx2.URL) -> str:
    port = url.port or (443 if url.scheme == "https" else 80)
    host = f"[{url.host}]" if ":" in url.host else url.host
    return f"{url.scheme}://{host}:{port}"


class RobotsRules:
    """Decides, per URL, whether robots.txt lets this user agent fetch it."""

    def __init__(
        self,
        fetch: RobotsFetch,
        *,
        user_agent: str,
        ttl_s: float,
        clock: Callable[[], float] = time.monotonic,
        max_origins: int = MAX_ORIGINS,
        max_chars: int = ROBOTS_CACHE_CHARS,
    ) -> None:
        self._fetch = fetch
        self.agent = user_agent.split(maxsplit=1)[0].split("/", maxsplit=1)[0] if user_agent.strip() else "*"
        self._ttl_s = ttl_s
        self._clock = clock
        self._max_origins = max_origins
        self._max_chars = max_chars
        self._cache: OrderedDict[str, _Rules] = OrderedDict()
        self._chars = 0

    async def check(self, url: httpx2.URL) -> None:
        """Return if ``url`` may be fetched; raise :class:`RobotsDisallowed` / :class:`RobotsUnavailable`."""
        origin = origin_of(url)
        rules = await self._rules(origin)
        if rules.chars > INLINE_CHECK_CHARS:
            allowed = await anyio.to_thread.run_sync(rules.allows, str(url), self.agent)
        else:
            allowed = rules.allows(str(url), self.agent)
        if not allowed:
            raise RobotsDisallowed(
                f"{origin}/robots.txt does not allow user agent {self.agent!r} to fetch {url.raw_path.decode()}",
                details={"url": str(url), "robots_url": f"{origin}/robots.txt", "user_agent": self.agent},
            )

    async def _rules(self, origin: str) -> _Rules:
        now = self._clock()
        cached = self._cache.get(origin)
        if cached is not None and cached.expires_at > now:
            self._cache.move_to_end(origin)
            return cached
        robots_url = f"{origin}/robots.txt"
        status, text = await self._fetch(robots_url)  # transport failures propagate: the page would fail alike
        if 200 <= status < 300:
            parser = await anyio.to_thread.run_sync(_parse, text)
            rules = _Rules(parser, now + self._ttl_s, len(text))
        elif 400 <= status < 500 and status != 429:
            rules = _Rules(None, now + self._ttl_s)
        else:
            raise self._unavailable(origin, f"it answered HTTP {status}")
        self._keep(origin, rules)
        return rules

    def _keep(self, origin: str, rules: _Rules) -> None:
        dropped = self._cache.pop(origin, None)
        if dropped is not None:
            self._chars -= dropped.chars
        self._cache[origin] = rules
        self._chars += rules.chars
        while len(self._cache) > self._max_origins or (self._chars > self._max_chars and len(self._cache) > 1):
            _, dropped = self._cache.popitem(last=False)
            self._chars -= dropped.chars

    @staticmethod
    def _unavailable(origin: str, reason: str) -> RobotsUnavailable:
        return RobotsUnavailable(
            f"{origin}/robots.txt could not be read ({reason}); until it can, the site is treated as "
            "disallowing automated fetches",
            details={"robots_url": f"{origin}/robots.txt", "reason": reason},
        )

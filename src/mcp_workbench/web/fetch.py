"""Fetching one URL safely: redirects, robots.txt, caching, caps, and errors the model can act on.

:class:`Fetcher` owns the pooled client (created on first use, closed by ``aclose``). One
fetch, all within ``timeout_s``:

1. :func:`~mcp_workbench.web.ssrf.check_url` refuses what it can without DNS;
2. robots.txt of the URL's origin is consulted (model-initiated fetches);
3. the request goes through the HTTP cache (hishel, RFC 9111) to the pinned transport, whose
   connection goes only to an address the SSRF guard checked;
4. a redirect starts again at 1 with the new URL (at most ``max_redirects``; loops refused);
5. the body is streamed and decoded within ``max_bytes`` (see :mod:`.decoding`).

:meth:`Fetcher.request` is the same path for programs that call an API (the research sources):
extra headers and query parameters, any final status returned with its headers (the caller
reads a 429's ``Retry-After``), the body whole or TOO_LARGE, no robots.txt, and a *gate*
entered around each request that reaches the network (not around cache hits), where the caller
paces its requests to a host.

Statuses map to the error tree: 404/410 NOT_FOUND, 401/403 PERMISSION_DENIED, 429/503
retryable UPSTREAM_ERROR with ``retry_after_s``, other 4xx UPSTREAM_ERROR (not retryable),
5xx UPSTREAM_ERROR (retryable). Timeouts are TIMEOUT. A host without DNS entry is NOT_FOUND.
"""

from __future__ import annotations

import http.cookiejar
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio
import httpx2

from mcp_workbench.platform.errors import (
    NotFound,
    PermissionDenied,
    Timeout,
    TooLarge,
    UpstreamDeclined,
    UpstreamError,
    WorkbenchError,
)
from mcp_workbench.platform.retry_after import parse_retry_after
from mcp_workbench.web.decoding import ACCEPT_ENCODING, BoundedDecoder, ContentType, decode_text
from mcp_workbench.web.gate import GATE, GatedTransport
from mcp_workbench.web.port import Gate
from mcp_workbench.web.resolver import Resolver, SystemResolver
from mcp_workbench.web.robots import ROBOTS_MAX_BYTES, RobotsRules
from mcp_workbench.web.settings import WebSettings
from mcp_workbench.web.ssrf import AddressRefused, HostPolicy, check_url

if TYPE_CHECKING:
    from hishel import AsyncBaseStorage

REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_RETRY_AFTER_S = 86_400.0


@dataclass(frozen=True)
class Fetched:
    """A successful fetch: the body within the cap, and where it came from."""

    url: str
    final_url: str
    status: int
    content_type: ContentType
    body: bytes
    truncated: bool
    from_cache: bool
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-case names; repeated ones joined by ", "


class Fetcher:
    """Safe GETs for a model. ``resolver`` and ``storage`` are seams for tests and for Redis."""

    def __init__(
        self, settings: WebSettings, *, resolver: Resolver | None = None, storage: AsyncBaseStorage | None = None
    ) -> None:
        self.settings = settings
        self.policy = HostPolicy.from_entries(settings.allow_hosts)
        self._resolver: Resolver = resolver or SystemResolver(settings.resolve)
        self._storage = storage
        self._owns_storage = storage is None
        self._client: httpx2.AsyncClient | None = None
        self.robots = RobotsRules(self._robots_txt, user_agent=settings.user_agent, ttl_s=settings.robots_ttl_s)

    @property
    def caching(self) -> bool:
        s = self.settings
        configured = s.cache_max_entries > 0 and s.cache_max_bytes > 0 and s.cache_max_age_s > 0
        return self._storage is not None or configured

    def client(self) -> httpx2.AsyncClient:
        """The pooled client, built on first use (so an unused web capability costs nothing)."""
        if self._client is None:
            self._client = self._build_client()
        return self._client

    def _build_client(self) -> httpx2.AsyncClient:
        from mcp_workbench.web.transport import PinnedBackend, PinnedTransport, ssl_context

        s = self.settings
        transport: httpx2.AsyncBaseTransport = GatedTransport(
            PinnedTransport(
                PinnedBackend(self._resolver, self.policy),
                ssl_context=ssl_context(s.ca_file),
                max_connections=s.max_connections,
            )
        )
        if self.caching:
            from hishel import CacheOptions
            from hishel.httpx2 import AsyncCacheTransport

            from mcp_workbench.web.cache import MemoryStorage

            if self._storage is None:
                self._storage = MemoryStorage(
                    max_entries=s.cache_max_entries, max_bytes=s.cache_max_bytes, max_age_s=s.cache_max_age_s
                )
            transport = AsyncCacheTransport(transport, storage=self._storage, rfc=CacheOptions(shared=True))
        # Never keep cookies: one server serves many users, and a site's cookie must not follow them.
        no_cookies = http.cookiejar.CookieJar(policy=http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
        return httpx2.AsyncClient(
            transport=transport,
            timeout=httpx2.Timeout(s.timeout_s, connect=s.connect_timeout_s),
            follow_redirects=False,
            trust_env=False,
            cookies=no_cookies,
            headers={"User-Agent": s.user_agent},
        )

    async def aclose(self) -> None:
        """Close the pooled client and drop the cache this fetcher made; idempotent."""
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()
        if self._owns_storage and self._storage is not None:
            storage, self._storage = self._storage, None
            await storage.close()

    async def fetch(self, url: str, *, accept: str = "*/*", whole: bool = False, robots: bool = True) -> Fetched:
        """GET ``url`` for a model. ``whole``: a body over the cap is TOO_LARGE instead of truncated."""
        timeout_s = self.settings.timeout_s
        try:
            with anyio.fail_after(timeout_s):
                return await self._exchange(
                    url,
                    accept=accept,
                    limit=self.settings.max_bytes,
                    whole=whole,
                    robots=robots and not self.settings.ignore_robots,
                    raise_status=True,
                )
        except TimeoutError:
            raise Timeout(
                f"fetching {url} took longer than {timeout_s:g} s",
                recovery_steps=[
                    "Retry once; the site may be slow right now.",
                    "If it times out again, look for the same information on another site.",
                ],
                details={"url": url, "timeout_s": timeout_s},
            ) from None

    async def request(
        self,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        max_bytes: int | None = None,
        timeout_s: float | None = None,
        gate: Gate | None = None,
    ) -> Fetched:
        """GET an API's ``url`` with ``params`` and ``headers``; whatever the final status, it is returned.

        Same guard, pinning, redirects and HTTP cache as :meth:`fetch`, without robots.txt (an
        API is meant for programs). A body over ``max_bytes`` is TOO_LARGE; over ``timeout_s``
        (default ``[web] timeout_s``) TIMEOUT. ``gate``, when given, is entered around every
        request that goes to the network, so a caller can pace a host without paying for hits.
        """
        target = str(httpx2.URL(url).copy_merge_params(dict(params))) if params else url
        accept, extra = "*/*", {}
        for name, value in (headers or {}).items():
            if name.lower() == "accept":
                accept = value
            elif name.lower() != "accept-encoding":  # the decoder's own list is what we can undo
                extra[name] = value
        limit = max_bytes or self.settings.max_bytes
        budget = self.settings.timeout_s if timeout_s is None else timeout_s
        try:
            with anyio.fail_after(budget):
                return await self._exchange(
                    target,
                    accept=accept,
                    limit=limit,
                    whole=True,
                    robots=False,
                    raise_status=False,
                    headers=extra,
                    gate=gate,
                )
        except TimeoutError:
            raise Timeout(
                f"{_origin(target)} did not answer within {budget:g} s",
                recovery_steps=["Retry later; the service is slow right now."],
                details={"url": target, "timeout_s": budget},
            ) from None

    async def _robots_txt(self, robots_url: str) -> tuple[int, str]:
        fetched = await self._exchange(
            robots_url, accept="text/plain", limit=ROBOTS_MAX_BYTES, whole=False, robots=False, raise_status=False
        )
        text = await anyio.to_thread.run_sync(_robots_text, fetched)
        return fetched.status, text

    async def _exchange(
        self,
        url: str,
        *,
        accept: str,
        limit: int,
        whole: bool,
        robots: bool,
        raise_status: bool,
        headers: Mapping[str, str] | None = None,
        gate: Gate | None = None,
    ) -> Fetched:
        current, via = url, None
        visited: set[str] = set()
        for _hop in range(self.settings.max_redirects + 1):
            target = check_url(current, self.policy, via=via)
            if str(target) in visited:
                raise _upstream(
                    f"redirect loop: {via} sends back to {target}, which was already visited",
                    retryable=False,
                    recovery=["Do not retry this URL; the site's redirects go in a circle."],
                    url=str(target),
                )
            visited.add(str(target))
            try:
                if robots:
                    await self.robots.check(target)
                async with self._send(target, accept, headers, gate) as response:
                    location = response.headers.get("location")
                    if response.status_code in REDIRECTS and location:
                        via, current = str(target), _join(target, location)
                        continue
                    if raise_status and not 200 <= response.status_code < 300:
                        raise status_error(response.status_code, str(target), response.headers)
                    content_type = ContentType.parse(response.headers.get("content-type"))
                    body, truncated = await _read_body(response, limit, whole=whole, url=str(target))
                    caching = response.extensions.get("caching") or {}
                    return Fetched(
                        url=url,
                        final_url=str(target),
                        status=response.status_code,
                        content_type=content_type,
                        body=body,
                        truncated=truncated,
                        from_cache=bool(caching.get("from_cache")),
                        headers={name: ", ".join(response.headers.get_list(name)) for name in response.headers},
                    )
            except AddressRefused as exc:
                # Refused when connecting (after DNS): name the page that redirected here, as check_url does.
                if via and "redirected_from" not in exc.details:
                    raise AddressRefused(
                        exc.message.replace(": it", f" (redirected from {via}): it", 1),
                        recovery_steps=exc.recovery_steps,
                        details={**exc.details, "redirected_from": via},
                    ) from None
                raise
        raise _upstream(
            f"{url} redirected more than {self.settings.max_redirects} times",
            retryable=False,
            recovery=["Do not retry this URL; fetch the last address in details.last_url directly if it looks right."],
            url=url,
            last_url=current,
        )

    @asynccontextmanager
    async def _send(
        self, url: httpx2.URL, accept: str, headers: Mapping[str, str] | None = None, gate: Gate | None = None
    ) -> AsyncIterator[httpx2.Response]:
        client = self.client()
        sent = {**(headers or {}), "Accept": accept, "Accept-Encoding": ACCEPT_ENCODING}
        request = client.build_request("GET", url, headers=sent, extensions={GATE: gate} if gate else None)
        try:
            response = await client.send(request, stream=True)
        except httpx2.HTTPError as exc:
            raise self._transport_error(url, exc) from None
        try:
            yield response
        except httpx2.HTTPError as exc:
            raise self._transport_error(url, exc) from None
        finally:
            await response.aclose()

    def _transport_error(self, url: httpx2.URL, exc: httpx2.HTTPError) -> WorkbenchError:
        if isinstance(exc, httpx2.TimeoutException):
            return Timeout(
                f"{url.host} did not answer in time ({type(exc).__name__})",
                recovery_steps=[
                    "Retry once; the site may be slow right now.",
                    "If it times out again, look for the same information on another site.",
                ],
                details={"url": str(url)},
            )
        reason = str(exc) or type(exc).__name__
        if "CERTIFICATE_VERIFY_FAILED" in reason or "certificate" in reason.lower():
            return _upstream(
                f"the TLS certificate of {url.host} is not valid: {reason}",
                retryable=False,
                recovery=["Do not retry: the site's certificate cannot be trusted. Use another source."],
                url=str(url),
            )
        return _upstream(f"could not talk to {url.host}: {reason}", retryable=True, url=str(url))


def _robots_text(fetched: Fetched) -> str:
    """A robots.txt body as text; one cut at the cap loses its last, partial line (a rule cut short
    could say the opposite of the whole one), as Google ignores what follows its cap."""
    text = decode_text(fetched.body, fetched.content_type, truncated=fetched.truncated)
    return text[: text.rfind("\n") + 1] if fetched.truncated else text


def _origin(url: str) -> str:
    try:
        parsed = httpx2.URL(url)
    except (httpx2.InvalidURL, ValueError):
        return url[:200]
    return f"{parsed.scheme}://{parsed.netloc.decode('ascii', 'replace')}"


def _join(base: httpx2.URL, location: str) -> str:
    try:
        return str(base.join(location.strip()))
    except (httpx2.InvalidURL, ValueError) as exc:
        raise _upstream(
            f"{base} redirected to an invalid address {location[:200]!r}: {exc}", retryable=False, url=str(base)
        ) from None


async def _read_body(response: httpx2.Response, limit: int, *, whole: bool, url: str) -> tuple[bytes, bool]:
    """Stream the body, undoing its content coding, to at most ``limit`` bytes (wire and decoded)."""
    declared = response.headers.get("content-length", "")
    if whole and declared.isdigit() and int(declared) > limit and "content-encoding" not in response.headers:
        raise _too_large(url, limit)
    decoder = BoundedDecoder(response.headers.get("content-encoding", ""), limit)
    body = bytearray()
    wire = 0
    truncated = False
    async for chunk in response.aiter_raw():
        wire += len(chunk)
        body += decoder.feed(chunk)
        if decoder.overflow or wire > limit:
            truncated = True
            break
    else:
        body += decoder.flush()
        truncated = decoder.overflow
    if truncated and whole:
        raise _too_large(url, limit)
    return bytes(body), truncated


def _too_large(url: str, limit: int) -> TooLarge:
    return TooLarge(
        f"{url} is larger than the server's cap of {limit:,} bytes, so it cannot be read as one JSON document",
        recovery_steps=[
            "Ask the API for less: use its paging or filter parameters in the URL.",
            "Or fetch it with format 'raw' or 'text' to read the first part in pages.",
        ],
        details={"url": url, "max_bytes": limit},
    )


def _upstream(message: str, *, retryable: bool, recovery: list[str] | None = None, **details: Any) -> UpstreamError:
    if retryable:
        return UpstreamError(message, recovery_steps=recovery, details=details)
    return UpstreamDeclined(
        message,
        recovery_steps=recovery or ["Do not retry this URL unchanged; the site refuses the request as sent."],
        details=details,
    )


def status_error(status: int, url: str, headers: httpx2.Headers | dict[str, str]) -> WorkbenchError:
    """The error for a final answer that is not 2xx."""
    phrase = httpx2.codes.get_reason_phrase(status) or "unknown status"
    said = f"{url} answered HTTP {status} {phrase}"
    details: dict[str, Any] = {"status": status, "url": url}
    if status in (404, 410):
        return NotFound(
            f"{said}: there is no page at this address",
            recovery_steps=[
                "Check the URL for typos.",
                "Search for the page's current address; it may have moved or been removed.",
            ],
            details=details,
        )
    if status in (401, 403, 407):
        return PermissionDenied(
            f"{said}: the site refuses access without credentials",
            recovery_steps=[
                "This page needs a login web_fetch does not have; find a public source for the same information.",
            ],
            details=details,
        )
    if status in (429, 503):
        retry_after = parse_retry_after(headers.get("retry-after"), cap_s=MAX_RETRY_AFTER_S)
        if retry_after is not None:
            details["retry_after_s"] = retry_after
            wait = f"Wait {retry_after:g} seconds (the site's Retry-After), then call again."
        else:
            wait = "Wait half a minute, then call again."
        busy = "is rate limiting requests" if status == 429 else "is temporarily unavailable"
        return _upstream(f"{said}: the site {busy}", retryable=True, recovery=[wait], **details)
    if status >= 500:
        return _upstream(f"{said}: the site failed", retryable=True, **details)
    return _upstream(f"{said}", retryable=False, **details)

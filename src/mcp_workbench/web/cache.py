"""The HTTP cache's storage: bounded, in memory, behind hishel's storage interface.

hishel (RFC 9111) decides what may be stored, for how long it is fresh, when it must be
revalidated (ETag / Last-Modified → 304) and which stored variant matches a request (Vary).
This module only keeps the entries: at most ``max_entries`` responses and ``max_bytes`` of
bodies, least recently used out first, none older than ``max_age_s`` whatever its headers
say. Several replicas can share a cache by passing hishel's ``AsyncRedisStorage`` (same
interface) instead.

A body is stored only once it has been read to its end: a response cut at the byte cap (or
abandoned by an error) is never stored, so a truncated page is never served as complete.
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterable, AsyncIterator, Callable
from dataclasses import dataclass, replace

from hishel import AsyncBaseStorage, Entry, Headers, Request, Response


@dataclass
class _Stored:
    key: str
    request: Request
    status: int
    headers: Headers
    body: bytes
    ttl_deadline: float | None
    tti: float | None
    expires_at: float | None


class MemoryStorage(AsyncBaseStorage):
    """An LRU of complete responses, bounded by count, bytes and age."""

    def __init__(
        self,
        *,
        max_entries: int,
        max_bytes: int,
        max_age_s: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(default_ttl=max_age_s, max_stream_size=max_bytes)
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._clock = clock
        self._entries: OrderedDict[uuid.UUID, _Stored] = OrderedDict()
        self._keys: dict[str, list[uuid.UUID]] = {}
        self._bytes = 0

    @property
    def size(self) -> tuple[int, int]:
        """(entries, body bytes) held now."""
        return len(self._entries), self._bytes

    async def create_entry(
        self,
        request: Request,
        response: Response,
        key: str,
        *,
        ttl: float | None = None,
        tti: float | None = None,
    ) -> Entry:
        entry_id = uuid.uuid4()
        ttl_deadline, tti = self._limits(ttl, tti, self._clock())
        body: AsyncIterable[bytes] = response.stream if isinstance(response.stream, AsyncIterable) else _chunks(b"")
        saving = self._save(
            body,
            entry_id=entry_id,
            key=key,
            request=_copy(request),
            response=response,
            ttl_deadline=ttl_deadline,
            tti=tti,
        )
        return Entry(id=entry_id, request=request, response=replace(response, stream=saving))

    async def get_entries(self, key: str) -> list[Entry]:
        now = self._clock()
        entries = []
        for entry_id in list(self._keys.get(key, ())):
            stored = self._entries[entry_id]
            if stored.expires_at is not None and stored.expires_at <= now:
                self._drop(entry_id)
                continue
            stored.expires_at = self._expires_at(stored.ttl_deadline, stored.tti, now)
            self._entries.move_to_end(entry_id)
            response = Response(status_code=stored.status, headers=_copy_headers(stored.headers), stream=None)
            response = replace(response, stream=_chunks(stored.body))
            entries.append(Entry(id=entry_id, request=_copy(stored.request), response=response))
        return entries

    async def update_headers(self, id: uuid.UUID, headers: Headers) -> None:
        stored = self._entries.get(id)
        if stored is not None:
            stored.headers = _copy_headers(headers)

    async def remove_entry(self, id: uuid.UUID) -> None:
        if id in self._entries:
            self._drop(id)

    async def close(self) -> None:
        self._entries.clear()
        self._keys.clear()
        self._bytes = 0

    async def _save(
        self,
        body: AsyncIterable[bytes],
        *,
        entry_id: uuid.UUID,
        key: str,
        request: Request,
        response: Response,
        ttl_deadline: float | None,
        tti: float | None,
    ) -> AsyncIterator[bytes]:
        """Pass the body through; store it when it ends, if it stayed within the bounds."""
        parts: list[bytes] = []
        size = 0
        keep = self.max_entries > 0 and self.max_bytes > 0
        async for chunk in body:
            if keep:
                size += len(chunk)
                if size > self.max_bytes:
                    keep = False
                    parts.clear()
                else:
                    parts.append(chunk)
            yield chunk
        if keep:
            now = self._clock()
            self._insert(
                entry_id,
                _Stored(
                    key=key,
                    request=request,
                    status=response.status_code,
                    headers=_copy_headers(response.headers),
                    body=b"".join(parts),
                    ttl_deadline=ttl_deadline,
                    tti=tti,
                    expires_at=self._expires_at(ttl_deadline, tti, now),
                ),
            )

    def _insert(self, entry_id: uuid.UUID, stored: _Stored) -> None:
        while self._entries and (
            len(self._entries) >= self.max_entries or self._bytes + len(stored.body) > self.max_bytes
        ):
            self._drop(next(iter(self._entries)))
        self._entries[entry_id] = stored
        self._keys.setdefault(stored.key, []).append(entry_id)
        self._bytes += len(stored.body)

    def _drop(self, entry_id: uuid.UUID) -> None:
        stored = self._entries.pop(entry_id)
        self._bytes -= len(stored.body)
        ids = self._keys.get(stored.key, [])
        if entry_id in ids:
            ids.remove(entry_id)
        if not ids:
            self._keys.pop(stored.key, None)


async def _chunks(body: bytes) -> AsyncIterator[bytes]:
    if body:
        yield body


def _copy_headers(headers: Headers) -> Headers:
    return Headers({name: list(headers.get_list(name) or []) for name in headers})


def _copy(request: Request) -> Request:
    return Request(method=request.method, url=request.url, headers=_copy_headers(request.headers))

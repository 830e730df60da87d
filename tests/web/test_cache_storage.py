"""The HTTP cache's memory storage keeps to its bounds: entries, bytes and age."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from hishel import Headers, Request, Response

from mcp_workbench.web.cache import MemoryStorage

pytestmark = pytest.mark.anyio


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


async def _body(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


async def _store(storage: MemoryStorage, key: str, *chunks: bytes, read: int | None = None) -> None:
    """Store a response the way hishel does: the entry exists once its body has been read to the end."""
    request = Request("GET", f"http://site.test/{key}", Headers({"accept": "*/*"}))
    response = Response(200, Headers({"cache-control": "max-age=60"}), _body(*chunks))
    entry = await storage.create_entry(request, response, key)
    stream = entry.response.stream
    assert stream is not None
    taken = 0
    async for _chunk in stream:  # type: ignore[union-attr]
        taken += 1
        if read is not None and taken >= read:
            await stream.aclose()  # type: ignore[union-attr]
            break


async def _read(storage: MemoryStorage, key: str) -> list[bytes]:
    bodies = []
    for entry in await storage.get_entries(key):
        bodies.append(b"".join([chunk async for chunk in entry.response.stream]))  # type: ignore[union-attr]
    return bodies


async def test_a_stored_body_is_served_back_whole() -> None:
    storage = MemoryStorage(max_entries=10, max_bytes=1000, max_age_s=60)
    await _store(storage, "a", b"hello ", b"world")
    assert await _read(storage, "a") == [b"hello world"]
    assert await _read(storage, "a") == [b"hello world"]  # readable more than once
    assert storage.size == (1, 11)


async def test_a_body_read_only_in_part_is_never_stored() -> None:
    storage = MemoryStorage(max_entries=10, max_bytes=1000, max_age_s=60)
    await _store(storage, "a", b"first", b"second", b"third", read=1)
    assert await _read(storage, "a") == []
    assert storage.size == (0, 0)


async def test_the_least_recently_used_entry_goes_first_when_entries_run_out() -> None:
    storage = MemoryStorage(max_entries=2, max_bytes=1000, max_age_s=60)
    await _store(storage, "a", b"A")
    await _store(storage, "b", b"B")
    assert await _read(storage, "a") == [b"A"]  # touch a: b is now the oldest
    await _store(storage, "c", b"C")
    assert await _read(storage, "b") == []
    assert await _read(storage, "a") == [b"A"] and await _read(storage, "c") == [b"C"]


async def test_bytes_are_bounded_too() -> None:
    storage = MemoryStorage(max_entries=100, max_bytes=10, max_age_s=60)
    await _store(storage, "a", b"12345")
    await _store(storage, "b", b"12345")
    await _store(storage, "c", b"123")
    assert await _read(storage, "a") == []
    assert storage.size == (2, 8)


async def test_a_body_larger_than_the_whole_cache_is_not_stored() -> None:
    storage = MemoryStorage(max_entries=100, max_bytes=10, max_age_s=60)
    await _store(storage, "small", b"12345")
    await _store(storage, "big", b"123456", b"789012")
    assert await _read(storage, "big") == []
    assert await _read(storage, "small") == [b"12345"]


async def test_entries_expire_at_the_maximum_age_whatever_their_headers_say() -> None:
    clock = Clock()
    storage = MemoryStorage(max_entries=10, max_bytes=1000, max_age_s=30, clock=clock)
    await _store(storage, "a", b"A")
    clock.now += 29
    assert await _read(storage, "a") == [b"A"]
    clock.now += 2
    assert await _read(storage, "a") == []
    assert storage.size == (0, 0)


async def test_removed_and_updated_entries() -> None:
    storage = MemoryStorage(max_entries=10, max_bytes=1000, max_age_s=60)
    await _store(storage, "a", b"A")
    [entry] = await storage.get_entries("a")
    await storage.update_headers(entry.id, Headers({"etag": '"v2"'}))
    [updated] = await storage.get_entries("a")
    assert updated.response.headers["etag"] == '"v2"'
    await storage.remove_entry(entry.id)
    await storage.remove_entry(entry.id)  # gone already: nothing happens
    assert await storage.get_entries("a") == []

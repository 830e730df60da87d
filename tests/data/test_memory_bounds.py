"""One read cannot take unbounded memory or hold the event loop (see data/readbounds.py).

Statements that make huge values, huge rows or many large rows answer TOO_LARGE (or a page cut
at the byte cap) without the large thing ever being built in this process: the Python heap's
peak during the call (tracemalloc) stays far below what the statement asks for. The page is
built off the event loop, so health probes keep answering while a large page is converted.
"""

from __future__ import annotations

import threading
import tracemalloc
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import anyio
import anyio.to_thread
import httpx2
import pytest
from fastmcp import Client

from mcp_workbench.asgi import server_app
from mcp_workbench.data import paging, render
from mcp_workbench.server import build_server
from mcp_workbench.settings import Settings
from tests.support.session import Session

# Each asks for 20 MB or more; the server must refuse or cut it with far less than that.
ASKED_BYTES = 20_000_000
PEAK_BOUND = 8_000_000  # the whole in-process call (client, server, driver), at max_result_bytes=1000

COUNT_TO = "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < {n}) "
HUGE = {  # name: (SQLite, PostgreSQL)
    "a huge blob in each of two rows": (
        "SELECT zeroblob(20000000) FROM (VALUES (1), (2))",
        "SELECT decode(repeat('00', 20000000), 'hex') FROM (VALUES (1), (2)) AS v",
    ),
    "a huge random blob": ("SELECT randomblob(20000000)", "SELECT lpad('', 20000000, 'x')"),
    "a huge string from a format": (
        "SELECT printf('%s%s', hex(zeroblob(5000000)), hex(zeroblob(5000000)))",
        "SELECT format('%s%s', repeat('x', 10000000), repeat('y', 10000000))",
    ),
    "a string blown up by replace": (
        "SELECT replace(hex(zeroblob(5000000)), '0', 'xy')",
        "SELECT replace(repeat('0', 10000000), '0', 'xy')",
    ),
    "an aggregate over many rows": (
        COUNT_TO.format(n=400_000) + "SELECT group_concat(hex(randomblob(30)), '') FROM c",
        "SELECT string_agg(md5(g::text), '') FROM generate_series(1, 400000) AS g",
    ),
    "a substring of a huge value": (
        "SELECT substr(hex(zeroblob(10000000)), 2)",
        "SELECT substr(repeat('ab', 10000000), 2)",
    ),
}

MANY_ROWS = (  # 2,000 rows of 20 KB each: 40 MB, of which one page of 100 KB can be answered
    COUNT_TO.format(n=2000) + "SELECT n, hex(zeroblob(10000)) FROM c",
    "SELECT g, repeat('ab', 10000) FROM generate_series(1, 2000) AS g",
)


def spelling(pair: tuple[str, str], engine: str) -> str:
    return pair[0] if engine == "sqlite" else pair[1]


@contextmanager
def python_heap_peak() -> Iterator[list[int]]:
    """The peak of Python's heap above its level at the start, over the block (in [0] after)."""
    tracemalloc.start()
    start, _ = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    found = [0]
    try:
        yield found
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        found[0] = peak - start


class TestHugeResultsAreRefusedBeforeTheyAreBuilt:
    @pytest.mark.parametrize("name", list(HUGE))
    async def test_a_statement_asking_for_a_huge_value_answers_too_large_within_the_bound(
        self, connect: Callable[[Settings], Any], data_settings: Callable[..., Settings], engine: str, name: str
    ) -> None:
        async with connect(data_settings(max_result_bytes=1000)) as session:
            await session.ok("data_read", operation="sql", sql="SELECT 1")  # engines opened outside the measure
            with python_heap_peak() as peak:
                error = await session.error("data_read", "TOO_LARGE", operation="sql", sql=spelling(HUGE[name], engine))
            assert peak[0] < PEAK_BOUND, f"{name}: the call's Python heap peaked at {peak[0]:,} bytes"
            assert error["recovery_steps"]
            assert (await session.ok("data_read", operation="sql", sql="SELECT 2"))["rows"] == [[2]]

    async def test_a_row_of_many_large_columns_answers_too_large(
        self, connect: Callable[[Settings], Any], data_settings: Callable[..., Settings], engine: str
    ) -> None:
        value = "hex(zeroblob(1900))" if engine == "sqlite" else "repeat('x', 3800)"
        sql = "SELECT " + ", ".join([value] * 300)  # each value under the bound, the row over it
        async with connect(data_settings(max_result_bytes=1000)) as session:
            error = await session.error("data_read", "TOO_LARGE", operation="sql", sql=sql)
            assert error["recovery_steps"]

    async def test_many_large_rows_are_cut_to_one_page_without_reading_them_all(
        self, connect: Callable[[Settings], Any], data_settings: Callable[..., Settings], engine: str
    ) -> None:
        async with connect(data_settings(max_result_bytes=100_000)) as session:
            await session.ok("data_read", operation="sql", sql="SELECT 1")
            with python_heap_peak() as peak:
                page = await session.ok("data_read", operation="sql", sql=spelling(MANY_ROWS, engine), limit=1000)
            assert page["truncated"] is True and 1 <= page["row_count"] <= 5
            assert [row[0] for row in page["rows"]] == list(range(1, page["row_count"] + 1))
            assert peak[0] < PEAK_BOUND, f"the call's Python heap peaked at {peak[0]:,} bytes"


async def test_sqlite_refuses_a_row_over_its_heap_bound_before_python_copies_it(
    connect: Callable[[Settings], Any], make_settings: Callable[..., Settings], tmp_path: Any
) -> None:
    """Twenty values of 3.9 MB each are under the value bound (4 MB at a 1 MB cap), but the row
    is over SQLite's heap bound: the engine refuses it while computing it."""
    url = f"sqlite:///{tmp_path / 'heap.db'}"
    settings = make_settings(data={"sources": {"workspace": {"url": url}}, "max_result_bytes": 1_000_000})
    async with connect(settings) as session:
        await session.ok("data_read", operation="sql", sql="SELECT 1")
        with python_heap_peak() as peak:
            await session.error(
                "data_read", "TOO_LARGE", operation="sql", sql="SELECT " + ", ".join(["randomblob(3900000)"] * 20)
            )
        assert peak[0] < PEAK_BOUND, f"the call's Python heap peaked at {peak[0]:,} bytes"
        assert (await session.ok("data_read", operation="sql", sql="SELECT 2"))["rows"] == [[2]]


class TestPagingStaysExactUnderThePageBudget:
    async def test_every_row_is_read_exactly_once_page_by_page(
        self, connect: Callable[[Settings], Any], data_settings: Callable[..., Settings]
    ) -> None:
        async with connect(data_settings(max_result_bytes=1000)) as session:
            columns = [{"name": "id", "type": "integer", "primary_key": True}, {"name": "t", "type": "text"}]
            await session.ok("data_write", operation="create_table", table="wide", columns=columns)
            rows = [{"id": i, "t": chr(ord("a") + i % 26) * 290} for i in range(40)]
            await session.ok("data_write", operation="insert", table="wide", rows=rows)
            seen: list[int] = []
            offset: int | None = 0
            while offset is not None:
                page = await session.ok("data_read", operation="select", table="wide", offset=offset, limit=1000)
                assert 1 <= page["row_count"] <= 3
                seen += [row[0] for row in page["rows"]]
                offset = page["next_offset"]
            assert seen == list(range(40))


class TestPagesAreBuiltOffTheEventLoop:
    @pytest.fixture
    def build_threads(self, monkeypatch: pytest.MonkeyPatch) -> list[threading.Thread]:
        """The threads the page (paging.paginate_rows) and its text table (render) were built in."""
        seen: list[threading.Thread] = []
        for module, name in ((paging, "paginate_rows"), (render, "page_text")):
            original = getattr(module, name)

            def recording(*args: Any, _original: Any = original, **kwargs: Any) -> Any:
                seen.append(threading.current_thread())
                return _original(*args, **kwargs)

            monkeypatch.setattr(module, name, recording)
        return seen

    @pytest.mark.parametrize("operation", ["select", "sql"])
    async def test_a_large_page_is_converted_and_rendered_outside_the_event_loop_thread(
        self, db: Session, build_threads: list[threading.Thread], operation: str
    ) -> None:
        columns = [{"name": "id", "type": "integer", "primary_key": True}, {"name": "t", "type": "text"}]
        await db.ok("data_write", operation="create_table", table="pages", columns=columns)
        await db.ok(
            "data_write", operation="insert", table="pages", rows=[{"id": i, "t": "x" * 200} for i in range(500)]
        )
        arguments = {"table": "pages"} if operation == "select" else {"sql": "SELECT * FROM pages"}
        page = await db.ok("data_read", operation=operation, limit=500, **arguments)
        assert page["row_count"] == 500
        assert len(build_threads) == 2  # the page, then its text
        assert threading.main_thread() not in build_threads


async def test_livez_answers_while_a_large_page_is_being_built(
    monkeypatch: pytest.MonkeyPatch, data_settings: Callable[..., Settings], era: str
) -> None:
    """The page is held mid-build until /livez has answered; built on the event loop, /livez
    could not answer and the build would see no probe."""
    building = threading.Event()
    probed = threading.Event()
    saw_probe: list[bool] = []
    original = paging.paginate_rows

    def held(*args: Any, **kwargs: Any) -> Any:
        building.set()
        saw_probe.append(probed.wait(timeout=10))
        return original(*args, **kwargs)

    monkeypatch.setattr(paging, "paginate_rows", held)
    settings = data_settings()
    mcp = build_server(settings)
    app = server_app(mcp, settings, stateless=True)
    async with (
        Client(mcp, mode=era) as client,
        httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://127.0.0.1") as http,
    ):
        sql = COUNT_TO.format(n=500) + "SELECT n FROM c"
        results: list[Any] = []

        async def call(run: Callable[[], Awaitable[Any]]) -> None:
            results.append(await run())

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(call, lambda: client.call_tool_mcp("data_read", {"operation": "sql", "sql": sql}))
            with anyio.fail_after(20):
                await anyio.to_thread.run_sync(building.wait)
                response = await http.get("/livez")
            probed.set()
        assert response.status_code == 200
        assert saw_probe == [True]
        assert not results[0].is_error


class TestValuesUnderTheBoundAreReadWhole:
    @pytest.mark.parametrize("size", [3_000, 100_000, 900_000])
    async def test_a_long_value_among_short_ones_comes_back_intact(self, db: Session, size: int) -> None:
        """SQLite first tries a page with a small per-value bound and reads it again row by row
        when a value is longer: either way the values come back whole, in order."""
        columns = [{"name": "id", "type": "integer", "primary_key": True}, {"name": "t", "type": "text"}]
        await db.ok("data_write", operation="create_table", table="docs", columns=columns)
        rows = [{"id": i, "t": "short"} for i in range(5)] + [{"id": 5, "t": "é" * (size // 2)}]
        await db.ok("data_write", operation="insert", table="docs", rows=rows)
        page = await db.ok("data_read", operation="select", table="docs")
        assert [row[1] for row in page["rows"]] == [r["t"] for r in rows]
        page = await db.ok("data_read", operation="sql", sql="SELECT id, length(t) FROM docs ORDER BY t DESC, id")
        assert page["rows"][0] == [5, size // 2] and page["row_count"] == 6

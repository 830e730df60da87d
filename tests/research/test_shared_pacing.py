"""Several processes, one etiquette: the turns at each provider booked on a real Redis.

Each service here has its own fetcher and its own book, as a separate worker or replica has;
only Redis is shared. What counts is what the fake providers log on their own clocks. The
replica test at the end runs two ``serve --transport http`` processes whose ``[limits] storage``
names the Redis, which is all an operator sets."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from fastmcp import Client

from mcp_workbench.research.models import ResearchRequest
from mcp_workbench.research.pacing import MemoryPaceBook, PaceBook, RedisPaceBook
from tests.research.fakes import Failure, Provider, settings_for
from tests.support.config_file import write_config
from tests.support.redis import RedisServer
from tests.support.servers import HttpServer, create_key, free_port, running
from tests.support.session import Session

pytestmark = pytest.mark.anyio

PAPERS = "How do surface codes enable quantum error correction?"
NEWS = "How does ocean warming cause coral reef bleaching?"


def gaps(provider: Provider) -> list[float]:
    arrivals = sorted(seen.arrived for seen in provider.requests())
    return [later - earlier for earlier, later in itertools.pairwise(arrivals)]


async def run_together(services, request: ResearchRequest) -> list:
    results: list = [None] * len(services)

    async def one(i: int) -> None:
        results[i] = await services[i].run(request)

    async with anyio.create_task_group() as group:
        for i in range(len(services)):
            group.start_soon(one, i)
    return results


async def test_two_processes_sharing_redis_ask_arxiv_as_one_polite_client_would(
    providers, make_service, redis_server: RedisServer
) -> None:
    arxiv = providers["arxiv"]
    arxiv.latency_s = 0.2
    settings = settings_for(providers)
    services = [make_service(settings, book=RedisPaceBook(redis_server.url)) for _ in range(2)]
    results = await run_together(services, ResearchRequest(question=PAPERS, sources=["arxiv"], depth="quick"))
    assert [result.sources[0].status for result in results] == ["ok", "ok"]
    assert len(arxiv.requests()) == 2 and gaps(arxiv)[0] >= 3.0 and arxiv.most_in_flight == 1


async def test_without_a_shared_book_each_process_paces_only_itself(providers, make_service) -> None:
    """What the shared book prevents: two processes each keep arXiv's 3 s, and arXiv sees both at once."""
    providers["arxiv"].latency_s = 0.3
    settings = settings_for(providers)
    services = [make_service(settings, book=MemoryPaceBook()) for _ in range(2)]
    await run_together(services, ResearchRequest(question=PAPERS, sources=["arxiv"], depth="quick"))
    assert providers["arxiv"].most_in_flight == 2 and min(gaps(providers["arxiv"])) < 1.0


async def test_crossrefs_polite_pool_holds_for_three_processes_together(
    providers, make_service, redis_server: RedisServer
) -> None:
    crossref = providers["crossref"]
    crossref.latency_s = 0.4
    settings = settings_for(providers)
    services = [make_service(settings, book=RedisPaceBook(redis_server.url)) for _ in range(3)]
    await run_together(services, ResearchRequest(question=PAPERS, sources=["crossref"]))
    assert len(crossref.requests()) >= 6
    assert min(gaps(crossref)) >= 1 / 3 and crossref.most_in_flight <= 3


async def test_a_retry_after_seen_by_one_process_pauses_the_host_for_the_other(
    providers, make_service, redis_server: RedisServer
) -> None:
    hn = providers["hackernews"]
    hn.failure = Failure("429", retry_after="120")
    settings = settings_for(providers, fast=True)
    first, second = (make_service(settings, book=RedisPaceBook(redis_server.url)) for _ in range(2))
    told = await first.run(ResearchRequest(question=NEWS, sources=["hackernews"], depth="quick"))
    assert told.sources[0].status == "rate_limited"
    asked = len(hn.requests())
    hn.failure = None  # the provider would answer now, but it asked for 120 s
    other = await second.run(ResearchRequest(question=NEWS, sources=["hackernews"], depth="quick"))
    assert other.sources[0].status == "rate_limited" and "Retry-After" in (other.sources[0].error or "")
    assert len(hn.requests()) == asked


async def test_while_redis_is_away_each_process_still_paces_itself_and_answers(
    providers, make_service, caplog: pytest.LogCaptureFixture
) -> None:
    arxiv = providers["arxiv"]
    service = make_service(settings_for(providers), book=RedisPaceBook(f"redis://127.0.0.1:{free_port()}/0"))
    with caplog.at_level(logging.WARNING, logger="mcp_workbench.research"):
        for _ in range(2):
            result = await service.run(ResearchRequest(question=PAPERS, sources=["arxiv"], depth="quick"))
            assert result.sources[0].status == "ok" and result.sources[0].results > 0
    assert len(arxiv.requests()) == 2 and gaps(arxiv)[0] >= 3.0
    warnings = [r for r in caplog.records if "pacing store unreachable" in r.getMessage()]
    assert len(warnings) == 1  # said once, not once per request


async def test_a_place_left_by_a_process_that_died_is_free_when_its_lease_ends(redis_server: RedisServer) -> None:
    dead, alive = RedisPaceBook(redis_server.url, lease_grace_s=1.0), RedisPaceBook(redis_server.url)
    origin = "https://export.arxiv.org"
    try:
        held = dead.in_flight(origin, 1, max_wait_s=0.0)
        assert await held.__aenter__() is True  # and never left: the process died holding it
        async with alive.in_flight(origin, 1, max_wait_s=0.3) as placed:
            assert placed is False  # the lease (its deadline plus the grace) has not ended
        async with alive.in_flight(origin, 1, max_wait_s=3.0) as placed:
            assert placed is True
    finally:
        await dead.aclose()
        await alive.aclose()


async def test_the_books_agree_on_what_a_booking_and_a_pause_mean(redis_server: RedisServer) -> None:
    books: list[PaceBook] = [MemoryPaceBook(), RedisPaceBook(redis_server.url)]
    origin = "https://api.gdeltproject.org"
    try:
        for book in books:
            first = await book.reserve(origin, 5.0, max_wait_s=1.0)
            second = await book.reserve(origin, 5.0, max_wait_s=1.0)
            third = await book.reserve(origin, 5.0, max_wait_s=10.0)
            assert first.wait_s == pytest.approx(0, abs=0.05) and first.refused is None
            assert second.refused == "timeout" and second.wait_s == pytest.approx(5, abs=0.1)
            assert third.refused is None and third.wait_s == pytest.approx(5, abs=0.1)  # the refused one booked nothing
            await book.pause(origin, 60)
            await book.pause(origin, 1)  # a shorter pause never shortens one
            paused = await book.reserve(origin, 5.0, max_wait_s=30.0)
            assert paused.refused == "rate_limited" and paused.wait_s == pytest.approx(60, abs=0.2)
            origin += ":443"  # a fresh host for the next book
    finally:
        for book in books:
            await book.aclose()


@pytest.fixture
def replicas(tmp_path: Path, providers: dict[str, Provider], redis_server: RedisServer) -> Iterator[list[HttpServer]]:
    research = settings_for(providers).model_dump(mode="json", exclude_none=True)
    config = write_config(
        tmp_path / "workbench.toml",
        {
            "tools": ["research", "web"],
            "log_level": "WARNING",
            "web": {"allow_hosts": ["127.0.0.1"]},
            "limits": {"storage": redis_server.url},
            "research": research,
        },
    )
    servers = [HttpServer(["--config", str(config)], tmp_path / "data") for _ in range(2)]
    with running(servers):
        yield servers


async def test_two_replicas_sharing_the_limits_redis_share_the_turns_at_arxiv(
    replicas: list[HttpServer], providers: dict[str, Provider]
) -> None:
    providers["arxiv"].latency_s = 0.2
    key = create_key(replicas[0].data_dir, "research,web")
    answers: list[dict] = []

    async def ask(server: HttpServer) -> None:
        async with Client(server.url, auth=key) as client:
            answers.append(await Session(client).ok("research", question=PAPERS, sources=["arxiv"], depth="quick"))

    async with anyio.create_task_group() as group:
        for server in replicas:
            group.start_soon(ask, server)
    assert [a["sources"][0]["status"] for a in answers] == ["ok", "ok"]
    assert len(providers["arxiv"].requests()) == 2
    assert gaps(providers["arxiv"])[0] >= 3.0 and providers["arxiv"].most_in_flight == 1

"""The guard route across replicas: the rounds of one ``analyze`` call land on two HTTP server
processes in turn (a client alternating between them, as a load balancer might), which accept
each other's sealed state when they share ``[state] keys`` and refuse it when they do not. And
the handshake era over the same HTTP servers, whose plain-JSON replies still carry sampling
requests to the client (on the session's standing stream)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from fastmcp import Client
from fastmcp.client.transports import StreamableHttpTransport
from mcp.shared.exceptions import MCPError

from tests.analysis.example import CONTEXT, TASK
from tests.analysis.scripted import ScriptedModel
from tests.support.alternating import Alternating, alternating_client
from tests.support.servers import HttpServer, create_key, running

pytestmark = pytest.mark.anyio

SHARED = secrets.token_hex(32)
OTHER = secrets.token_hex(32)


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, HttpServer]]:
    data = tmp_path_factory.mktemp("replicas")  # one key store for all, as a shared secret would give
    env = {"WORKBENCH_TOOLS": "analysis", "WORKBENCH_LOG_LEVEL": "WARNING"}
    servers = {
        "a": HttpServer([], data, {**env, "WORKBENCH_STATE__KEYS": SHARED}),
        "b": HttpServer([], data, {**env, "WORKBENCH_STATE__KEYS": f"{SHARED},{OTHER}"}),  # rotating: same first key
        "c": HttpServer([], data, {**env, "WORKBENCH_STATE__KEYS": OTHER}),
    }
    with running(servers.values()):
        yield servers


def alternating(first: HttpServer, second: HttpServer, model: ScriptedModel) -> tuple[Client, Alternating]:
    key = create_key(first.data_dir, "analyze")
    return alternating_client(first.url, [first.port, second.port], key, sampling_handler=model.sampling_handler())


async def test_rounds_alternate_between_replicas_that_share_keys(replicas: dict[str, HttpServer]) -> None:
    model = ScriptedModel(marks=lambda k, c: 5 if k == 3 else 3)
    client, transport = alternating(replicas["a"], replicas["b"], model)
    async with client:
        result = await client.call_tool_mcp(
            "analyze", {"task": TASK, "context": CONTEXT, "max_iterations": 4, "quality_threshold": 0.9}
        )
    out = result.structured_content
    assert not result.is_error, result.content[0].text
    assert (out["route"], out["stop_reason"], out["iterations_used"]) == ("guard", "threshold", 3)
    continued = [port for port, with_state in transport.calls if with_state]
    assert len(continued) == 6  # 3 iterations of candidates and judgement
    assert set(continued) == {replicas["a"].port, replicas["b"].port}


async def test_a_replica_with_other_keys_refuses_the_state(replicas: dict[str, HttpServer]) -> None:
    model = ScriptedModel()
    client, transport = alternating(replicas["a"], replicas["c"], model)
    async with client:
        with pytest.raises(MCPError, match="Invalid or expired requestState"):
            await client.call_tool_mcp("analyze", {"task": TASK, "context": CONTEXT})
    (sealed_by, _), (refused_by, with_state) = transport.calls
    assert with_state and {sealed_by, refused_by} == {replicas["a"].port, replicas["c"].port}
    assert model.candidates == 2  # one round was answered; the next never ran
    refusing = next(s for s in (replicas["a"], replicas["c"]) if s.port == refused_by)
    assert "requestState rejected" in refusing.stderr_text()


async def test_the_handshake_era_over_http_reaches_the_clients_model(replicas: dict[str, HttpServer]) -> None:
    model = ScriptedModel(marks=lambda k, c: 5)
    server = replicas["a"]
    async with Client(
        server.url,
        mode="legacy",
        auth=create_key(server.data_dir, "analyze"),
        sampling_handler=model.sampling_handler(),
    ) as client:
        result = await client.call_tool_mcp("analyze", {"task": TASK, "context": CONTEXT})
    assert (result.structured_content["route"], result.structured_content["stop_reason"]) == ("session", "threshold")


async def test_the_workers_of_one_server_share_a_key_without_configuration(tmp_path_factory) -> None:
    """``serve --workers 2`` with no [state] keys: each round may reach either worker (a new
    connection per request, spread by the kernel), and every one accepts the state."""
    data = tmp_path_factory.mktemp("workers")
    server = HttpServer(["--workers", "2"], data, {"WORKBENCH_TOOLS": "analysis", "WORKBENCH_LOG_LEVEL": "WARNING"})
    server.start(timeout=120)  # two worker processes start on a busy machine
    try:
        model = ScriptedModel(marks=lambda k, c: 5 if k == 3 else 3)

        def factory(**options: Any) -> httpx2.AsyncClient:
            return httpx2.AsyncClient(limits=httpx2.Limits(max_keepalive_connections=0), **options)

        http = StreamableHttpTransport(server.url, auth=create_key(data, "analyze"), httpx_client_factory=factory)
        async with Client(http, sampling_handler=model.sampling_handler()) as client:
            result = await client.call_tool_mcp(
                "analyze", {"task": TASK, "context": CONTEXT, "max_iterations": 4, "quality_threshold": 0.9}
            )
    finally:
        server.stop()
    assert not result.is_error, result.content[0].text
    assert (result.structured_content["stop_reason"], result.structured_content["iterations_used"]) == ("threshold", 3)

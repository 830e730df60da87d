"""``research`` behind a load balancer: two HTTP server processes that share ``[state] keys``.

A continuation sealed by one replica resumes on the other; a replica with other keys refuses
it; and on the 2026-07-28 guard route the client's model answers the synthesis round on the
other replica, which finishes the call from the sealed result without gathering again."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastmcp import Client

from mcp_workbench.research.modelsteps import SYNTHESIS_SYSTEM
from mcp_workbench.research.synthesis import markers
from tests.research.fakes import Provider, settings_for
from tests.support.alternating import alternating_client
from tests.support.config_file import write_config
from tests.support.servers import HttpServer, create_key, running
from tests.support.session import Session

pytestmark = pytest.mark.anyio

QUESTION = "How do surface codes enable quantum error correction?"
SHARED = secrets.token_hex(32)
OTHER = secrets.token_hex(32)


@pytest.fixture
def replicas(tmp_path: Path, providers: dict[str, Provider]) -> Iterator[dict[str, HttpServer]]:
    research = settings_for(providers, fast=True).model_dump(mode="json", exclude_none=True)
    config = write_config(
        tmp_path / "workbench.toml",
        {
            "tools": ["research", "web"],
            "log_level": "WARNING",
            "web": {"allow_hosts": ["127.0.0.1"], "ignore_robots": True},
            "research": research,
        },
    )
    data = tmp_path / "data"  # one key store for all, as a shared secret would give
    args = ["--config", str(config)]
    servers = {
        "a": HttpServer(args, data, {"WORKBENCH_STATE__KEYS": SHARED}),
        "b": HttpServer(args, data, {"WORKBENCH_STATE__KEYS": f"{SHARED},{OTHER}"}),  # rotating: same first key
        "c": HttpServer(args, data, {"WORKBENCH_STATE__KEYS": OTHER}),
    }
    with running(servers.values()):
        yield servers


def _client(server: HttpServer, key: str) -> Client:
    return Client(server.url, auth=key)


async def test_a_continuation_sealed_by_one_replica_resumes_on_another(
    replicas: dict[str, HttpServer], providers: dict[str, Provider]
) -> None:
    key = create_key(replicas["a"].data_dir, "research,web")  # a continuation belongs to its caller
    providers["arxiv"].latency_s = 3.0
    async with _client(replicas["a"], key) as client:
        first = await Session(client).ok("research", question=QUESTION, sources=["arxiv"], time_budget_s=1.5)
    assert first["continuation"] and first["sources"][0]["status"] == "timeout"
    providers["arxiv"].latency_s = 0.0
    async with _client(replicas["b"], key) as client:
        second = await Session(client).ok("research", question=QUESTION, continuation=first["continuation"])
    assert second["sources"][0]["status"] == "ok" and second["evidence"]
    assert second["continuation"] is None
    async with _client(replicas["c"], key) as client:
        refused = await Session(client).error(
            "research", "VALIDATION_ERROR", question=QUESTION, continuation=first["continuation"]
        )
    assert refused["recovery_steps"]


async def test_the_synthesis_round_is_answered_on_the_other_replica(
    replicas: dict[str, HttpServer], providers: dict[str, Provider]
) -> None:
    asked: list[str | None] = []

    async def model(messages: list, params: Any, context: Any) -> str:
        asked.append(params.system_prompt)
        return "Surface codes protect logical qubits with repeated stabilizer measurements [1, 2]."

    first, second = replicas["a"], replicas["b"]
    key = create_key(first.data_dir, "research,web")
    client, transport = alternating_client(first.url, [first.port, second.port], key, sampling_handler=model)
    async with client:
        result = await client.call_tool_mcp("research", {"question": QUESTION, "sources": ["arxiv", "wikipedia"]})
    out = result.structured_content
    assert not result.is_error and out is not None, result.content
    assert out["synthesis_route"] == "guard" and asked == [SYNTHESIS_SYSTEM]
    assert set(markers(out["synthesis"])) <= {item["n"] for item in out["evidence"]}
    gathered_by, resumed_by = ((port, with_state) for port, with_state in transport.calls)
    assert not gathered_by[1] and resumed_by[1] and gathered_by[0] != resumed_by[0]
    assert len(providers["arxiv"].seen) == 1  # one sub-question asked once, by the first replica only

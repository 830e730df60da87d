"""The ``research`` tool through real MCP clients: the caller's own files and databases next to
the public sources (faked on loopback in their real wire formats), progress while it works,
scopes that bound what a key reaches, continuations, and a model's cited synthesis."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastmcp import Client

from mcp_workbench.asgi import server_app
from mcp_workbench.platform.keys import KeyStore
from mcp_workbench.research.modelsteps import SYNTHESIS_SYSTEM
from mcp_workbench.research.synthesis import markers
from mcp_workbench.server import build_server
from mcp_workbench.settings import Settings, load_settings
from tests.research.fakes import Provider, settings_for
from tests.support.servers import serving_in_thread
from tests.support.session import Session

pytestmark = pytest.mark.anyio

QUESTION = "How do surface codes enable quantum error correction?"
NOTE = "Our surface code experiment reached a logical error rate below threshold with a faster decoder.\n"


def _settings(base: Path, providers: dict[str, Provider], **overrides: Any) -> Settings:
    research = settings_for(providers, fast=True).model_dump(mode="json")
    (base / "notes").mkdir(exist_ok=True)
    (base / "notes" / "lab.md").write_text(NOTE, encoding="utf-8")
    (base / "data").mkdir(exist_ok=True)
    with sqlite3.connect(base / "data" / "workspace.db") as db:
        db.execute("CREATE TABLE IF NOT EXISTS runs (id INTEGER PRIMARY KEY, note TEXT)")
        db.execute("INSERT OR REPLACE INTO runs VALUES (1, 'decoder latency of the surface code run: 1.2 us')")
    return load_settings(
        None,
        data_dir=base / "data",
        files={"roots": {"notes": {"path": str(base / "notes")}}},
        web={"allow_hosts": ["127.0.0.1"], "ignore_robots": True},
        research=research,
        log_level="WARNING",
        **overrides,
    )


def _check_citations(out: dict[str, Any]) -> None:
    numbers = {item["n"] for item in out["evidence"]}
    assert set(markers(out["synthesis"])) <= numbers
    assert out["validation"]["citations_resolved"] is True


async def test_one_call_gathers_local_and_public_evidence_with_progress(
    tmp_path: Path, providers: dict[str, Provider], era: str
) -> None:
    seen: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total, message))

    async with Client(build_server(_settings(tmp_path, providers)), mode=era, progress_handler=on_progress) as client:
        result = await client.call_tool("research", {"question": QUESTION, "max_results": 15})
    out = result.structured_content
    assert out is not None and not result.is_error
    statuses = {source["name"]: source["status"] for source in out["sources"]}
    assert statuses["files"] == "ok" and statuses["data"] == "ok" and statuses["arxiv"] == "ok"
    uris = [item["uri"] for item in out["evidence"] if item["uri"]]
    assert "files://notes/lab.md" in uris and "data://workspace/tables/runs" in uris
    assert any(item["url"] for item in out["evidence"])
    _check_citations(out)
    assert out["synthesis_route"] == "extractive" and out["confidence"] in {"low", "medium", "high"}
    assert len(seen) >= 5 and seen[0][2] is not None and "planning" in seen[0][2]
    text = result.content[0].text
    assert "Sources" in text and "files://notes/lab.md" in text


async def test_a_sampling_client_writes_the_synthesis_and_every_marker_resolves(
    tmp_path: Path, providers: dict[str, Provider]
) -> None:
    asked: list[str | None] = []

    async def model(messages: list, params: Any, context: Any) -> str:
        asked.append(params.system_prompt)
        if params.system_prompt == SYNTHESIS_SYSTEM:
            return "Surface codes protect logical qubits by repeated stabilizer measurements [1]. Invented [99]."
        return "How do surface codes work?\nWhat is the error threshold of surface codes?"

    settings = _settings(tmp_path, providers)
    async with Client(build_server(settings), mode="legacy", sampling_handler=model) as client:
        out = await Session(client).ok("research", question=QUESTION, sources=["arxiv", "files"])
    assert out["synthesis_route"] == "session"
    assert "What is the error threshold of surface codes?" in out["plan"]
    assert "[99]" not in out["synthesis"] and "stabilizer" in out["synthesis"]
    _check_citations(out)
    assert SYNTHESIS_SYSTEM in asked


async def test_a_2026_client_model_writes_the_synthesis_in_one_more_round(
    tmp_path: Path, providers: dict[str, Provider]
) -> None:
    asked: list[tuple[str | None, int]] = []  # (system prompt, requests arXiv had seen by then)

    async def model(messages: list, params: Any, context: Any) -> str:
        asked.append((params.system_prompt, len(providers["arxiv"].seen)))
        return "Surface codes protect logical qubits by repeated stabilizer measurements [1]. Invented [99]."

    async with Client(build_server(_settings(tmp_path, providers)), mode="auto", sampling_handler=model) as client:
        out = await Session(client).ok("research", question=QUESTION, sources=["arxiv", "files"])
    assert out["synthesis_route"] == "guard"
    assert "[99]" not in out["synthesis"] and "stabilizer" in out["synthesis"]
    assert out["validation"]["removed_markers"] == 1 and out["validation"]["cited_sentences"] == 1
    _check_citations(out)
    (system, gathered_before), *more = asked
    assert system == SYNTHESIS_SYSTEM and not more  # the plan came from key terms: one round only
    assert gathered_before > 0 and len(providers["arxiv"].seen) == gathered_before  # nothing gathered again


async def test_a_2026_client_model_that_answers_nothing_leaves_the_extractive_synthesis(
    tmp_path: Path, providers: dict[str, Provider]
) -> None:
    async def model(messages: list, params: Any, context: Any) -> str:
        return "   "

    async with Client(build_server(_settings(tmp_path, providers)), mode="auto", sampling_handler=model) as client:
        out = await Session(client).ok("research", question=QUESTION, sources=["arxiv", "files"])
    assert out["synthesis_route"] == "extractive" and out["synthesis"].strip()
    _check_citations(out)


async def test_a_run_cut_by_its_budget_continues_from_its_token(tmp_path: Path, providers: dict[str, Provider]) -> None:
    providers["arxiv"].latency_s = 3.0
    async with Client(build_server(_settings(tmp_path, providers))) as client:
        session = Session(client)
        first = await session.ok("research", question=QUESTION, sources=["arxiv", "files"], time_budget_s=1.5)
        assert first["continuation"], first["sources"]
        assert {s["name"]: s["status"] for s in first["sources"]}["arxiv"] == "timeout"
        providers["arxiv"].latency_s = 0.0
        second = await session.ok("research", question=QUESTION, continuation=first["continuation"])
        other = await session.error("research", "VALIDATION_ERROR", question="Something else entirely?",
                                    continuation=first["continuation"])  # fmt: skip
    assert {s["name"]: s["status"] for s in second["sources"]}["arxiv"] == "ok"
    assert "continuation" in json.dumps(other["recovery_steps"]) or other["error"]


@pytest.fixture
def served(tmp_path: Path, providers: dict[str, Provider]) -> Iterator[tuple[str, KeyStore]]:
    settings = _settings(tmp_path, providers, transport="http")
    with serving_in_thread(server_app(build_server(settings), settings, stateless=False)) as port:
        yield f"http://127.0.0.1:{port}/mcp", KeyStore.in_dir(settings.data_dir)


@pytest.mark.parametrize(
    ("scopes", "reached", "absent"),
    [
        (["research"], set(), {"files", "data", "arxiv"}),
        (["research", "files:read"], {"files"}, {"data", "arxiv"}),
        (["research", "data:read"], {"data"}, {"files", "arxiv"}),
        (["research", "web"], {"arxiv", "wikipedia"}, {"files", "data"}),
    ],
)
async def test_the_keys_scopes_bound_the_sources(
    served: tuple[str, KeyStore], era: str, scopes: list[str], reached: set[str], absent: set[str]
) -> None:
    url, keys = served
    async with Client(url, mode=era, auth=keys.create("test", scopes)[1]) as client:
        out = await Session(client).ok("research", question=QUESTION)
        named = await Session(client).call("research", question=QUESTION, sources=sorted(absent))
    asked = {source["name"] for source in out["sources"]}
    assert reached <= asked and not (absent & asked)
    assert not ({item["source"] for item in out["evidence"]} & absent)
    assert named.is_error and named.code == "VALIDATION_ERROR"  # what it may not use reads as unknown

"""``analyze`` with the operator's model: an OpenAI-compatible chat-completions server on loopback,
for callers whose client cannot sample (or always, with ``prefer = "server"``)."""

from __future__ import annotations

import pytest

from tests.analysis.example import CONTEXT, TASK
from tests.analysis.scripted import JUDGE_SYSTEM, ScriptedModel
from tests.support.chat_server import ChatServer

pytestmark = pytest.mark.anyio


def model_settings(chat: ChatServer, **more) -> dict:
    return {"model": {"base_url": chat.base_url, "model": "qwen3:8b", **more}}


async def test_a_client_that_cannot_sample_gets_the_server_models_analysis(
    connect, analysis_settings, model: ScriptedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKBENCH_TEST_OPENAI_KEY", "sk-local")
    model.marks = lambda k, c: 5 if k == 2 else 3
    with ChatServer(model.answer).running() as chat:
        settings = analysis_settings(**model_settings(chat, api_key_env="WORKBENCH_TEST_OPENAI_KEY"))
        async with connect(settings) as session:
            out = await session.ok("analyze", task=TASK, context=CONTEXT)
    assert (out["route"], out["stop_reason"], out["iterations_used"], out["quality_score"]) == (
        "server_model", "threshold", 2, 1.0,
    )  # fmt: skip
    assert len(chat.seen) == 6  # 2 candidates and a judgement, twice
    assert {seen["body"]["model"] for seen in chat.seen} == {"qwen3:8b"}
    assert {seen["headers"]["authorization"] for seen in chat.seen} == {"Bearer sk-local"}
    judge = [s["body"] for s in chat.seen if s["body"]["messages"][0]["content"] == JUDGE_SYSTEM]
    assert len(judge) == 2 and {b["temperature"] for b in judge} == {0.0}
    assert {b["max_tokens"] for b in judge} == {1200}


async def test_prefer_server_leaves_the_clients_model_alone(era, sampling, analysis_settings, model) -> None:
    server_side = ScriptedModel(marks=lambda k, c: 5)
    with ChatServer(server_side.answer).running() as chat:
        async with sampling(analysis_settings(prefer="server", **model_settings(chat))) as session:
            out = await session.ok("analyze", task=TASK, context=CONTEXT)
    assert (out["route"], out["stop_reason"]) == ("server_model", "threshold")
    assert model.requests == [] and server_side.candidates == 2


async def test_a_failing_server_model_ends_with_declined_not_an_error(connect, analysis_settings, model) -> None:
    with ChatServer(model.answer, status=503).running() as chat:
        async with connect(analysis_settings(**model_settings(chat))) as session:
            out = await session.ok("analyze", task=TASK, context=CONTEXT)
    assert (out["route"], out["stop_reason"], out["result"], out["quality_score"]) == (
        "server_model", "declined", None, 0.0,
    )  # fmt: skip
    assert "the server model answered HTTP 503" in out["next_step"]


async def test_a_server_model_refusing_midway_returns_the_best_so_far(connect, analysis_settings, model) -> None:
    model.refuse_at = ("candidate", 2)
    with ChatServer(model.answer).running() as chat:
        async with connect(analysis_settings(**model_settings(chat))) as session:
            out = await session.ok("analyze", task=TASK, context=CONTEXT)
    assert (out["stop_reason"], out["iterations_used"], out["quality_score"]) == ("declined", 1, 0.5)
    assert out["result"].startswith("[draft k1c")


async def test_a_refusal_by_the_models_safety_layer_is_declined(connect, analysis_settings, model) -> None:
    with ChatServer(model.answer, refusal="I can't help with that.").running() as chat:
        async with connect(analysis_settings(**model_settings(chat))) as session:
            out = await session.ok("analyze", task=TASK, context=CONTEXT)
    assert out["stop_reason"] == "declined" and "the server model refused: I can't help with that." in out["next_step"]

"""The sampling bridge through real clients: routes from capabilities and settings, the guard
route's round cap and state bound, time budgets, refusals, and the server-model wire format."""

from __future__ import annotations

import threading
import warnings

import anyio
import mcp_types
import pytest
from fastmcp import Client
from mcp.client._input_required import InputRequiredRoundsExceededError
from mcp.shared.exceptions import MCPError

from mcp_workbench.platform.errors import InvalidInput
from mcp_workbench.platform.sampling import Budget, Completion, CompletionRequest, Message, Pending, Route
from mcp_workbench.platform.sampling.bridge import SamplingBridge
from mcp_workbench.platform.sampling.endpoint import ModelEndpointSettings
from mcp_workbench.platform.sampling.envelope import Envelope, sealed_size
from mcp_workbench.platform.sampling.guard import GuardRound
from mcp_workbench.platform.sampling.routes import choose_route
from mcp_workbench.platform.sampling.server_model import ServerModel
from tests.platform.sampling_support import Rounds, bridge_server
from tests.support.chat_server import ChatServer

pytestmark = pytest.mark.anyio

ROUTE_OF_ERA = {"legacy": "session", "auto": "guard"}


class Handler:
    """A client's sampling handler that answers ``round N request I -> answer N.I`` and counts rounds."""

    def __init__(self, refuse_round: int | None = None, hold: anyio.Event | None = None) -> None:
        self.seen: list[str] = []
        self.refuse_round = refuse_round
        self.hold = hold

    async def __call__(self, messages, params, context) -> str:
        text = messages[0].content.text
        self.seen.append(text)
        if self.hold is not None:
            await self.hold.wait()
        round_no = int(text.split()[1])
        if round_no == self.refuse_round:
            raise RuntimeError("the person declined")
        return f"answer {round_no}.{text.split()[-1]}"

    @property
    def rounds(self) -> int:
        return len({text.split()[1] for text in self.seen})


def chat_model(chat: ChatServer, **settings) -> ServerModel:
    return ServerModel(ModelEndpointSettings(base_url=chat.base_url, model="local-model", **settings))


def echo(system: str | None, prompt: str, temperature: float | None, max_tokens: int) -> str:
    return f"echo: {prompt}"


# --- route choice -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "case",
    [
        (True, True, False, False, "client", Route.GUARD),
        (False, True, True, False, "client", Route.SESSION),
        (False, True, False, False, "client", Route.NONE),  # stateless HTTP: no way back to the client
        (False, True, False, True, "client", Route.SERVER_MODEL),
        (True, False, False, True, "client", Route.SERVER_MODEL),
        (True, False, False, False, "client", Route.NONE),
        (True, True, False, True, "server", Route.SERVER_MODEL),
        (False, True, True, False, "server", Route.SESSION),  # prefer server, but none is configured
    ],
)
def test_the_route_follows_capabilities_and_settings(case: tuple) -> None:
    """(modern era, client samples, back channel, server model, prefer) -> route."""
    modern, samples, back, model, prefer, route = case
    assert (
        choose_route(modern=modern, client_samples=samples, back_channel=back, server_model=model, prefer=prefer)
        is route
    )


async def test_a_sampling_client_gets_its_eras_route_and_every_answer(era: str) -> None:
    handler = Handler()
    async with Client(bridge_server(SamplingBridge()), mode=era, sampling_handler=handler) as client:
        result = await client.call_tool("run", {"rounds": 3, "per_round": 2})
    assert result.structured_content["route"] == ROUTE_OF_ERA[era]
    assert result.structured_content["stop"] == "done"
    assert result.structured_content["answers"] == [[f"answer {n}.{i}" for i in range(2)] for n in (1, 2, 3)]


async def test_a_client_that_declares_no_sampling_is_never_asked(era: str) -> None:
    async with Client(bridge_server(SamplingBridge()), mode=era) as client:
        result = await client.call_tool("run", {})
    assert result.structured_content == {"route": "none"}


async def test_without_client_sampling_the_server_model_answers(era: str) -> None:
    with ChatServer(echo).running() as chat:
        async with Client(bridge_server(SamplingBridge(server_model=chat_model(chat))), mode=era) as client:
            result = await client.call_tool("run", {"rounds": 2})
        assert len(chat.seen) == 2
    assert result.structured_content["route"] == "server_model"
    assert result.structured_content["answers"] == [["echo: round 1 request 0"], ["echo: round 2 request 0"]]


async def test_prefer_server_uses_the_server_model_even_for_a_sampling_client(era: str) -> None:
    handler = Handler()
    with ChatServer(echo).running() as chat:
        bridge = SamplingBridge(prefer="server", server_model=chat_model(chat))
        async with Client(bridge_server(bridge), mode=era, sampling_handler=handler) as client:
            result = await client.call_tool("run", {"rounds": 1})
    assert result.structured_content["route"] == "server_model" and handler.seen == []


async def test_a_server_model_whose_key_is_missing_from_the_environment_is_not_offered(
    era: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WORKBENCH_TEST_MODEL_KEY", raising=False)
    with ChatServer(echo).running() as chat:
        bridge = SamplingBridge(server_model=chat_model(chat, api_key_env="WORKBENCH_TEST_MODEL_KEY"))
        async with Client(bridge_server(bridge), mode=era) as client:
            result = await client.call_tool("run", {})
        assert chat.seen == []
    assert result.structured_content == {"route": "none"}


# --- the guard route's bounds -------------------------------------------------------------------


async def test_the_guard_route_stops_at_nine_rounds_where_clients_allow_ten() -> None:
    handler = Handler()
    async with Client(
        bridge_server(SamplingBridge()), mode="auto", sampling_handler=handler, input_required_max_rounds=10
    ) as client:
        result = await client.call_tool("run", {"rounds": None})
    assert result.structured_content["stop"] == "budget"
    assert len(result.structured_content["answers"]) == 9 and handler.rounds == 9


async def test_a_tenth_round_would_fail_the_call_on_the_client() -> None:
    """The cap is what keeps the call alive: a bridge allowed one round more than the client fails."""
    async with Client(
        bridge_server(SamplingBridge(guard_rounds=11)),
        mode="auto",
        sampling_handler=Handler(),
        input_required_max_rounds=10,
    ) as client:
        with pytest.raises(InputRequiredRoundsExceededError):
            await client.call_tool("run", {"rounds": None})


async def test_state_that_would_outgrow_its_bound_is_not_handed_to_the_client() -> None:
    handler = Handler()
    async with Client(
        bridge_server(SamplingBridge(max_state_bytes=4096)), mode="auto", sampling_handler=handler
    ) as client:
        fits = await client.call_tool("run", {"rounds": 2, "pad": 1000})
        grows = await client.call_tool("run", {"rounds": 2, "pad": 4000})  # random text: no compression helps
    assert fits.structured_content["stop"] == "done"
    assert grows.structured_content["stop"] == "budget" and grows.structured_content["answers"] == []
    assert len(handler.seen) == 2  # only the call that fits asked anything


async def test_the_guard_time_budget_counts_from_the_first_round() -> None:
    handler = Handler()
    async with Client(bridge_server(SamplingBridge(), budget_s=0.0), mode="auto", sampling_handler=handler) as client:
        result = await client.call_tool("run", {"rounds": 3})
    assert result.structured_content["stop"] == "budget" and handler.seen == []


async def test_a_refusal_on_the_guard_route_fails_the_call_on_the_client_and_nothing_is_kept() -> None:
    """The person refusing never reaches the server: the client ends the call itself."""
    handler = Handler(refuse_round=2)
    async with Client(bridge_server(SamplingBridge()), mode="auto", sampling_handler=handler) as client:
        with pytest.raises(MCPError, match="declined"):
            await client.call_tool_mcp("run", {"rounds": 3})
        handler.refuse_round = None
        again = await client.call_tool("run", {"rounds": 1})
    assert again.structured_content["answers"] == [["answer 1.0"]]


async def test_answers_missing_from_a_round_resume_the_algorithm_as_failures() -> None:
    first = await GuardRound(None, None, max_state_bytes=1 << 20).run(Rounds(3, per_round=2), Budget(60))
    assert isinstance(first, Pending)
    key = next(iter(first.payload.input_requests))
    answer = mcp_types.CreateMessageResult(
        role="assistant", content=mcp_types.TextContent(type="text", text="one"), model="m"
    )
    later = GuardRound(first.payload.request_state, {key: answer}, max_state_bytes=1 << 20)
    outcome = await later.run(Rounds(3, per_round=2), Budget(60))
    assert outcome == {"stop": "declined", "answers": [["one", "failed: the client sent no answer to this request"]]}


def test_state_from_another_version_is_refused_with_a_way_forward() -> None:
    with pytest.raises(InvalidInput, match="another version"):
        Envelope.decode("v0.garbage")
    envelope = Envelope(3, 1700000000.0, ("r3q0",), {"text": "é" * 10})
    assert Envelope.decode(envelope.encode()) == envelope
    assert sealed_size(envelope.encode()) > len(envelope.encode())


# --- the session route --------------------------------------------------------------------------


async def test_a_refusal_on_the_session_route_reaches_the_algorithm_as_a_failed_answer() -> None:
    handler = Handler(refuse_round=2)
    async with Client(bridge_server(SamplingBridge()), mode="legacy", sampling_handler=handler) as client:
        result = await client.call_tool("run", {"rounds": 3})
    assert result.structured_content["stop"] == "declined"
    assert result.structured_content["answers"][0] == ["answer 1.0"]
    assert result.structured_content["answers"][1][0].startswith("failed: the client declined")


async def test_a_client_model_that_does_not_answer_in_time_is_a_failed_answer() -> None:
    handler = Handler(hold=anyio.Event())
    bridge = SamplingBridge(session_timeout_s=0.2)
    async with Client(bridge_server(bridge), mode="legacy", sampling_handler=handler) as client:
        result = await client.call_tool("run", {"rounds": 2})
    handler.hold.set()
    assert result.structured_content["answers"] == [["failed: the client's model did not answer within 0.2 s"]]


async def test_the_inline_time_budget_ends_a_round_that_outlasts_it() -> None:
    handler = Handler(hold=anyio.Event())
    async with Client(bridge_server(SamplingBridge(), budget_s=0.2), mode="legacy", sampling_handler=handler) as c:
        result = await c.call_tool("run", {"rounds": 2})
    handler.hold.set()
    assert result.structured_content == {"route": "session", "continuing": False, "stop": "budget", "answers": []}


async def test_the_session_route_keeps_the_sdks_deprecation_warning_to_itself() -> None:
    async with Client(bridge_server(SamplingBridge()), mode="legacy", sampling_handler=Handler()) as client:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            await client.call_tool("run", {"rounds": 1})
    assert not [w for w in caught if "sampling capability is deprecated" in str(w.message)]


# --- the server model's wire format -------------------------------------------------------------


async def test_the_server_model_speaks_chat_completions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_TEST_MODEL_KEY", "sk-test-123")
    with ChatServer(echo).running() as chat:
        model = chat_model(chat, api_key_env="WORKBENCH_TEST_MODEL_KEY")
        request = CompletionRequest(
            messages=(Message("user", "hello"), Message("assistant", "hi"), Message("user", "again")),
            max_tokens=64,
            system="be brief",
            temperature=0.0,
        )
        answer = await model.complete(request)
        await model.aclose()
        [seen] = chat.seen
    assert answer == Completion(text="echo: helloagain", model="local-model", stop_reason="stop")
    assert seen["path"] == "/v1/chat/completions"
    assert seen["headers"]["authorization"] == "Bearer sk-test-123"
    assert seen["body"] == {
        "model": "local-model",
        "messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "hello"},
            {"role": "assistant", "content": "hi"},
            {"role": "user", "content": "again"},
        ],
        "max_tokens": 64,
        "stream": False,
        "temperature": 0.0,
    }


@pytest.mark.parametrize(
    ("setup", "error"),
    [
        ({"status": 503}, "the server model answered HTTP 503: "),
        ({"refusal": "I cannot help with that"}, "the server model refused: I cannot help with that"),
    ],
)
async def test_server_model_failures_are_failed_answers(setup: dict, error: str) -> None:
    chat = ChatServer(echo, **setup)
    with chat.running():
        model = chat_model(chat)
        answer = await model.complete(CompletionRequest.single("hello", max_tokens=10))
        await model.aclose()
    assert not answer.ok and answer.error.startswith(error)


async def test_a_server_model_that_does_not_answer_in_time_is_a_failed_answer() -> None:
    chat = ChatServer(echo, hold=threading.Event())
    with chat.running():
        model = chat_model(chat, timeout_s=0.3)
        answer = await model.complete(CompletionRequest.single("hello", max_tokens=10))
        await model.aclose()
    assert answer == Completion.failed("the server model did not answer within 0.3 s")


async def test_an_unreachable_server_model_is_a_failed_answer() -> None:
    from tests.support.servers import free_port

    model = ServerModel(ModelEndpointSettings(base_url=f"http://127.0.0.1:{free_port()}/v1", model="m"))
    answer = await model.complete(CompletionRequest.single("hello", max_tokens=10))
    await model.aclose()
    assert answer.error == "the server model could not be reached (ConnectError)"

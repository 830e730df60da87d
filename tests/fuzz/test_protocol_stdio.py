"""Protocol-level fuzzing over stdio: a real ``python -m mcp_workbench serve`` fed raw lines.

Every case of :mod:`tests.fuzz.cases` goes to one long-lived server per protocol era, followed
by a request the server must answer (ping; tools/list on 2026-07-28). Where mcp 2.3 answers as
the specification says, the answer is asserted exactly; where it deviates (the case names the
deviation), only the weaker invariant is: whatever it answers is well-formed, with the right id,
and the server serves the next request. At the end stdout must have carried nothing but
JSON-RPC, and the server must exit 0 when stdin closes. A Hypothesis test adds random bytes and
random JSON values, 60 examples per era in CI (see :mod:`tests.fuzz.profiles` for nightly).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.cases import Case, cases_for
from tests.fuzz.profiles import fuzz_settings, timeout_marks
from tests.fuzz.wire import ERAS, StdioPeer, initialize_request, is_jsonrpc

pytestmark = timeout_marks()

CASES = cases_for("stdio")


@pytest.fixture(scope="module", params=ERAS)
def peer(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[StdioPeer]:
    """One server per era for every case of this module: a case that breaks it breaks the rest."""
    running = StdioPeer(request.param, tmp_path_factory.mktemp(f"stdio-{request.param}")).start()
    try:
        yield running
    finally:
        running.close()


def exchange(peer: StdioPeer, case: Case, deviation: str | None) -> list[dict[str, Any]]:
    """Send the case, then the sentinel; return the answers that carry an id the case allows.

    Where the specification asks for an answer and the library gives one, wait for it by id: a
    request is handled concurrently, so the sentinel's answer may overtake it.
    """
    peer.send(case.build(peer.with_meta))
    answers = []
    if deviation is None and case.expect.kind not in ("silent", "open"):
        answers.append(peer.wait_for_any(case.expect.ids))
    peer.sentinel()  # answered: the server still serves
    answers += [m for m in peer.received() if "method" not in m and "id" in m and m["id"] in case.expect.ids]
    return answers


def check_case(peer: StdioPeer, case: Case, deviation: str | None) -> None:
    answers = exchange(peer, case, deviation)
    for answer in answers:
        assert is_jsonrpc(answer), f"{case.name}: not a JSON-RPC message: {answer}"
    expect = case.expect
    if expect.kind == "silent":
        assert not answers, f"{case.name}: {case.why}; got {answers}"
        return
    if expect.kind == "open":
        return
    if deviation is not None:
        # documented deviation (see cases.py): no answer, or another well-formed one, is tolerated;
        # an error answer must still carry a code the specification allows
        for answer in answers:
            if "error" in answer and expect.kind == "error":
                assert answer["error"]["code"] in expect.codes, f"{case.name}: {case.why}; got {answer}"
        return
    assert answers, f"{case.name}: no answer; {case.why}"
    answer = answers[0]
    if expect.kind == "error":
        assert "error" in answer, f"{case.name}: {case.why}; got {str(answer)[:500]}"
        assert answer["error"]["code"] in expect.codes, f"{case.name}: {case.why}; got {answer}"
    elif expect.kind == "tool_error":
        result = answer.get("result", {})
        assert result.get("isError") is True, f"{case.name}: {case.why}; got {str(answer)[:500]}"
        payload = json.loads(result["content"][0]["text"])
        assert payload["error_code"] == "VALIDATION_ERROR", payload
    elif expect.kind == "result":
        assert "result" in answer, f"{case.name}: {case.why}; got {answer}"


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_malformed_and_misplaced_messages_get_the_answer_the_spec_asks_for(peer: StdioPeer, case: Case) -> None:
    check_case(peer, case, case.stdio_deviation)


@given(
    line=st.one_of(
        st.binary(max_size=300).map(lambda b: b.replace(b"\n", b" ").replace(b"\r", b" ")),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
            lambda children: (
                st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
            ),
            max_leaves=20,
        ).map(lambda value: json.dumps(value).encode()),
        st.fixed_dictionaries(
            {"jsonrpc": st.sampled_from(["2.0", "1.0", 2]), "method": st.text(max_size=20)},
            optional={"id": st.one_of(st.integers(), st.text(max_size=10), st.none()), "params": st.none()},
        ).map(lambda value: json.dumps(value).encode()),
    )
)
@fuzz_settings()
def test_random_lines_never_stop_the_server(peer: StdioPeer, line: bytes) -> None:
    peer.send(line)
    peer.sentinel()
    for message in peer.received():
        assert is_jsonrpc(message), f"after {line[:200]!r}: {message}"


def test_after_everything_stdout_held_only_json_rpc_and_closing_stdin_ends_the_server(peer: StdioPeer) -> None:
    peer.sentinel()
    code = peer.close()
    assert peer.non_protocol_lines() == [], "stdout carried something that is not JSON-RPC"
    assert code == 0, peer.stderr_text()[-3000:]


def test_a_call_before_initialize_is_refused_and_the_session_then_opens(tmp_path: Path) -> None:
    """MCP lifecycle: before initialize the client sends only pings; a server refusing anything
    else with a JSON-RPC error is right (mcp 2.3 uses -32602 with an empty message; the
    specification names no code). The handshake must still work afterwards."""
    peer = StdioPeer("legacy", tmp_path).start(handshake=False)
    try:
        early = peer.request(
            {"jsonrpc": "2.0", "id": "early", "method": "tools/call", "params": {"name": "data_read", "arguments": {}}}
        )
        assert "error" in early and isinstance(early["error"]["code"], int), early
        assert "result" in peer.request({"jsonrpc": "2.0", "id": "early-ping", "method": "ping"})  # pings are allowed
        assert "result" in peer.request(initialize_request("init"))
        peer.notify({"jsonrpc": "2.0", "method": "notifications/initialized"})
        listed = peer.request({"jsonrpc": "2.0", "id": "list", "method": "tools/list"})
        assert {tool["name"] for tool in listed["result"]["tools"]} >= {"data_read"}
    finally:
        code = peer.close()
    assert code == 0
    assert peer.non_protocol_lines() == []

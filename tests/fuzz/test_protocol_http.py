"""Protocol-level fuzzing over streamable HTTP: a real ``serve --transport http --no-auth`` on
127.0.0.1, fed raw request bodies and headers.

The same cases as over stdio (:mod:`tests.fuzz.cases`), plus what only HTTP has: bodies past the
4 MB cap (413 before the body is read), a wrong Content-Type or Accept, an unknown session, a
client that disconnects halfway through a body. Over HTTP the streamable-HTTP rules apply on top
of JSON-RPC's: a request gets a JSON-RPC answer; a notification or a response gets ``202
Accepted`` with no body. After each case the server must answer a ping (a tools/list on
2026-07-28); at the end it must stop on SIGTERM with exit code 0, having written nothing to
stdout.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.cases import Case, cases_for
from tests.fuzz.profiles import fuzz_settings, timeout_marks
from tests.fuzz.wire import ERAS, HttpPeer, Reply, is_jsonrpc

pytestmark = timeout_marks()

CASES = cases_for("http")
BODY_CAP = 4 * 1024 * 1024  # mcp 2.3's DEFAULT_MAX_REQUEST_BODY_SIZE
HEADER_MISMATCH = -32020
# 2026-07-28 over HTTP repeats the method in an Mcp-Method header, which cannot carry a NUL or a
# megabyte: there the server's "header does not match the body" error is the right answer too.
METHOD_NOT_IN_A_HEADER = {"method_with_a_nul", "megabyte_method_name"}


@pytest.fixture(scope="module", params=ERAS)
def peer(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpPeer]:
    running = HttpPeer(request.param, tmp_path_factory.mktemp(f"http-{request.param}")).start()
    try:
        yield running
    finally:
        running.stop()


def check_reply(case: Case, reply: Reply, deviation: str | None, era: str) -> None:
    messages = reply.messages()
    for message in messages:
        assert is_jsonrpc(message), f"{case.name}: not JSON-RPC: {message}"
    answers = [m for m in messages if "method" not in m and m.get("id") in case.expect.ids]
    expect = case.expect
    codes = expect.codes + ((HEADER_MISMATCH,) if era != "legacy" and case.name in METHOD_NOT_IN_A_HEADER else ())
    if expect.kind == "silent":
        accepted = reply.status == 202 and not reply.body.strip()
        # 2026-07-28 HTTP has no server-to-client requests, so a response POSTed to it is no
        # valid message there: an Invalid Request answer is right for that era
        refused = era != "legacy" and reply.status == 400 and [m["error"]["code"] for m in messages] == [-32600]
        assert accepted or refused, f"{case.name}: {case.why} (HTTP: 202, no body): {reply}"
        return
    if expect.kind == "open":
        assert reply.status < 500, reply
        return
    if deviation is not None:
        assert reply.status < 500, f"{case.name}: {reply}"
        for answer in answers:
            if "error" in answer and expect.kind == "error":
                # the documented deviation answers -32602 where -32600 is due
                assert answer["error"]["code"] in (*expect.codes, -32602), f"{case.name}: {answer}"
        return
    assert answers, f"{case.name}: no answer; {case.why}; got {reply.status} {reply.body[:300]!r}"
    answer = answers[0]
    if expect.kind == "error":
        assert "error" in answer and answer["error"]["code"] in codes, f"{case.name}: {case.why}; got {answer}"
        assert 400 <= reply.status < 500 or reply.status == 200, reply
    elif expect.kind == "result":
        assert "result" in answer, f"{case.name}: {case.why}; got {answer}"


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_malformed_and_misplaced_messages_get_the_answer_the_spec_asks_for(peer: HttpPeer, case: Case) -> None:
    reply = peer.post(case.build(peer.with_meta))
    check_reply(case, reply, case.http_deviation, peer.era)
    peer.sentinel()


def _raw_exchange(peer: HttpPeer, head: bytes, body: bytes = b"") -> tuple[int, bytes]:
    """Send bytes on a fresh connection, read the status line; the connection is closed after."""
    with socket.create_connection(("127.0.0.1", peer.port), timeout=20) as sock:  # the answer needs no body
        sock.sendall(head + body)
        received = b""
        while b"\r\n" not in received:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    status = int(received.split(b" ", 2)[1]) if received.startswith(b"HTTP/") else 0
    return status, received


def _head(peer: HttpPeer, length: int, extra: dict[str, str] | None = None) -> bytes:
    headers = {
        **peer.headers_for(b""),
        "Content-Length": str(length),
        "Host": f"127.0.0.1:{peer.port}",
        **(extra or {}),
    }
    lines = [b"POST /mcp HTTP/1.1", *(f"{k}: {v}".encode() for k, v in headers.items())]
    return b"\r\n".join(lines) + b"\r\n\r\n"


@pytest.mark.parametrize("size", [5 * 1024 * 1024, 20 * 1024 * 1024])
def test_a_body_past_the_cap_is_refused_with_413_before_it_is_read(peer: HttpPeer, size: int) -> None:
    status, _ = _raw_exchange(peer, _head(peer, size))  # announced, never sent: the server must not wait for it
    assert status == 413
    peer.sentinel()


def test_a_body_just_under_the_cap_reaches_the_tool_which_refuses_the_oversized_argument(peer: HttpPeer) -> None:
    message = peer.with_meta(
        {
            "jsonrpc": "2.0",
            "id": "big",
            "method": "tools/call",
            "params": {"name": "data_read", "arguments": {"operation": "sql", "sql": "x" * (BODY_CAP - 4096)}},
        }
    )
    reply = peer.post(json.dumps(message).encode())
    [answer] = reply.messages()
    assert answer["id"] == "big" and answer["result"]["isError"] is True
    assert json.loads(answer["result"]["content"][0]["text"])["error_code"] == "VALIDATION_ERROR"
    peer.sentinel()


def test_a_client_that_disconnects_halfway_through_a_body_leaves_the_server_serving(peer: HttpPeer) -> None:
    with socket.create_connection(("127.0.0.1", peer.port), timeout=60) as sock:
        sock.sendall(_head(peer, 100_000) + b'{"jsonrpc": "2.0", "id": "cut", "method": "tools/l')
    peer.sentinel()


@pytest.mark.parametrize(
    ("headers", "statuses"),
    [
        ({"Content-Type": "text/plain"}, (400, 415)),
        ({"Content-Type": "application/x-www-form-urlencoded"}, (400, 415)),
        ({"Accept": "text/html"}, (406,)),
        ({"Accept": ""}, (406,)),
    ],
    ids=["text-plain", "form", "accept-html", "accept-none"],
)
def test_wrong_content_type_or_accept_is_refused_with_a_4xx(
    peer: HttpPeer, headers: dict[str, str], statuses: tuple[int, ...]
) -> None:
    """Streamable HTTP: the body is application/json and the client accepts application/json and
    text/event-stream; anything else is refused (the specification names no status for a wrong
    Content-Type: 415 Unsupported Media Type or 400 are both reasonable; 406 for Accept)."""
    raw = json.dumps(peer.with_meta({"jsonrpc": "2.0", "id": "ct", "method": "tools/list"})).encode()
    reply = peer.post(raw, {**peer.headers_for(raw), **headers})
    assert reply.status in statuses, reply
    peer.sentinel()


def test_an_unknown_session_id_is_answered_with_404(peer: HttpPeer) -> None:
    """Streamable HTTP (2025-11-25): a request with a session id the server does not know MUST be
    answered with 404 Not Found (the client then starts a new session)."""
    raw = json.dumps({"jsonrpc": "2.0", "id": "sess", "method": "tools/list"}).encode()
    headers = {**peer.headers_for(raw), "Mcp-Session-Id": "not-a-session", "MCP-Protocol-Version": "2025-11-25"}
    assert peer.post(raw, headers).status == 404
    peer.sentinel()


@given(
    body=st.one_of(
        st.binary(max_size=400),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
            lambda children: (
                st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
            ),
            max_leaves=20,
        ).map(lambda value: json.dumps(value).encode()),
    )
)
@fuzz_settings()
def test_random_bodies_never_stop_the_server(peer: HttpPeer, body: bytes) -> None:
    reply = peer.post(body)
    assert reply.status < 500, reply
    for message in reply.messages():
        assert is_jsonrpc(message), message
    peer.sentinel()


def test_after_everything_sigterm_stops_the_server_with_exit_0_and_stdout_stayed_empty(peer: HttpPeer) -> None:
    peer.sentinel()
    code = peer.stop()
    assert code == 0, peer.stderr_text()[-3000:]
    assert peer.stdout_bytes() == b""

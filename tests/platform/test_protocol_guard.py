"""The pre-auth JSON check over real HTTP: any nesting depth or malformed body is a clean JSON-RPC error."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.servers import HttpServer, create_key, get, raw_request

MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}},
}
JSONRPC_ERRORS = {-32700, -32600, -32602}  # parse error, invalid request, invalid params
DEPTHS = [1, 150, 199, 201, 600, 990, 1000, 3000, 100_000]


def _call(arguments: str, extra: str = ', "inputResponses": null') -> bytes:
    return (
        '{"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "data_read", '
        f'"arguments": {arguments}{extra}}}}}'
    ).encode()


def _arrays(depth: int) -> str:
    return "[" * depth + "]" * depth


def _objects(depth: int) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


# Bodies the server must refuse at every depth: a continuation field that is null, or bytes
# that are not one JSON-RPC request.
REFUSED: dict[str, Callable[[int], bytes]] = {
    "inputResponses null, deep arrays": lambda d: _call(f'{{"operation": "sources", "x": {_arrays(d)}}}'),
    "inputResponses null, deep objects": lambda d: _call(f'{{"operation": "sources", "x": {_objects(d)}}}'),
    "requestState null, deep arrays": lambda d: _call(f'{{"x": {_arrays(d)}}}', extra=', "requestState": null'),
    "deep top-level array": lambda d: ("[" * d + '{"inputResponses": null}' + "]" * d).encode(),
    "unterminated": lambda d: _call(f'{{"x": {"[" * d}'),
    "invalid utf-8": lambda d: _call('{"x": "X"}').replace(b"X", b"\xff" * d),
}
# Bodies that are a valid call while shallow enough to read (the null is not a continuation field).
READABLE_WHEN_SHALLOW: dict[str, Callable[[int], bytes]] = {
    "null inside the deep part": lambda d: _call(
        '{"x": ' + '{"inputResponses": null, "a": ' * d + "1" + "}" * d + "}", extra=""
    ),
    "null before deep nesting": lambda d: _call(_arrays(d).join(['{"inputResponses": null, "x": ', "}"]), extra=""),
    "huge integer": lambda d: _call(f'{{"x": {"9" * (d + 5000)}}}', extra=""),
}
UNREADABLE_DEPTH = 1000  # beyond what either era's JSON parser reads


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpServer]:
    data: Path = tmp_path_factory.mktemp("guard") / "data"
    running = HttpServer([], data).start()
    yield running
    code, out, err = running.stop()
    assert (code, out) == (0, "")
    assert "Traceback" not in err and "Exception in ASGI application" not in err, err[-3000:]


@pytest.fixture(scope="module")
def key(server: HttpServer) -> str:
    return create_key(server.data_dir, "*")


@pytest.fixture(scope="module", params=["2025-11-25", "2026-07-28"])
def era_headers(request: pytest.FixtureRequest, server: HttpServer, key: str) -> dict[str, str]:
    headers = {**MCP_HEADERS, "Authorization": f"Bearer {key}"}
    if request.param == "2026-07-28":
        return {**headers, "MCP-Protocol-Version": "2026-07-28"}
    status, answer_headers, _ = raw_request("POST", server.url, json.dumps(INIT).encode(), headers)
    assert status == 200
    return {**headers, "Mcp-Session-Id": answer_headers["mcp-session-id"], "MCP-Protocol-Version": "2025-11-25"}


def _error_code(body: bytes) -> int:
    answer = json.loads(body)
    assert answer["jsonrpc"] == "2.0" and answer.get("id") in (None, 7), answer
    return answer["error"]["code"]


class TestDeepOrMalformedBodies:
    @pytest.mark.parametrize("depth", DEPTHS)
    @pytest.mark.parametrize("shape", REFUSED)
    def test_a_null_continuation_or_malformed_body_is_a_jsonrpc_error(
        self, server: HttpServer, era_headers: dict[str, str], shape: str, depth: int
    ) -> None:
        status, _, body = raw_request("POST", server.url, REFUSED[shape](depth), era_headers)
        assert status == 400, (status, body[:300])
        assert _error_code(body) in JSONRPC_ERRORS

    @pytest.mark.parametrize("depth", DEPTHS)
    @pytest.mark.parametrize("shape", READABLE_WHEN_SHALLOW)
    def test_a_deep_body_is_a_parse_error_and_a_shallow_one_is_answered(
        self, server: HttpServer, era_headers: dict[str, str], shape: str, depth: int
    ) -> None:
        status, _, body = raw_request("POST", server.url, READABLE_WHEN_SHALLOW[shape](depth), era_headers)
        assert status in (200, 400), (status, body[:300])
        if status == 400:
            assert _error_code(body) in JSONRPC_ERRORS
        else:
            assert depth < UNREADABLE_DEPTH and "result" in json.loads(body)

    def test_the_server_still_answers_afterwards(self, server: HttpServer) -> None:
        assert get(f"{server.base}/livez")[0] == 200

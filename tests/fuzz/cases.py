"""Malformed and out-of-place JSON-RPC messages, each with what the specifications say the
server must answer (JSON-RPC 2.0 §4–5.1, MCP 2025-11-25 "Base protocol" and "Tools").

``deviation`` records, for a transport, what FastMCP 4.1.6 / mcp 2.3 do instead where that is
not what the specification says. A case with a deviation is checked for the weaker invariant
only — any answer it gets must be well-formed JSON-RPC with the right id, and the server keeps
serving — and is listed in the report, not silently encoded as correct.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602

HUGE = 10 * 1024 * 1024  # a 10 MB line

Meta = Callable[[dict[str, Any]], dict[str, Any]]  # adds the era's _meta to a request


@dataclass(frozen=True)
class Expect:
    """``error``: a JSON-RPC error with one of ``codes``; ``result``: a result; ``tool_error``: a
    tool result with isError; ``answer``: some answer (the specification leaves which one open);
    ``silent``: no answer at all; ``open``: the specifications require nothing either way.
    ``ids``: the ids the answer may carry (None = null)."""

    kind: str
    codes: tuple[int, ...] = ()
    ids: tuple[Any, ...] = (None,)


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[Meta], bytes]
    expect: Expect
    why: str  # what the specification says
    stdio_deviation: str | None = None
    http_deviation: str | None = None
    transports: tuple[str, ...] = ("stdio", "http")  # HTTP caps bodies at 4 MB: tested on their own there


def _j(message: Any) -> bytes:
    return json.dumps(message).encode()


def _req(method: str, request_id: Any, params: Any = None, **extra: Any) -> dict[str, Any]:
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method, **extra}
    if params is not None:
        message["params"] = params
    return message


def _nested(depth: int) -> bytes:
    return b'{"jsonrpc":"2.0","id":"deep","method":"tools/list","params":{"x":' + b"[" * depth + b"]" * depth + b"}}"


_DROPPED = "mcp 2.3's stdio transport drops a line it cannot validate without any answer"
_NOT_32600 = "answers HTTP 400 with -32602 'Validation error: ...' (pydantic's text), not -32600 Invalid Request"
_UNKNOWN_TOOL = (
    "answers a tool result with isError: true holding the NOT_FOUND error object (with did_you_mean), "
    "the same answer as for a tool hidden from the caller's scopes"
)

CASES: list[Case] = [
    Case(
        "truncated_json",
        lambda meta: b'{"jsonrpc": "2.0", "id": "trunc", "method": ',
        Expect("error", (PARSE_ERROR,)),
        "JSON-RPC 2.0 §5.1: invalid JSON is answered with -32700 Parse error, id null",
        stdio_deviation=_DROPPED,
    ),
    Case(
        "not_json",
        lambda meta: b"hello, server",
        Expect("error", (PARSE_ERROR,)),
        "JSON-RPC 2.0 §5.1: -32700",
        stdio_deviation=_DROPPED,
    ),
    Case(
        "invalid_utf8",
        lambda meta: b"\xff\xfe\xfd{}",
        Expect("error", (PARSE_ERROR,)),
        "RFC 8259 §8.1: JSON text is UTF-8; bytes that are not are not JSON: -32700",
        stdio_deviation=_DROPPED,
    ),
    Case(
        "invalid_utf8_inside_a_string",
        lambda meta: _j(meta(_req("tools/list", "utf8", {"_meta": {"x": "PLACEHOLDER"}}))).replace(
            b"PLACEHOLDER", b"\xc3\x28\xff"
        ),
        Expect("error", (PARSE_ERROR,), ids=(None,)),
        "RFC 8259 §8.1: JSON text is UTF-8; a request carrying other bytes is not JSON: -32700",
        stdio_deviation="the stdio transport decodes with errors='replace' and serves the request (U+FFFD in place)",
    ),
    Case(
        "nul_after_the_object",
        lambda meta: _j(meta(_req("tools/list", "nul"))) + b"\x00",
        Expect("error", (PARSE_ERROR,)),
        "trailing bytes after the JSON value make the line invalid JSON: -32700",
        stdio_deviation=_DROPPED,
    ),
    Case(
        "blank_line",
        lambda meta: b"   \t ",
        Expect("open"),
        "MCP stdio frames messages by newline; a blank line is no message (the specifications do not say more)",
    ),
    Case(
        "scalar",
        lambda meta: b"42",
        Expect("error", (INVALID_REQUEST,)),
        "JSON-RPC 2.0 §5.1: valid JSON that is not a Request object: -32600 Invalid Request, id null",
        stdio_deviation=_DROPPED,
        http_deviation=_NOT_32600,
    ),
    Case(
        "null",
        lambda meta: b"null",
        Expect("error", (INVALID_REQUEST,)),
        "JSON-RPC 2.0 §5.1: -32600",
        stdio_deviation=_DROPPED,
        http_deviation=_NOT_32600,
    ),
    Case(
        "empty_array",
        lambda meta: b"[]",
        Expect("error", (INVALID_REQUEST,)),
        "JSON-RPC 2.0 §6: an empty array is answered with one -32600",
        stdio_deviation=_DROPPED,
        http_deviation=_NOT_32600,
    ),
    Case(
        "batch",
        lambda meta: _j([meta(_req("tools/list", "b1")), meta(_req("tools/list", "b2"))]),
        Expect("error", (INVALID_REQUEST,)),
        "MCP removed JSON-RPC batching in 2025-06-18; an array is not a valid message: -32600",
        stdio_deviation=_DROPPED,
        http_deviation=_NOT_32600,
    ),
    Case(
        "missing_jsonrpc",
        lambda meta: _j({k: v for k, v in meta(_req("tools/list", "nojr")).items() if k != "jsonrpc"}),
        Expect("error", (INVALID_REQUEST,), ids=("nojr", None)),
        "JSON-RPC 2.0 §4: 'jsonrpc' MUST be exactly \"2.0\": -32600",
        stdio_deviation=_DROPPED,
        http_deviation=_NOT_32600,
    ),
    Case(
        "wrong_jsonrpc_version",
        lambda meta: _j({**meta(_req("tools/list", "v1")), "jsonrpc": "1.0"}),
        Expect("error", (INVALID_REQUEST,), ids=("v1", None)),
        "JSON-RPC 2.0 §4: -32600",
        stdio_deviation=_DROPPED,
        http_deviation=_NOT_32600,
    ),
    Case(
        "missing_method",
        lambda meta: _j({"jsonrpc": "2.0", "id": "nomethod"}),
        Expect("error", (INVALID_REQUEST,), ids=("nomethod", None)),
        "JSON-RPC 2.0 §4: a Request has a method: -32600",
        stdio_deviation=_DROPPED,
        http_deviation=_NOT_32600,
    ),
    Case(
        "method_not_a_string",
        lambda meta: _j({**meta(_req("tools/list", "m5")), "method": 5}),
        Expect("error", (INVALID_REQUEST,), ids=("m5", None)),
        "JSON-RPC 2.0 §4: method is a String: -32600",
        stdio_deviation=_DROPPED,
        http_deviation=_NOT_32600,
    ),
    Case(
        "id_is_an_object",
        lambda meta: _j(meta(_req("tools/list", {"a": 1}))),
        Expect("error", (INVALID_REQUEST,)),
        "JSON-RPC 2.0 §4: an id is a String, Number or Null: -32600",
        stdio_deviation=_DROPPED,
        http_deviation="treated as a notification: HTTP 202 and no answer",
    ),
    Case(
        "id_is_null",
        lambda meta: _j(meta(_req("tools/list", None))),
        Expect("error", (INVALID_REQUEST,)),
        "MCP base protocol: a request id MUST NOT be null: -32600",
        stdio_deviation=_DROPPED,
        http_deviation="treated as a notification: HTTP 202 and no answer",
    ),
    Case(
        "id_is_a_boolean",
        lambda meta: _j(meta(_req("tools/list", True))),
        Expect("error", (INVALID_REQUEST,)),
        "JSON-RPC 2.0 §4: -32600",
        stdio_deviation=_DROPPED,
        http_deviation="treated as a notification: HTTP 202 and no answer",
    ),
    Case(
        "id_is_a_fraction",
        lambda meta: _j(meta(_req("tools/list", 1.5))),
        Expect("error", (INVALID_REQUEST,)),
        "MCP schema: RequestId is a string or an integer: -32600",
        stdio_deviation=_DROPPED,
        http_deviation="treated as a notification: HTTP 202 and no answer",
    ),
    Case(
        "params_is_a_string",
        lambda meta: _j({**meta(_req("tools/list", "pstr")), "params": "x"}),
        Expect("error", (INVALID_REQUEST, INVALID_PARAMS), ids=("pstr", None)),
        "JSON-RPC 2.0 §4.2: params MUST be an Array or an Object: -32600",
        stdio_deviation=_DROPPED,
    ),
    Case(
        "tools_call_params_is_an_array",
        lambda meta: _j({**meta(_req("tools/call", "parr")), "params": [1, 2]}),
        Expect("error", (INVALID_PARAMS, INVALID_REQUEST), ids=("parr", None)),
        "MCP tools/call params is an object: -32602 Invalid params",
        stdio_deviation=_DROPPED,
    ),
    Case(
        "tools_call_without_a_name",
        lambda meta: _j(meta(_req("tools/call", "noname", {"arguments": {}}))),
        Expect("error", (INVALID_PARAMS,), ids=("noname",)),
        "MCP tools/call needs params.name: -32602",
    ),
    Case(
        "tools_call_arguments_not_an_object",
        lambda meta: _j(meta(_req("tools/call", "argarr", {"name": "data_read", "arguments": [1]}))),
        Expect("error", (INVALID_PARAMS,), ids=("argarr",)),
        "MCP tools/call arguments is an object: -32602",
    ),
    Case(
        "unknown_method",
        lambda meta: _j(meta(_req("nope/nope", "unknown"))),
        Expect("error", (METHOD_NOT_FOUND,), ids=("unknown",)),
        "JSON-RPC 2.0 §5.1: -32601 Method not found",
    ),
    Case(
        "method_with_a_nul",
        lambda meta: _j(meta(_req("tools/list\u0000", "mnul"))),
        Expect("error", (METHOD_NOT_FOUND,), ids=("mnul",)),
        "JSON-RPC 2.0 §5.1: -32601",
    ),
    Case(
        "megabyte_method_name",
        lambda meta: _j(meta(_req("x" * 1_000_000, "mlong"))),
        Expect("error", (METHOD_NOT_FOUND,), ids=("mlong",)),
        "JSON-RPC 2.0 §5.1: -32601",
    ),
    Case(
        "unknown_tool",
        lambda meta: _j(meta(_req("tools/call", "notool", {"name": "no_such_tool", "arguments": {}}))),
        Expect("error", (INVALID_PARAMS,), ids=("notool",)),
        "MCP 2025-11-25 Tools, Error handling: an unknown tool is a protocol error (example: -32602 'Unknown tool')",
        stdio_deviation=_UNKNOWN_TOOL,
        http_deviation=_UNKNOWN_TOOL,
    ),
    Case(
        "a_notification_method_sent_as_a_request",
        lambda meta: _j(meta(_req("notifications/initialized", "notif-id"))),
        Expect("error", (METHOD_NOT_FOUND, INVALID_REQUEST), ids=("notif-id",)),
        "a request must be answered; the server serves no request method of that name: -32601",
    ),
    Case(
        "unknown_notification",
        lambda meta: _j({"jsonrpc": "2.0", "method": "notifications/nope", "params": {}}),
        Expect("silent"),
        "JSON-RPC 2.0 §4.1: a notification is never answered",
    ),
    Case(
        "response_sent_to_the_server",
        lambda meta: _j({"jsonrpc": "2.0", "id": "resp-1", "result": {}}),
        Expect("silent", ids=("resp-1", None)),
        "JSON-RPC 2.0 §5: a response is not answered (its id matches no request of the server's)",
    ),
    Case(
        "error_sent_to_the_server",
        lambda meta: _j({"jsonrpc": "2.0", "id": "resp-2", "error": {"code": -1, "message": "x"}}),
        Expect("silent", ids=("resp-2", None)),
        "JSON-RPC 2.0 §5: not answered",
    ),
    Case(
        "cancel_for_a_request_never_sent",
        lambda meta: _j({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": "never"}}),
        Expect("silent"),
        "MCP cancellation: a cancel for an unknown request is ignored",
    ),
    Case(
        "progress_for_an_unknown_token",
        lambda meta: _j({"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progressToken": "x"}}),
        Expect("silent"),
        "MCP progress: a notification; never answered",
    ),
    Case(
        "initialize_again",
        lambda meta: _j(
            _req(
                "initialize",
                "init-again",
                {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}},
            )
        ),
        Expect("answer", ids=("init-again",)),
        "JSON-RPC: every request is answered; MCP does not say whether a second initialize is an error",
    ),
    Case(
        "duplicate_keys",
        lambda meta: _j(meta(_req("tools/list", "dup-1")))[:-1] + b', "id": "dup-2"}',
        Expect("answer", ids=("dup-1", "dup-2", None)),
        "RFC 8259 §4: names SHOULD be unique; which one wins is up to the parser",
    ),
    Case(
        "ten_megabyte_tool_call",
        lambda meta: _j(
            meta(
                _req("tools/call", "huge", {"name": "data_read", "arguments": {"operation": "sql", "sql": "x" * HUGE}})
            )
        ),
        Expect("tool_error", ids=("huge",)),
        "a well-formed call: the tool refuses the oversized argument as a tool error (VALIDATION_ERROR)",
        transports=("stdio",),
    ),
    Case(
        "ten_megabytes_of_brackets",
        lambda meta: b"[" * HUGE,
        Expect("error", (PARSE_ERROR, INVALID_REQUEST)),
        "not a complete JSON value: -32700 (a parser that stops at its depth limit: -32600)",
        stdio_deviation=_DROPPED,
        transports=("stdio",),
    ),
    Case(
        "nesting_100k_deep",
        lambda meta: _nested(100_000),
        Expect("answer", ids=("deep", None)),
        "valid JSON, but no parser nests without limit; refusing it (-32700/-32600/-32602) or serving it are both fine",
        stdio_deviation=_DROPPED + " (pydantic-core stops at its nesting limit)",
    ),
    Case(
        "two_hundred_thousand_keys",
        lambda meta: _j(meta(_req("tools/list", "wide", {f"k{i}": i for i in range(200_000)}))),
        Expect("answer", ids=("wide",)),
        "valid JSON with unknown params: serving it or refusing it with -32602 are both fine",
    ),
]


def cases_for(transport: str) -> list[Case]:
    return [case for case in CASES if transport in case.transports]

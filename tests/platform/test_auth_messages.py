"""Over HTTP with API keys (or JWTs), a missing or wrong credential gets a 401 that says how to
send one and where to get one, in a JSON body; no OAuth advice, and no OAuth metadata that does
not exist."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.servers import HttpServer, create_key, raw_request, request

INIT = json.dumps(
    {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
    }
).encode()
HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpServer]:
    data_dir = tmp_path_factory.mktemp("auth-messages")
    running = HttpServer([], data_dir).start()
    yield running
    running.stop()


def _post(server: HttpServer, headers: dict[str, str]) -> tuple[int, dict[str, str], dict]:
    status, answer_headers, body = raw_request("POST", server.url, INIT, {**HEADERS, **headers})
    return status, answer_headers, json.loads(body) if body else {}


@pytest.mark.parametrize(
    ("headers", "error"),
    [
        ({}, "missing_api_key"),
        ({"Authorization": "Bearer wbk_nope_nope"}, "invalid_api_key"),
        ({"Authorization": "Bearer "}, "invalid_api_key"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "invalid_api_key"),
        ({"Authorization": "Bearer not-even-our-format"}, "invalid_api_key"),
    ],
)
def test_a_refused_api_key_is_told_how_to_send_and_get_one(server: HttpServer, headers: dict, error: str) -> None:
    status, answer_headers, body = _post(server, headers)
    assert status == 401 and answer_headers["content-type"] == "application/json"
    assert body["error"] == error
    advice = body["error_description"] + " ".join(body["recovery_steps"])
    assert "Authorization: Bearer" in advice and "mcp-workbench keys" in advice
    assert "re-register" not in advice and "clear authentication tokens" not in advice
    challenge = answer_headers["www-authenticate"]
    assert challenge.startswith("Bearer") and ("error=" in challenge) == (error == "invalid_api_key")
    assert "resource_metadata" not in challenge


def test_a_valid_key_still_gets_in(server: HttpServer) -> None:
    key = create_key(server.data_dir, "*")
    status, _, body = _post(server, {"Authorization": f"Bearer {key}"})
    assert status == 200 and body["result"]["serverInfo"]["name"] == "mcp-workbench"


@pytest.mark.parametrize(
    "path", ["/.well-known/oauth-protected-resource", "/.well-known/oauth-authorization-server", "/register"]
)
def test_no_oauth_metadata_is_advertised(server: HttpServer, path: str) -> None:
    status, _, _ = request("GET", server.base + path)
    assert status == 404


def test_a_refused_jwt_is_told_to_get_a_fresh_token(tmp_path: Path) -> None:
    from fastmcp.server.auth.providers.jwt import RSAKeyPair

    pair = RSAKeyPair.generate()
    config = tmp_path / "c.toml"
    config.write_text(
        f'[http]\nauth = "jwt"\n[http.jwt]\nissuer = "https://idp.test"\naudience = "workbench"\n'
        f'public_key = """{pair.public_key}"""\n',
        encoding="utf-8",
    )
    jwt_server = HttpServer(["--config", str(config)], tmp_path / "data").start()
    try:
        missing = _post(jwt_server, {})
        wrong = _post(jwt_server, {"Authorization": "Bearer a.b.c"})
    finally:
        jwt_server.stop()
    assert (missing[0], missing[2]["error"]) == (401, "missing_token")
    assert (wrong[0], wrong[2]["error"]) == (401, "invalid_token")
    assert "identity provider" in " ".join(wrong[2]["recovery_steps"])

"""JWT time claims over real HTTP: ``nbf`` is enforced (with leeway) and a token must expire."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastmcp import Client
from fastmcp.server.auth.providers.jwt import RSAKeyPair
from joserfc import jwk, jwt

from tests.support.servers import HttpServer, get, request

pytestmark = pytest.mark.anyio

ISSUER, AUDIENCE = "https://idp.test", "workbench"
LEEWAY_S = 10
FASTMCP_SKEW_S = 30  # FastMCP refuses an nbf further ahead than this before our check runs
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
ERA_HEADERS = {"legacy": {}, "auto": {"MCP-Protocol-Version": "2026-07-28"}}
INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}},
}


@pytest.fixture(scope="module")
def pair() -> RSAKeyPair:
    return RSAKeyPair.generate()


def sign(pair: RSAKeyPair, **claims: Any) -> str:
    """A token with exactly these claims besides iss, aud, sub and scope (no exp unless given)."""
    payload = {"iss": ISSUER, "aud": AUDIENCE, "sub": "ann", "scope": "data:read", **claims}
    key = jwk.import_key(pair.private_key.get_secret_value(), "RSA")
    return jwt.encode({"alg": "RS256"}, payload, key)


def jwt_server(tmp_path: Path, pair: RSAKeyPair, extra: str = "") -> HttpServer:
    config = tmp_path / "jwt.toml"
    config.write_text(
        f'[http]\nauth = "jwt"\nmetrics_token = "m"\n[http.jwt]\nissuer = "{ISSUER}"\naudience = "{AUDIENCE}"\n'
        f"leeway_s = {LEEWAY_S}\npublic_key = '''{pair.public_key}'''\n{extra}",
        encoding="utf-8",
    )
    return HttpServer(["--config", str(config)], tmp_path / "data").start()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, pair: RSAKeyPair) -> Iterator[HttpServer]:
    running = jwt_server(tmp_path_factory.mktemp("jwt"), pair)
    yield running
    assert running.stop()[:2] == (0, "")


@pytest.fixture(scope="module")
def lenient(tmp_path_factory: pytest.TempPathFactory, pair: RSAKeyPair) -> Iterator[HttpServer]:
    running = jwt_server(tmp_path_factory.mktemp("jwt-lenient"), pair, "require_exp = false\n")
    yield running
    assert running.stop()[:2] == (0, "")


def hour(offset: float) -> int:
    return int(time.time() + offset * 3600)


def seconds(offset: float) -> int:
    return int(time.time() + offset)


# Claims are made when a test runs, not when the module is collected: a suite that runs for
# minutes would otherwise turn "in a few minutes" into "already".
REFUSED: dict[str, Callable[[], dict[str, Any]]] = {
    "no exp": dict,
    "exp null": lambda: {"exp": None},
    "exp a string": lambda: {"exp": str(hour(1))},
    "exp a boolean": lambda: {"exp": True},
    "exp past": lambda: {"exp": hour(-1)},
    "nbf an hour ahead": lambda: {"exp": hour(2), "nbf": hour(1)},
    "nbf past the leeway": lambda: {"exp": hour(2), "nbf": seconds(FASTMCP_SKEW_S - 5)},  # refused by our check
    "nbf past FastMCP's skew": lambda: {"exp": hour(2), "nbf": seconds(3 * FASTMCP_SKEW_S)},
    "nbf a string": lambda: {"exp": hour(1), "nbf": "0"},
    "nbf a boolean": lambda: {"exp": hour(1), "nbf": False},
    "nbf a list": lambda: {"exp": hour(1), "nbf": [0]},
}
ACCEPTED: dict[str, Callable[[], dict[str, Any]]] = {
    "exp ahead": lambda: {"exp": hour(1)},
    "nbf past": lambda: {"exp": hour(1), "nbf": hour(-1)},
    "nbf within the leeway": lambda: {"exp": hour(1), "nbf": seconds(LEEWAY_S // 2)},
    "fractional times": lambda: {"exp": time.time() + 3600.5, "nbf": time.time() - 0.5},
}


class TestJwtTimeClaims:
    @pytest.mark.parametrize("case", REFUSED)
    @pytest.mark.parametrize("era", ERA_HEADERS)
    def test_a_token_not_valid_now_gets_401(self, server: HttpServer, pair: RSAKeyPair, case: str, era: str) -> None:
        token = sign(pair, **REFUSED[case]())
        headers = {**MCP_HEADERS, **ERA_HEADERS[era], "Authorization": f"Bearer {token}"}
        status, answer_headers, _ = request("POST", server.url, INIT, headers)
        assert status == 401 and answer_headers["www-authenticate"].startswith("Bearer")

    @pytest.mark.parametrize("case", ACCEPTED)
    async def test_a_token_valid_now_is_served(self, server: HttpServer, pair: RSAKeyPair, case: str, era: str) -> None:
        async with Client(server.url, mode=era, auth=sign(pair, **ACCEPTED[case]())) as client:
            assert [tool.name for tool in await client.list_tools()] == ["data_read"]

    def test_refusals_are_counted_as_invalid_jwt(self, server: HttpServer, pair: RSAKeyPair) -> None:
        def refused() -> float:
            text = get(f"{server.base}/metrics", {"Authorization": "Bearer m"})[2].decode()
            line = next(
                (x for x in text.splitlines() if x.startswith('workbench_auth_failures_total{reason="invalid_jwt"}')),
                "",
            )
            return float(line.split()[-1]) if line else 0.0

        for claims in ({"exp": hour(1), "iss": "https://other.test"}, {"exp": hour(2), "nbf": hour(1)}):
            before = refused()
            request("POST", server.url, INIT, {**MCP_HEADERS, "Authorization": f"Bearer {sign(pair, **claims)}"})
            assert refused() > before, claims


class TestExpOptional:
    async def test_without_require_exp_a_token_without_exp_is_served(
        self, lenient: HttpServer, pair: RSAKeyPair, era: str
    ) -> None:
        async with Client(lenient.url, mode=era, auth=sign(pair)) as client:
            assert [tool.name for tool in await client.list_tools()] == ["data_read"]

    @pytest.mark.parametrize("claims", [{"nbf": hour(1)}, {"exp": hour(-1)}, {"exp": "never"}])
    def test_without_require_exp_other_time_claims_still_apply(
        self, lenient: HttpServer, pair: RSAKeyPair, claims: dict[str, Any]
    ) -> None:
        headers = {**MCP_HEADERS, "Authorization": f"Bearer {sign(pair, **claims)}"}
        assert request("POST", lenient.url, INIT, headers)[0] == 401

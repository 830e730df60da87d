"""A source the database refuses looks different from one that is down: wrong credentials or
a missing database are not retryable and name the cause; a refused connection is retryable.
At start-up the server says which PostgreSQL sources answer, without refusing to start."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.servers import HttpServer, free_port

pytestmark = pytest.mark.anyio


def _with_url(url: str, make_settings: Callable[..., Any]) -> Any:
    return make_settings(data={"sources": {"pg": {"url": url}}})


@pytest.mark.parametrize(
    ("mangle", "cause"),
    [
        (lambda url: url.replace("postgres@", "nobody_here@"), 'role "nobody_here" does not exist'),
        (lambda url: url.rsplit("/", 1)[0] + "/no_such_db", 'database "no_such_db" does not exist'),
    ],
    ids=["unknown role", "missing database"],
)
async def test_a_refused_connection_is_not_retryable_and_names_the_cause(
    connect, make_settings, postgres_url: str, mangle: Callable[[str], str], cause: str
) -> None:
    async with connect(_with_url(mangle(postgres_url), make_settings)) as session:
        error = await session.error("data_read", "UPSTREAM_ERROR", operation="tables", source="pg")
    assert error["retryable"] is False and cause in error["error"]
    assert "pg" in error["error"] and not any("down" in step for step in error["recovery_steps"])


async def test_a_database_that_is_not_there_is_retryable(connect, make_settings) -> None:
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/workbench"
    async with connect(_with_url(url, make_settings)) as session:
        error = await session.error("data_read", "UPSTREAM_ERROR", operation="tables", source="pg")
    assert error["retryable"] is True


def test_start_up_logs_which_postgresql_sources_answer(tmp_path: Path, postgres_url: str) -> None:
    bad = postgres_url.replace("postgres@", "nobody_here@")
    config = tmp_path / "c.toml"
    config.write_text(
        f'[data.sources.good]\nurl = "{postgres_url}"\n[data.sources.bad]\nurl = "{bad}"\n', encoding="utf-8"
    )
    server = HttpServer(["--no-auth", "--config", str(config)], tmp_path / "data").start()
    try:
        server.wait_for_log("does not answer")
        server.wait_for_log('"source": "good"')
    finally:
        _, _, stderr = server.stop()
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    said = {(line.get("source"), line["level"]): line["msg"] for line in lines if line.get("source")}
    assert ("good", "info") in said
    assert 'role "nobody_here" does not exist' in said[("bad", "warning")]

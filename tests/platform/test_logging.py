"""Logs are JSON lines on stderr; nothing of ours goes to stdout."""

from __future__ import annotations

import json
import logging

import pytest

from mcp_workbench.platform.logging import JsonFormatter, configure_logging


def test_log_records_become_one_json_object_per_line_with_extras() -> None:
    record = logging.makeLogRecord({"name": "x", "levelno": logging.INFO, "levelname": "INFO", "msg": "tool call"})
    record.correlation_id = "abc"
    entry = json.loads(JsonFormatter().format(record))
    assert entry["msg"] == "tool call" and entry["level"] == "info" and entry["correlation_id"] == "abc"


def test_exceptions_are_logged_with_their_trace() -> None:
    try:
        raise ValueError("kaput")
    except ValueError:
        import sys

        record = logging.makeLogRecord({"msg": "failed", "levelname": "ERROR", "exc_info": sys.exc_info()})
    entry = json.loads(JsonFormatter().format(record))
    assert "ValueError: kaput" in entry["exc"]


def test_configured_logging_writes_to_stderr_only(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        configure_logging("INFO")
        logging.getLogger("mcp_workbench.test").info("hello", extra={"k": 1})
        logging.getLogger("fastmcp.test").warning("from fastmcp")
        captured = capsys.readouterr()
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    assert captured.out == ""
    lines = [json.loads(line) for line in captured.err.splitlines() if line.startswith("{")]
    assert {"hello", "from fastmcp"} <= {line["msg"] for line in lines}


def test_the_per_call_line_is_the_same_json_with_or_without_the_fast_path(capsys: pytest.CaptureFixture[str]) -> None:
    from mcp_workbench.platform.logging import info_line

    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    logger = logging.getLogger("mcp_workbench.calls")
    fields = {"tool": "data_read", "operation": None, "duration_ms": 1.5, "correlation_id": "c" * 32}
    try:
        configure_logging("INFO")
        info_line(logger, "tool call", fields)  # only our handler: written straight to it
        extra = logging.StreamHandler(__import__("sys").stderr)
        extra.setFormatter(root.handlers[-1].formatter)
        root.addHandler(extra)  # now a second handler would see it: through logging
        info_line(logger, "tool call", fields)
        root.removeHandler(extra)
        root.setLevel(logging.WARNING)
        info_line(logger, "tool call", fields)  # filtered out either way
        captured = capsys.readouterr()
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    assert captured.out == ""
    lines = [json.loads(line) for line in captured.err.splitlines()]
    assert len(lines) == 3  # one fast, two (ours and the extra handler) through logging
    for line in lines:
        assert {k: v for k, v in line.items() if k != "ts"} == {
            "level": "info",
            "logger": "mcp_workbench.calls",
            "msg": "tool call",
            **fields,
        }
        assert line["ts"].endswith("Z") and len(line["ts"]) == 24


def test_uvicorn_colour_codes_stay_out_of_json_lines() -> None:
    logger = logging.getLogger("uvicorn.error")
    record = logger.makeRecord(
        "uvicorn.error", logging.INFO, __file__, 0, "Started server process [%d]", (7,), None,
        extra={"color_message": "Started server process [\x1b[36m%d\x1b[0m]"},
    )  # fmt: skip
    line = JsonFormatter().format(record)
    assert "\\u001b" not in line and "\x1b" not in line and "color_message" not in line
    assert json.loads(line)["msg"] == "Started server process [7]"


def test_a_stdio_server_started_in_a_terminal_says_it_waits_for_a_client(tmp_path) -> None:
    import os
    import pty
    import select
    import subprocess
    import sys

    from tests.support.servers import clean_env

    controller, terminal = pty.openpty()
    server = subprocess.Popen(
        [sys.executable, "-m", "mcp_workbench", "serve", "--data-dir", str(tmp_path)],
        stdin=terminal,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=clean_env(tmp_path),
    )
    os.close(terminal)
    try:
        seen = b""
        assert server.stderr is not None
        while b"waiting for an MCP client" not in seen:
            ready, _, _ = select.select([server.stderr], [], [], 30)
            assert ready, f"no such line within 30 s: {seen!r}"
            chunk = os.read(server.stderr.fileno(), 65536)
            assert chunk, f"the server exited: {seen!r}"
            seen += chunk
    finally:
        server.kill()
        server.wait()
        os.close(controller)
    assert server.stdout is not None and server.stdout.read() == b""


@pytest.mark.anyio
async def test_a_missing_file_read_through_a_resource_logs_no_error_and_no_traceback(
    tmp_path, caplog: pytest.LogCaptureFixture
) -> None:
    from fastmcp import Client
    from mcp.shared.exceptions import MCPError

    from mcp_workbench.server import build_server
    from mcp_workbench.settings import load_settings

    (tmp_path / "root").mkdir()
    settings = load_settings(None, data_dir=tmp_path / "data", files={"roots": {"r": {"path": tmp_path / "root"}}})
    caplog.set_level(logging.DEBUG)
    async with Client(build_server(settings)) as client:
        with pytest.raises(MCPError, match="NOT_FOUND"):
            await client.read_resource("files://r/missing.txt")
        with pytest.raises(MCPError, match="NOT_FOUND"):
            await client.read_resource("data://workspace/tables/missing")
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert [r.getMessage() for r in caplog.records if r.exc_info and r.levelno > logging.DEBUG] == []
    lines = [r for r in caplog.records if r.getMessage() == "resource request"]
    assert [getattr(r, "error_code", None) for r in lines] == ["NOT_FOUND", "NOT_FOUND"]

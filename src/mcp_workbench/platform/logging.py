"""Structured logs: one JSON object per line on stderr.

stdout belongs to the stdio transport, so every handler here writes to stderr. FastMCP's
own logger (rich formatting by default) is rerouted through the same JSON handler so that a
log collector sees one format.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import traceback
from typing import Any

# Attributes every LogRecord has; anything else was passed via ``extra=`` and is emitted.
_STANDARD_ATTRS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
_HANDLER_NAME = "mcp-workbench-json"


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON line: ts, level, logger, msg, extras, and exc on errors.

    It runs once per tool call, so it does little: the timestamp's seconds part is cached,
    and nothing is looked up that the line does not show.
    """

    def __init__(self) -> None:
        super().__init__()
        self._second = -1
        self._stamp = ""

    def _timestamp(self, created: float) -> str:
        second = int(created)
        if second != self._second:
            self._second = second
            self._stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return f"{self._stamp}.{int((created - second) * 1000):03d}Z"

    def format(self, record: logging.LogRecord) -> str:
        fields = record.__dict__
        entry: dict[str, Any] = {
            "ts": self._timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in fields.items():
            if key not in _STANDARD_ATTRS and key[0] != "_":
                entry[key] = value
        if record.exc_info:
            entry["exc"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: str = "INFO") -> None:
    """Send the root logger and FastMCP's logger to stderr as JSON lines. Idempotent.

    Records skip the thread and process lookups the JSON line never shows (they cost time on
    every tool call's log line).
    """
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(JsonFormatter())

    root = logging.getLogger()
    for existing in list(root.handlers):
        if existing.get_name() == _HANDLER_NAME:
            root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)

    for name in ("fastmcp", "mcp", "uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        for existing in list(logger.handlers):
            logger.removeHandler(existing)
        logger.propagate = True
    # uvicorn's access log repeats what the tool-call log line says; keep it for debugging only.
    logging.getLogger("uvicorn.access").setLevel(max(logging.getLevelName(level), logging.WARNING))

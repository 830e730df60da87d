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

# Attributes every LogRecord has; anything else was passed via ``extra=`` and is emitted, except
# uvicorn's ``color_message`` (the same message with ANSI colour codes, for terminals).
_STANDARD_ATTRS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName", "color_message"}
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
        extras = {key: value for key, value in record.__dict__.items() if key not in _STANDARD_ATTRS and key[0] != "_"}
        if record.exc_info:
            extras["exc"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        return self.line(record.created, record.levelname, record.name, record.getMessage(), extras)

    def line(self, created: float, level: str, logger: str, msg: str, extras: dict[str, Any]) -> str:
        entry = {"ts": self._timestamp(created), "level": level.lower(), "logger": logger, "msg": msg, **extras}
        return json.dumps(entry, ensure_ascii=False, default=str)


def info_line(logger: logging.Logger, msg: str, fields: dict[str, Any]) -> None:
    """Log ``msg`` with ``fields`` at INFO, for lines written on every tool call.

    When our JSON handler on the root logger is the only place the record would go (no
    handler or filter on the way, the default record factory, as ``configure_logging``
    leaves things), the line is
    written straight to it: the same JSON, without building a LogRecord and walking the
    handler chain. Anything else (a test's log capture, an operator's extra handler) gets
    the record through ``logging`` as usual.
    """
    if not logger.isEnabledFor(logging.INFO):
        return
    handler = _sole_json_handler(logger)
    if handler is None:
        logger.handle(logger.makeRecord(logger.name, logging.INFO, __file__, 0, msg, (), None, None, fields))
        return
    formatter: JsonFormatter = handler.formatter  # type: ignore[assignment]  # the named handler is configure_logging's
    text = formatter.line(time.time(), "INFO", logger.name, msg, fields) + handler.terminator
    with handler.lock:  # type: ignore[union-attr]  # None only before Handler.__init__ ran createLock()
        handler.stream.write(text)
        handler.stream.flush()


def _sole_json_handler(logger: logging.Logger) -> logging.StreamHandler[Any] | None:
    if logging.getLogRecordFactory() is not logging.LogRecord:  # records get more fields (e.g. a worker's)
        return None
    found: logging.StreamHandler[Any] | None = None
    current: logging.Logger | None = logger
    while current is not None:
        if current.filters:
            return None
        for handler in current.handlers:
            if (
                found is not None
                or handler.get_name() != _HANDLER_NAME
                or handler.filters
                or handler.level > logging.INFO
                or not isinstance(handler, logging.StreamHandler)
            ):
                return None
            found = handler
        current = current.parent if current.propagate else None
    return found


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

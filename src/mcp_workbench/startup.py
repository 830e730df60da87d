"""What every way of serving does before it listens: ``serve`` on stdio or HTTP, each worker of
``serve --workers N``, and the ASGI factory for an uvicorn someone else runs."""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import TypeVar

from mcp_workbench.platform.logging import configure_logging
from mcp_workbench.settings import Settings

T = TypeVar("T")


def start(settings: Settings, build: Callable[[Settings], T]) -> T:
    """JSON logs on stderr at the configured level, then ``build(settings)`` (the server or its
    HTTP app), then the objects built so far frozen out of the garbage collector's generations:
    they live as long as the process, and keeping them out of full collections removes the long
    pauses from the call tail. (No ``gc.collect()`` first: it costs more start-up time than the
    little garbage imports leave behind.)"""
    configure_logging(settings.log_level)
    built = build(settings)
    gc.freeze()
    return built

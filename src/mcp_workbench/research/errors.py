"""Why one source produced nothing. Never raised past the pipeline: a source's problem becomes its
``status`` and ``error`` in the result, and the other sources carry on."""

from __future__ import annotations

from mcp_workbench.research.models import SourceStatus


class SourceProblem(Exception):
    """A source could not answer; ``status`` is what the result reports for it."""

    def __init__(self, status: SourceStatus, message: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.status: SourceStatus = status
        self.message = message
        self.retry_after_s = retry_after_s


def failed(message: str) -> SourceProblem:
    return SourceProblem("failed", message)

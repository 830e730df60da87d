"""Retry-After as every client of ours reads it: delta-seconds or an HTTP-date, capped."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mcp_workbench.platform.retry_after import parse_retry_after

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("7", 7.0),
        (" 120 ", 120.0),
        ("999999", 3600.0),  # capped
        ("Thu, 01 Jan 2026 12:00:30 GMT", 30.0),
        ("Thu, 01 Jan 2026 11:59:00 GMT", 0.0),  # a date past is no wait
        ("Fri, 02 Jan 2026 12:00:00 GMT", 3600.0),  # capped too
        ("Thu, 01 Jan 2026 12:00:30", 30.0),  # a date without a zone is read as UTC
    ],
)
def test_seconds_and_dates_are_read_and_capped(header: str, seconds: float) -> None:
    assert parse_retry_after(header, cap_s=3600.0, now=NOW) == seconds


@pytest.mark.parametrize("header", [None, "", "soon", "nan", "-5", "1.5", "inf", "Thu, 32 Foo 2026"])
def test_anything_else_is_no_answer(header: str | None) -> None:
    assert parse_retry_after(header, cap_s=3600.0, now=NOW) is None

"""The ``Retry-After`` header (RFC 9110 §10.2.3): how long a server asked us to wait.

One reading for every client of ours: the web fetcher reports it to the caller, the research
sources' pacing waits it out. Each caps it at what it is willing to honour.
"""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime


def parse_retry_after(value: str | None, *, cap_s: float, now: datetime | None = None) -> float | None:
    """Seconds to wait, from delta-seconds or an HTTP-date, between 0 and ``cap_s``; None when
    the header is absent or neither form."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return min(float(text), cap_s)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return float(max(0, min(round(seconds), cap_s)))

"""``[backup]``: scheduled backups while the server runs, and the defaults of ``mcp-workbench backup``.

Without ``interval`` the server takes no backups by itself (run ``mcp-workbench backup`` from
cron or a systemd timer instead); with it, the server takes one at start-up when the newest
archive is older than the interval, then one every interval, and keeps the newest ``keep``.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field, field_validator

from mcp_workbench.platform.config import Section

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$", re.IGNORECASE)
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86_400}
MIN_INTERVAL_S = 1.0
MAX_INTERVAL_S = 366 * 86_400.0


def parse_duration(value: str | float) -> float:
    """``"6h"``, ``"30m"``, ``"90s"``, ``"1d"`` or a number of seconds, as seconds."""
    if isinstance(value, bool):
        raise ValueError("a duration is a number of seconds or a string such as '6h'")
    if isinstance(value, int | float):
        return float(value)
    match = _DURATION.match(value)
    if match is None:
        raise ValueError(f"{value!r} is not a duration; write e.g. '6h', '30m', '90s', '1d' or a number of seconds")
    return float(match[1]) * _UNIT_S[(match[2] or "s").lower()]


class BackupSettings(Section):
    """``[backup]``: what a backup holds, where archives go, and how often the server takes one."""

    interval: float | None = Field(
        default=None,
        description="Take a backup this often while serving ('6h', '30m', '1d' or seconds); "
        "leave it out to take none (run `mcp-workbench backup` from cron instead).",
    )
    keep: int = Field(default=7, ge=1, le=10_000, description="Archives kept in the output directory; older go.")
    output: Path | None = Field(
        default=None, description="Directory of the archives (mode 0700); default: 'backups' in the data directory."
    )
    sources: list[str] = Field(
        default_factory=list, max_length=1000, description="Sources to back up; default: every source."
    )
    pg_bin_dir: Path | None = Field(
        default=None,
        description="Directory holding pg_dump and pg_restore; default: the newest /usr/lib/postgresql/*/bin, "
        "then PATH.",
    )
    config_file: Path | None = Field(
        default=None,
        description="The config file to put in scheduled backups; default: the file the server was started with "
        "($WORKBENCH_CONFIG or the user config directory).",
    )

    @field_validator("interval", mode="before")
    @classmethod
    def _duration(cls, value: object) -> float | None:
        if value is None:
            return None
        if not isinstance(value, str | int | float):
            raise ValueError("a duration is a number of seconds or a string such as '6h'")
        seconds = parse_duration(value)
        if not MIN_INTERVAL_S <= seconds <= MAX_INTERVAL_S:
            raise ValueError("must be between 1 second and 366 days; leave it out to turn scheduled backups off")
        return seconds

    def check_sources(self, configured: list[str]) -> None:
        """Refuse a ``sources`` entry that names no configured source (the root settings call it)."""
        for name in self.sources:
            if name not in configured:
                raise ValueError(
                    f"backup.sources names {name!r}, which is not a configured source; configured: "
                    + ", ".join(configured)
                )

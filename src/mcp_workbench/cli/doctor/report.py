"""One finding per check (or per subject of a check: a source, a root, a client), and how a
report is shown: text for people, JSON for scripts, an exit code for both."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, TextIO

Status = Literal["ok", "warn", "fail", "skip"]
STATUSES: tuple[Status, ...] = ("ok", "warn", "fail", "skip")
SYMBOLS: dict[Status, str] = {"ok": "✔", "warn": "!", "fail": "✘", "skip": "-"}
ASCII_SYMBOLS: dict[Status, str] = {"ok": "ok", "warn": "!", "fail": "X", "skip": "-"}

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


@dataclass(frozen=True)
class Finding:
    """What one check found. ``fix`` says what to do about a warning or a failure."""

    check: str
    status: Status
    summary: str
    fix: str | None = None
    subject: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def ok(check: str, summary: str, **kw: Any) -> Finding:
    return Finding(check, "ok", summary, **kw)


def warn(check: str, summary: str, fix: str, **kw: Any) -> Finding:
    return Finding(check, "warn", summary, fix, **kw)


def fail(check: str, summary: str, fix: str, **kw: Any) -> Finding:
    return Finding(check, "fail", summary, fix, **kw)


def skip(check: str, summary: str, **kw: Any) -> Finding:
    return Finding(check, "skip", summary, **kw)


def counts(findings: Iterable[Finding]) -> dict[str, int]:
    found = Counter(f.status for f in findings)
    return {status: found.get(status, 0) for status in STATUSES}


def exit_code(findings: Sequence[Finding]) -> int:
    """Non-zero when anything failed; warnings and skipped checks leave it 0."""
    return EXIT_FAILED if any(f.status == "fail" for f in findings) else EXIT_OK


def to_json(findings: Sequence[Finding], *, version: str, config: str | None) -> str:
    return json.dumps(
        {
            "version": version,
            "config": config,
            "ok": exit_code(findings) == EXIT_OK,
            "counts": counts(findings),
            "checks": [f.as_dict() for f in findings],
        },
        indent=1,
        default=str,
    )


def _symbols(stream: TextIO) -> dict[Status, str]:
    """✔ and ✘ where the terminal can show them (a Windows console on cp1252 cannot)."""
    try:
        "".join(SYMBOLS.values()).encode(stream.encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        return ASCII_SYMBOLS
    return SYMBOLS


def to_text(findings: Sequence[Finding], *, version: str, config: str | None, stream: TextIO) -> str:
    symbols = _symbols(stream)
    width = max((len(f.check) for f in findings), default=8) + 2
    lines = [f"mcp-workbench {version} doctor ({'config ' + config if config else 'no config file'})"]
    for f in findings:
        label = f"{f.subject}: " if f.subject else ""
        lines.append(f"{symbols[f.status]} {f.check:<{width}}{label}{f.summary}")
        if f.fix and f.status in ("warn", "fail"):
            lines.append(f"  {'':<{width}}fix: {f.fix}")
    total = counts(findings)
    lines.append(
        f"{total['ok']} ok, {total['warn']} warning(s), {total['fail']} failed"
        + (f", {total['skip']} skipped" if total["skip"] else "")
    )
    return "\n".join(lines) + "\n"

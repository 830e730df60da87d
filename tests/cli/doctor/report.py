"""A doctor run's report as the tests read it, and the config files they hand it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# A server start on a busy 2-core machine can take seconds; the check's own default is 30 s.
SLOW_MACHINE = ("--timeout", "120")


@dataclass
class Report:
    code: int
    out: str
    err: str

    def lines(self, check: str) -> list[str]:
        """The report's lines of one check (with their fix lines)."""
        found, inside = [], False
        for line in self.out.splitlines():
            if line[:1] in "✔!✘-" and line[2:].split(" ", 1)[0] == check:
                inside = True
                found.append(line)
            elif inside and line.startswith(" ") and "fix:" in line:
                found.append(line)
            else:
                inside = False
        return found

    def symbol(self, check: str) -> set[str]:
        return {line[0] for line in self.lines(check) if not line.startswith(" ")}

    def json(self) -> dict[str, Any]:
        return json.loads(self.out)


def write_config(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path

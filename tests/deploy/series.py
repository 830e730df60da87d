"""The series a real server exports, and the series a PromQL expression names."""

from __future__ import annotations

import re
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.support.servers import HttpServer, get

KEYWORDS = frozenset(
    {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left", "group_right",
     "inf", "nan", "atan2"}
)  # fmt: skip
_STRING = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'')
_CLAUSE = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_NAME = re.compile(r"(?<![\w$:.])([A-Za-z_:][A-Za-z0-9_:]*)(?![\w:]|\s*\()")
_LABEL_VALUES = re.compile(r"^\s*label_values\(\s*(.+?)\s*,\s*\w+\s*\)\s*$")


def series_in(expr: str) -> set[str]:
    """The metric names an expression selects (not functions, keywords, labels or numbers)."""
    if match := _LABEL_VALUES.match(expr):
        expr = match[1]
    text = _STRING.sub('""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = _CLAUSE.sub(" ", text)
    text = re.sub(r"\$\w+", " ", text)
    return {name for name in _NAME.findall(text) if name not in KEYWORDS and not re.fullmatch(r"\d+\w*", name)}


def exported_series(text: str) -> set[str]:
    """Every sample name a /metrics body can carry, from its families' types."""
    names: set[str] = set()
    for family in text_string_to_metric_families(text):
        if family.type == "counter":
            names.add(f"{family.name}_total")
        elif family.type == "histogram":
            names.update(f"{family.name}{suffix}" for suffix in ("_bucket", "_sum", "_count"))
        else:
            names.add(family.name)
    return names


def serving_everything(tmp_path: Path) -> HttpServer:
    """A server with every capability and scheduled backups, so /metrics shows every family."""
    root = tmp_path / "root"
    root.mkdir()
    config = tmp_path / "everything.toml"
    config.write_text('[backup]\ninterval = "1h"\n', encoding="utf-8")
    return HttpServer(["--no-auth", "--config", str(config), "--root", str(root)], tmp_path / "data")


def scrape(server: HttpServer) -> str:
    status, _, body = get(f"{server.base}/metrics")
    assert status == 200
    return body.decode()

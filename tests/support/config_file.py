"""Config files for server subprocesses, written from nested dicts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write_config(path: Path, data: dict[str, Any]) -> Path:
    """A TOML config file from nested dicts of strings, numbers and booleans."""
    lines: list[str] = []

    def emit(prefix: str, table: dict[str, Any]) -> None:
        scalars = {k: v for k, v in table.items() if not isinstance(v, dict)}
        if prefix and scalars:
            lines.append(f"[{prefix}]")
        for key, value in scalars.items():
            lines.append(f"{key} = {json.dumps(value)}")
        for key, value in table.items():
            if isinstance(value, dict):
                emit(f"{prefix}.{key}" if prefix else key, value)

    emit("", data)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path

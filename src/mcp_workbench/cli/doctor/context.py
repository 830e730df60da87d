"""What every check reads: the configuration as the server would load it (or why it does not
load), the CLI flags doctor was given (the same as ``serve``'s, so ``doctor`` can be run with an
entry's own arguments), the launcher of this installation, and a cache for results that several
checks share (the stdio handshake).

Loading never raises: a config file that does not parse or validate is recorded as a problem,
and the checks that need settings report that they cannot run.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcp_workbench.cli.install.entries import Launch, this_installation
from mcp_workbench.cli.install.paths import Host
from mcp_workbench.settings import (
    ENV_PREFIX,
    ConfigError,
    Settings,
    load_settings,
    read_config_file,
    resolve_config_path,
)

_TOML_WHERE = re.compile(r"\(at line (\d+), column (\d+)\)")


@dataclass(frozen=True)
class ConfigProblem:
    """Why the configuration cannot be used: ``kind`` is ``toml`` (the file does not parse),
    ``unreadable`` or ``invalid`` (a value is refused)."""

    kind: str
    message: str
    line: int | None = None
    column: int | None = None


@dataclass
class Context:
    config_path: Path | None
    config_data: dict[str, Any] | None
    problem: ConfigProblem | None
    settings: Settings | None
    cli_args: tuple[str, ...]  # the flags that reproduce this configuration on `serve`
    environ: Mapping[str, str]
    host: Host
    launcher: Launch
    timeout_s: float
    cache: dict[str, Any] = field(default_factory=dict)

    @property
    def http(self) -> bool:
        """An HTTP deployment: the configuration says so, or ``doctor --transport http``."""
        return self.settings is not None and self.settings.transport == "http"

    def workbench_env(self) -> dict[str, str]:
        """The WORKBENCH_* variables doctor runs under: a probe server gets them too."""
        return {k: v for k, v in self.environ.items() if k.upper().startswith(ENV_PREFIX)}

    def server_launch(self) -> Launch:
        """This installation's server on stdio, with doctor's own configuration."""
        args = (*self.launcher.args, "serve", "--transport", "stdio", *self.cli_args)
        return Launch(self.launcher.command, args, {**self.launcher.env, "PYTHONUTF8": "1", **self.workbench_env()})


def _problem(exc: ConfigError) -> ConfigProblem:
    text = str(exc)
    if "is not valid TOML" in text:
        where = _TOML_WHERE.search(text)
        line, column = (int(where[1]), int(where[2])) if where else (None, None)
        return ConfigProblem("toml", text, line, column)
    if text.startswith("config file") and ("cannot be read" in text or "does not exist" in text):
        return ConfigProblem("unreadable", text)
    return ConfigProblem("invalid", text)


def load(
    *,
    config: Path | None,
    overrides: dict[str, Any],
    cli_args: tuple[str, ...],
    timeout_s: float,
    environ: Mapping[str, str] | None = None,
    host: Host | None = None,
    launcher: Launch | None = None,
) -> Context:
    environ = os.environ if environ is None else environ
    path = resolve_config_path(config, environ)
    data: dict[str, Any] | None = None
    problem: ConfigProblem | None = None
    settings: Settings | None = None
    if path is not None:
        try:
            data = read_config_file(path)
        except ConfigError as exc:
            problem = _problem(exc)
    if problem is None:
        try:
            settings = load_settings(config, **overrides)
        except ConfigError as exc:
            problem = _problem(exc)
    return Context(
        config_path=path.expanduser().absolute() if path else None,
        config_data=data,
        problem=problem,
        settings=settings,
        cli_args=cli_args,
        environ=environ,
        host=host or Host.current(),
        launcher=launcher or this_installation(),
        timeout_s=timeout_s,
    )

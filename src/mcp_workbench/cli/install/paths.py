"""Where things live on each operating system, computed from a :class:`Host` that is passed in
(the system name, the home directory and the environment), so Linux, macOS and Windows layouts
can all be computed and tested on any machine."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePath, PurePosixPath, PureWindowsPath


@dataclass(frozen=True)
class Host:
    system: str  # "linux", "darwin" or "windows"
    home: PurePath
    environ: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def current(cls) -> Host:
        system = "windows" if os.name == "nt" else ("darwin" if sys.platform == "darwin" else "linux")
        return cls(system, Path.home(), dict(os.environ))

    @classmethod
    def emulated(cls, system: str, home: str, environ: Mapping[str, str] | None = None) -> Host:
        """Another system's layout (for tests and for showing where a file would go)."""
        kind = PureWindowsPath if system == "windows" else PurePosixPath
        return cls(system, kind(home), dict(environ or {}))

    def env_dir(self, name: str) -> PurePath | None:
        """A directory named by an environment variable, in this host's path flavour."""
        value = self.environ.get(name, "").strip()
        return type(self.home)(value) if value else None

    @property
    def appdata(self) -> PurePath:
        """%APPDATA% on Windows (Roaming)."""
        return self.env_dir("APPDATA") or self.home / "AppData" / "Roaming"

    @property
    def xdg_config(self) -> PurePath:
        return self.env_dir("XDG_CONFIG_HOME") or self.home / ".config"

    @property
    def app_support(self) -> PurePath:
        """macOS ~/Library/Application Support."""
        return self.home / "Library" / "Application Support"

    def user_config_dir(self) -> PurePath:
        """The usual per-user settings directory of desktop apps on this system."""
        if self.system == "windows":
            return self.appdata
        if self.system == "darwin":
            return self.app_support
        return self.xdg_config

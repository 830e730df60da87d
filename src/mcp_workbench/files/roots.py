"""The configured roots: picking one by name, and the rules that span roots.

Roots may nest (``proj`` = ``/p`` and a read-only ``docs`` = ``/p/docs``). A path is
read-only when it lies in *any* read-only root, whichever root it was reached through, and
no write may remove or replace a directory that holds a configured root.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mcp_workbench.files.handles import DIR_FD_SUPPORTED
from mcp_workbench.files.paths import is_within, parse_relative, printable, suggest_relative
from mcp_workbench.files.sandbox import Sandbox, Target
from mcp_workbench.files.settings import FilesSettings
from mcp_workbench.platform.errors import InvalidInput, NotFound, PermissionDenied, ReadOnly

ROOTS_STEP = "See the configured roots with files_read operation 'roots'."


class RootSet:
    """Every configured root, resolved once at start-up."""

    def __init__(self, settings: FilesSettings, *, use_dir_fd: bool = DIR_FD_SUPPORTED) -> None:
        self._roots = {
            name: Sandbox(name, root.path, read_only=root.read_only, use_dir_fd=use_dir_fd)
            for name, root in settings.roots.items()
        }

    def names(self) -> list[str]:
        return list(self._roots)

    def all(self) -> list[Sandbox]:
        return list(self._roots.values())

    def any_writable(self) -> bool:
        return any(not root.read_only for root in self._roots.values())

    def describe(self) -> list[dict[str, Any]]:
        return [{"name": r.name, "path": str(r.path), "read_only": self.read_only_at(r.path)} for r in self.all()]

    def get(self, name: str | None, *, field: str = "root") -> Sandbox:
        """The root called ``name``; when ``name`` is omitted, the only root there is."""
        if name is None:
            if len(self._roots) == 1:
                return next(iter(self._roots.values()))
            raise InvalidInput(
                f"several roots are configured; say which one with '{field}': {', '.join(self._roots)}",
                recovery_steps=[f"Call again with '{field}' set to one of: {', '.join(self._roots)}."],
                details={"field": field, "roots": self.names()},
            )
        found = self._roots.get(name)
        if found is None:
            matches = [r for n, r in self._roots.items() if n.casefold() == name.casefold()]
            found = matches[0] if len(matches) == 1 else None
        if found is None:
            raise NotFound(
                f"there is no root named {printable(name)!r}; roots: {', '.join(self._roots)}",
                recovery_steps=[f"Use one of these root names: {', '.join(self._roots)}.", ROOTS_STEP],
                details={"field": field, "roots": self.names()},
            )
        return found

    def locate(
        self, root: str | None, path: str, *, field: str = "path", follow: bool = True
    ) -> tuple[Sandbox, Target]:
        """Validate ``path``, pick its root and resolve it there."""
        sandbox = self.get(root, field="destination_root" if field == "destination" else "root")
        try:
            parts = parse_relative(path, field=field)
        except PermissionDenied as exc:
            self._add_absolute_hint(exc, path)
            raise
        return sandbox, sandbox.resolve(parts, follow=follow)

    def _add_absolute_hint(self, exc: PermissionDenied, path: str) -> None:
        if exc.details.get("reason") != "absolute":
            return
        hint = suggest_relative(path, {r.name: r.path for r in self.all()})
        if hint is not None:
            root, relative = hint
            exc.recovery_steps.insert(
                0, f"That path lies in root '{root}': call again with root='{root}', path='{relative}'."
            )

    # --- rules for writes ---------------------------------------------------------------------

    def read_only_at(self, real: Path) -> bool:
        """Whether ``real`` (an absolute resolved path) lies in a read-only root."""
        return any(root.read_only and is_within(root.path, real) for root in self._roots.values())

    def check_writable(self, sandbox: Sandbox, target: Target, *, removes: bool = False) -> None:
        """Refuse a write to ``target`` (READ_ONLY); with ``removes``, also refuse removing or
        replacing a directory that holds a root (PERMISSION_DENIED)."""
        real = sandbox.path.joinpath(*target.real)
        if sandbox.read_only or self.read_only_at(real):
            owner = sandbox.name if sandbox.read_only else self._read_only_owner(real)
            raise ReadOnly(
                f"'{target.shown}' is in root '{owner}', which is read-only",
                recovery_steps=[
                    "Files in read-only roots cannot be changed; write somewhere in a writable root instead.",
                    ROOTS_STEP,
                ],
                details={"path": target.shown, "root": owner},
            )
        if target.is_root:
            raise PermissionDenied(
                f"the root '{sandbox.name}' itself cannot be {'removed or moved' if removes else 'written'}",
                recovery_steps=["Name an entry inside the root instead."],
                details={"path": target.shown, "root": sandbox.name},
            )
        if removes:
            for other in self._roots.values():
                if is_within(real, other.path):
                    raise PermissionDenied(
                        f"'{target.shown}' holds the configured root '{other.name}'; it cannot be removed or moved",
                        recovery_steps=["Remove or move the entries inside it one by one instead."],
                        details={"path": target.shown, "root": other.name},
                    )

    def _read_only_owner(self, real: Path) -> str:
        return next(r.name for r in self._roots.values() if r.read_only and is_within(r.path, real))

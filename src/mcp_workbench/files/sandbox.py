"""Reaching entries of one root without ever leaving it.

Every operation goes through two steps:

1. **resolve** (:meth:`Sandbox.resolve`): ``os.path.realpath(root / path)`` follows the
   symbolic links the root holds, then the result must lie inside the root's own real path
   (:func:`~mcp_workbench.files.paths.is_within`). A link that leads outside, a dangling link
   whose target would be outside, or a symlinked parent directory pointing elsewhere is
   PERMISSION_DENIED; a link loop is VALIDATION_ERROR. Writes resolve only the *parent*
   directory: the final name is never followed, so a write never lands through a link.
2. **reach** (:meth:`Sandbox.open_dir`, :meth:`Sandbox.open_file`): starting from an open
   handle on the root, each *resolved* component is opened relative to its parent with
   ``O_NOFOLLOW | O_DIRECTORY`` (``openat``). If a directory on the way was swapped for a
   link after step 1, the walk fails (CONFLICT, "changed while in use") instead of following
   it. Files are ``lstat``-ed, opened with ``O_NOFOLLOW | O_NONBLOCK`` (a FIFO swapped in
   cannot block the call) and ``fstat``-ed to prove that the opened file is the regular file
   that was checked. Device files, FIFOs and sockets are never read or written.

The handles are :mod:`~mcp_workbench.files.handles`: POSIX descriptors, or where ``dir_fd``
functions are missing (Windows) a walk by path that narrows the race window but cannot close
it. OS errors become the error tree in :mod:`~mcp_workbench.files.oserrors`.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from mcp_workbench.files.handles import DIR_FD_SUPPORTED, O_BINARY, O_NONBLOCK, Dir, FdDir, PathDir, is_link, kind_of
from mcp_workbench.files.oserrors import changed, fs_error, is_a_directory, not_found, refuse_kind
from mcp_workbench.files.paths import RelPath, check_portable_name, display, relative_parts
from mcp_workbench.platform.errors import Conflict, InvalidInput, PermissionDenied, WorkbenchError


def _unresolvable(resolved: str) -> bool:
    """Whether ``realpath`` left a link in ``resolved`` (it does so for a link loop)."""
    try:
        return stat.S_ISLNK(os.lstat(resolved).st_mode)
    except OSError as exc:
        return exc.errno == errno.ELOOP  # missing entries are for the operation to judge


@dataclass(frozen=True)
class Target:
    """Where a caller's path leads: ``parts`` as given, ``real`` resolved below the root."""

    parts: RelPath
    real: RelPath

    @property
    def shown(self) -> str:
        return display(self.parts)

    @property
    def is_root(self) -> bool:
        return not self.real

    @property
    def parent(self) -> RelPath:
        return self.real[:-1]

    @property
    def name(self) -> str:
        return self.real[-1]


class Sandbox:
    """One configured root: resolves callers' paths and opens what they name, never outside."""

    def __init__(
        self,
        name: str,
        path: Path,
        *,
        read_only: bool,
        use_dir_fd: bool = DIR_FD_SUPPORTED,
        dir_class: type[Dir] | None = None,
    ) -> None:
        """``dir_class`` replaces the directory-handle implementation chosen by ``use_dir_fd``:
        every file-system call of an operation goes through it, so a test can change the tree
        between any two of them (the races a concurrent program causes, made deterministic)."""
        self.name = name
        self.path = Path(os.path.realpath(path))
        self.read_only = read_only
        self.dir_class: type[Dir] = dir_class or (FdDir if use_dir_fd else PathDir)

    def __repr__(self) -> str:
        return f"Sandbox({self.name!r}, {str(self.path)!r}, read_only={self.read_only})"

    # step 1 ------------------------------------------------------------------------------

    def resolve(self, parts: RelPath, *, follow: bool = True) -> Target:
        """Resolve ``parts`` inside the root. ``follow=False`` keeps the final name unresolved
        (used by writes, ``info`` and ``delete``: they act on a link itself, never through it)."""
        if not parts:
            return Target(parts, ())
        base = parts if follow else parts[:-1]
        resolved = self._realpath(base, parts) if base else str(self.path)
        inside = relative_parts(self.path, Path(resolved))
        if inside is None:
            raise PermissionDenied(
                f"'{display(parts)}' leads outside root '{self.name}' through a symbolic link",
                recovery_steps=[
                    "Only files inside the root are reachable; links that point outside it are not followed.",
                    f"List the directory with files_read operation 'list' to see where links in root '{self.name}' go.",
                ],
                details={"path": display(parts), "root": self.name, "reason": "symlink_escape"},
            )
        self._refuse_loop(resolved, parts, base)
        return Target(parts, inside if follow else (*inside, parts[-1]))

    def _realpath(self, base: RelPath, parts: RelPath) -> str:
        try:
            return os.path.realpath(os.path.join(self.path, *base))
        except OSError:  # a link seen by lstat was gone by readlink: the path is changing now
            raise changed(display(parts), self.name) from None

    def _refuse_loop(self, resolved: str, parts: RelPath, base: RelPath) -> None:
        """A resolved path that is still a link (or ``ELOOP``) is a loop, unless resolving
        again gives another answer: then a link was swapped in or out meanwhile."""
        if not _unresolvable(resolved):
            return
        if not base or self._realpath(base, parts) != resolved or not _unresolvable(resolved):
            raise changed(display(parts), self.name)
        raise InvalidInput(
            f"'{display(parts)}' goes through a symbolic link that cannot be resolved (a link loop)",
            recovery_steps=["Use a path that does not go through this link."],
            details={"path": display(parts), "reason": "symlink_loop"},
        )

    # step 2 ------------------------------------------------------------------------------

    def open_root(self) -> Dir:
        try:
            return self.dir_class.open_root(self.path)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
                raise Conflict(
                    f"the directory of root '{self.name}' was replaced since the server started; it is not followed",
                    recovery_steps=[
                        "Tell the user: the root's directory changed; restart the server after checking it."
                    ],
                    details={"root": self.name, "reason": "root_replaced"},
                ) from None
            raise fs_error(exc, ".", root=self.name) from None

    def open_dir(self, real: RelPath, *, shown: str | None = None, create: bool = False) -> tuple[Dir, list[str]]:
        """Walk down ``real`` without following any link; with ``create``, make missing
        directories (their names must be portable). Returns the handle and what was created."""
        current = self.open_root()
        created: list[str] = []
        done: RelPath = ()
        try:
            for name in real:
                done = (*done, name)
                try:
                    following = current.child(name)
                except FileNotFoundError:
                    if not create:
                        raise
                    check_portable_name(name)
                    try:
                        current.mkdir(name)
                        created.append(display(done))
                    except FileExistsError:
                        pass  # made meanwhile: used if it is a directory, judged below if not
                    try:
                        following = current.child(name)
                    except FileNotFoundError:
                        raise changed(shown or display(done), self.name) from None  # removed again
                current.close()
                current = following
        except OSError as exc:
            try:
                error = self._walk_error(current, exc, done, shown)
            finally:
                current.close()
            raise error from None
        except WorkbenchError:
            current.close()
            raise
        return current, created

    def _walk_error(self, current: Dir, exc: OSError, done: RelPath, shown: str | None) -> WorkbenchError:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
            try:
                info = current.lstat(done[-1])
            except OSError:
                info = None
            if info is None or is_link(info) or stat.S_ISDIR(info.st_mode):
                return changed(shown or display(done), self.name)  # it was a directory when resolved
            kind = kind_of(info.st_mode)
            return InvalidInput(
                f"'{display(done)}' is a {kind}, not a directory",
                recovery_steps=[
                    f"Use operation 'read' or 'info' on '{display(done)}', or 'list' on the directory holding it."
                ],
                details={"path": shown or display(done), "type": kind},
            )
        if exc.errno == errno.EEXIST or (exc.errno == errno.ENOENT and current.removed()):
            return changed(shown or display(done), self.name)  # made, or removed, meanwhile
        return fs_error(exc, display(done) if exc.errno == errno.ENOENT else (shown or display(done)), root=self.name)

    def open_parent(self, target: Target, *, create: bool = False) -> tuple[Dir, list[str]]:
        return self.open_dir(target.parent, shown=target.shown, create=create)

    def lstat(self, parent: Dir, name: str, shown: str) -> os.stat_result | None:
        """The entry's own status (a link is not followed); ``None`` if it does not exist."""
        try:
            return parent.lstat(name)
        except FileNotFoundError:
            if parent.removed():
                raise changed(shown, self.name) from None
            return None
        except OSError as exc:
            raise fs_error(exc, shown, root=self.name) from None

    def open_file(self, target: Target) -> tuple[int, os.stat_result]:
        """Open a regular file for reading, proving it is the file that was resolved."""
        if target.is_root:
            raise is_a_directory(target.shown)
        parent, _ = self.open_parent(target)
        with parent:
            before = self.lstat(parent, target.name, target.shown)
            if before is None:
                raise not_found(target.shown, self.name)
            if is_link(before):  # it was resolved to a non-link: it changed since
                raise changed(target.shown, self.name)
            refuse_kind(before, target.shown, reading=True)
            return self.open_checked(parent, target.name, before, target.shown)

    def open_checked(self, parent: Dir, name: str, before: os.stat_result, shown: str) -> tuple[int, os.stat_result]:
        """Open ``name``, which ``lstat`` showed to be the regular file ``before``, for reading;
        anything else found there by the time it is open means it changed."""
        try:
            fd = parent.open(name, os.O_RDONLY | O_NONBLOCK | O_BINARY)
        except OSError as exc:
            raise fs_error(exc, shown, root=self.name, checked=True) from None
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode) or not os.path.samestat(before, opened):
            os.close(fd)
            raise changed(shown, self.name)
        return fd, opened

    def link_destination(self, parent: Dir, name: str) -> str | None:
        """Where the link ``name`` in ``parent`` points, relative to the root; ``None`` when that
        is outside the root (the outside target is never revealed)."""
        try:
            raw = parent.readlink(name)
            resolved = os.path.realpath(os.path.join(self.path, *parent.rel, raw))
        except OSError:  # gone or changing: nothing to say about where it points
            return None
        inside = relative_parts(self.path, Path(resolved))
        return None if inside is None else display(inside)

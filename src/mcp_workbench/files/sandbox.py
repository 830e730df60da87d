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

Where ``dir_fd`` functions are missing (Windows), :class:`PathDir` does the same walk by path,
refusing any link or junction on the way and comparing ``fstat`` with ``lstat`` after each
open. That narrows the race window but cannot close it; the POSIX path closes it.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, Self

from mcp_workbench.files.paths import RelPath, check_portable_name, display, relative_parts
from mcp_workbench.platform.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    ReadOnly,
    TooLarge,
    UpstreamError,
    WorkbenchError,
)

O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
O_BINARY = getattr(os, "O_BINARY", 0)
_REPARSE_POINT = getattr(stat, "FILE_ATTRIBUTE_REPARSE_POINT", 0x400)

DIR_FD_SUPPORTED = bool(
    O_NOFOLLOW
    and O_DIRECTORY
    and {os.open, os.stat, os.mkdir, os.unlink, os.rmdir, os.rename, os.link, os.readlink} <= os.supports_dir_fd
    and os.scandir in os.supports_fd
)

CHANGED_STEPS = ("The path changed while it was being used (another program replaced or removed it); call again.",)


class PathChanged(Conflict):
    """An entry changed between the checks a call made and the act: a file became a link or
    a directory, a directory a link, or it vanished or appeared. Nothing was done through the
    change, and calling again sees the new state, so the answer is retryable."""

    retryable = True


def changed(shown: str, root: str | None = None) -> PathChanged:
    details = {"path": shown, "reason": "changed"}
    if root is not None:
        details["root"] = root
    return PathChanged(
        f"'{shown}' changed while it was being used; retry", recovery_steps=CHANGED_STEPS, details=details
    )


def kind_of(mode: int) -> str:
    """``file``, ``directory``, ``symlink``, ``fifo``, ``socket``, ``device`` or ``other``."""
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "directory"
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISFIFO(mode):
        return "fifo"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    return "other"


# --- directory handles ---------------------------------------------------------------------


class Listing(Protocol):
    """A directory's entries, released when the ``with`` block ends (as ``os.scandir``'s are)."""

    def __iter__(self) -> Iterator[os.DirEntry[str]]: ...

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc: object) -> None: ...


class Dir:
    """An open directory inside a root. Every ``name`` is one component; a name that is a
    symbolic link is never followed (it is opened, renamed or removed as the link itself)."""

    def __init__(self, rel: RelPath, path: Path) -> None:
        self.rel = rel
        self.path = path

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @classmethod
    def open_root(cls, path: Path) -> Dir:
        """The root directory at ``path`` (itself no link)."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the handle."""

    def lstat(self, name: str) -> os.stat_result:
        raise NotImplementedError

    def child(self, name: str) -> Dir:
        raise NotImplementedError

    def open(self, name: str, flags: int, mode: int = 0o666) -> int:
        raise NotImplementedError

    def scandir(self) -> Listing:
        raise NotImplementedError

    def mkdir(self, name: str) -> None:
        raise NotImplementedError

    def unlink(self, name: str) -> None:
        raise NotImplementedError

    def rmdir(self, name: str) -> None:
        raise NotImplementedError

    def rmtree(self, name: str) -> None:
        raise NotImplementedError

    def replace(self, name: str, dst: Dir, dst_name: str) -> None:
        """Rename, replacing ``dst_name`` if it exists (a link there is replaced, not followed)."""
        raise NotImplementedError

    def link(self, name: str, dst: Dir, dst_name: str) -> None:
        """Hard-link; fails with EEXIST if ``dst_name`` exists (the no-clobber primitive)."""
        raise NotImplementedError

    def readlink(self, name: str) -> str:
        raise NotImplementedError

    def fsync(self) -> None:
        """Make renames in this directory durable (best effort)."""

    def removed(self) -> bool:
        """Whether this directory was removed from the tree since it was opened (then every
        name in it is missing, because the directory changed, not because the caller erred)."""
        return False


class FdDir(Dir):
    """POSIX: a directory file descriptor; every call is an ``*at`` call relative to it."""

    def __init__(self, fd: int, rel: RelPath, path: Path) -> None:
        super().__init__(rel, path)
        self.fd = fd

    @classmethod
    def open_root(cls, path: Path) -> FdDir:
        return cls(os.open(path, os.O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), (), path)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def lstat(self, name: str) -> os.stat_result:
        return os.stat(name, dir_fd=self.fd, follow_symlinks=False)

    def child(self, name: str) -> FdDir:
        fd = os.open(name, os.O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, dir_fd=self.fd)
        return type(self)(fd, (*self.rel, name), self.path / name)

    def open(self, name: str, flags: int, mode: int = 0o666) -> int:
        return os.open(name, flags | O_NOFOLLOW | O_CLOEXEC, mode, dir_fd=self.fd)

    def scandir(self) -> Listing:
        return os.scandir(self.fd)

    def mkdir(self, name: str) -> None:
        os.mkdir(name, 0o777, dir_fd=self.fd)

    def unlink(self, name: str) -> None:
        os.unlink(name, dir_fd=self.fd)

    def rmdir(self, name: str) -> None:
        os.rmdir(name, dir_fd=self.fd)

    def rmtree(self, name: str) -> None:
        """Remove ``name`` and everything below it through :meth:`child`, so a directory
        swapped for a link, FIFO or file on the way is an ``OSError`` (``ELOOP``/``ENOTDIR``),
        never followed or blocked on (``shutil.rmtree`` opens without ``O_NOFOLLOW`` or
        ``O_NONBLOCK``). Entries that vanish meanwhile are already gone, which is the goal."""
        with self.child(name) as inner:
            with inner.scandir() as listing:
                entries = [(entry.name, entry.is_dir(follow_symlinks=False)) for entry in listing]
            for entry, is_dir in entries:
                try:
                    inner.rmtree(entry) if is_dir else inner.unlink(entry)
                except FileNotFoundError:
                    continue
        self.rmdir(name)

    def replace(self, name: str, dst: Dir, dst_name: str) -> None:
        assert isinstance(dst, FdDir)
        os.rename(name, dst_name, src_dir_fd=self.fd, dst_dir_fd=dst.fd)

    def link(self, name: str, dst: Dir, dst_name: str) -> None:
        assert isinstance(dst, FdDir)
        os.link(name, dst_name, src_dir_fd=self.fd, dst_dir_fd=dst.fd, follow_symlinks=False)

    def readlink(self, name: str) -> str:
        return os.readlink(name, dir_fd=self.fd)

    def removed(self) -> bool:
        return os.fstat(self.fd).st_nlink == 0

    def fsync(self) -> None:
        try:
            os.fsync(self.fd)
        except OSError as exc:  # some file systems cannot sync a directory
            if exc.errno not in (errno.EINVAL, errno.EBADF, errno.EROFS):
                raise


class PathDir(Dir):
    """Fallback without ``dir_fd`` (Windows): by path, refusing links and junctions on the way."""

    @classmethod
    def open_root(cls, path: Path) -> PathDir:
        info = os.lstat(path)
        if _is_link(info):
            raise OSError(errno.ELOOP, "the root was replaced by a link", str(path))
        if not stat.S_ISDIR(info.st_mode):
            raise NotADirectoryError(errno.ENOTDIR, "the root is not a directory", str(path))
        return cls((), path)

    def lstat(self, name: str) -> os.stat_result:
        return os.lstat(self.path / name)

    def child(self, name: str) -> PathDir:
        info = self.lstat(name)
        if _is_link(info):
            raise OSError(errno.ELOOP, "is a link", str(self.path / name))
        if not stat.S_ISDIR(info.st_mode):
            raise NotADirectoryError(errno.ENOTDIR, "not a directory", str(self.path / name))
        return type(self)((*self.rel, name), self.path / name)

    def open(self, name: str, flags: int, mode: int = 0o666) -> int:
        target = self.path / name
        try:
            before: os.stat_result | None = os.lstat(target)
        except FileNotFoundError:
            before = None
        if before is not None and _is_link(before):
            raise OSError(errno.ELOOP, "is a link", str(target))
        fd = os.open(target, flags | O_NOFOLLOW | O_BINARY, mode)
        after = os.fstat(fd)
        if before is not None and not os.path.samestat(before, after):
            os.close(fd)
            raise OSError(errno.ELOOP, "changed while opening", str(target))
        return fd

    def scandir(self) -> Listing:
        return os.scandir(self.path)

    def mkdir(self, name: str) -> None:
        os.mkdir(self.path / name)

    def unlink(self, name: str) -> None:
        os.unlink(self.path / name)

    def rmdir(self, name: str) -> None:
        os.rmdir(self.path / name)

    def rmtree(self, name: str) -> None:
        shutil.rmtree(self.path / name)

    def replace(self, name: str, dst: Dir, dst_name: str) -> None:
        os.replace(self.path / name, dst.path / dst_name)

    def link(self, name: str, dst: Dir, dst_name: str) -> None:
        os.link(self.path / name, dst.path / dst_name)

    def readlink(self, name: str) -> str:
        return os.readlink(self.path / name)


def _unresolvable(resolved: str) -> bool:
    """Whether ``realpath`` left a link in ``resolved`` (it does so for a link loop)."""
    try:
        return stat.S_ISLNK(os.lstat(resolved).st_mode)
    except OSError as exc:
        return exc.errno == errno.ELOOP  # missing entries are for the operation to judge


def _is_link(info: os.stat_result) -> bool:
    attributes = getattr(info, "st_file_attributes", 0)
    return stat.S_ISLNK(info.st_mode) or bool(attributes & _REPARSE_POINT)


# --- one root --------------------------------------------------------------------------------


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
            if info is None or _is_link(info) or stat.S_ISDIR(info.st_mode):
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
            if _is_link(before):  # it was resolved to a non-link: it changed since
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


# --- errors ----------------------------------------------------------------------------------


def refuse_kind(info: os.stat_result, shown: str, *, reading: bool) -> None:
    """Only regular files are read or written; directories get a pointer to the right operation."""
    if stat.S_ISREG(info.st_mode):
        return
    if stat.S_ISDIR(info.st_mode):
        raise is_a_directory(shown) if reading else Conflict(f"'{shown}' is a directory")
    kind = kind_of(info.st_mode)
    raise PermissionDenied(
        f"'{shown}' is a {kind}, not a regular file; only regular files are read or written",
        recovery_steps=["Pick a regular file; device files, FIFOs and sockets are never opened."],
        details={"path": shown, "type": kind},
    )


def is_a_directory(shown: str) -> InvalidInput:
    return InvalidInput(
        f"'{shown}' is a directory",
        recovery_steps=[f"Use operation 'list' or 'tree' with path '{shown}' to see what it holds."],
        details={"path": shown, "type": "directory"},
    )


def not_found(shown: str, root: str) -> NotFound:
    return NotFound(
        f"'{shown}' does not exist in root '{root}'",
        recovery_steps=[
            (
                "List the parent directory with files_read operation 'list', or find the file with operation "
                "'search' and a 'pattern' such as '*name*'."
            )
        ],
        details={"path": shown, "root": root},
    )


CONTRADICTIONS = frozenset(
    {
        None,  # raised without an errno by library code that noticed a swap (shutil)
        errno.ENOENT,
        errno.ENOTDIR,
        errno.EISDIR,
        errno.EEXIST,
        errno.ENOTEMPTY,
        errno.ELOOP,
        errno.EMLINK,
        errno.EINVAL,  # rename of a directory that was moved into its destination meanwhile
        errno.ENXIO,  # open of a socket or FIFO swapped in for the file that was checked
        errno.ENODEV,
        errno.ESTALE,
    }
)
"""What a call on an entry answers when the entry is no longer what was just checked."""


def fs_error(exc: OSError, shown: str, *, root: str, checked: bool = False) -> WorkbenchError:
    """An OS error as the one error shape (unknown ones are re-raised: INTERNAL_ERROR).

    ``checked`` says the entry was examined just before the failing call (``lstat``, a walk
    that succeeded, a count): then any answer that contradicts what was seen
    (:data:`CONTRADICTIONS`) means another program changed it in between, which is the
    retryable :class:`PathChanged`, not a statement about the request."""
    code = exc.errno
    details = {"path": shown, "root": root}
    if checked and code in CONTRADICTIONS:
        return changed(shown, root)
    if code == errno.ENOENT:
        return not_found(shown, root)
    if code == errno.ENOTDIR:
        return NotFound(f"a parent of '{shown}' is not a directory", details=details)
    if code in (errno.EACCES, errno.EPERM):
        return PermissionDenied(
            f"the server's operating-system account may not access '{shown}'",
            recovery_steps=["Ask the user to fix the file's permissions, or use another file."],
            details=details,
        )
    if code == errno.EEXIST:
        return Conflict(f"'{shown}' already exists", details=details)
    if code in (errno.ELOOP, errno.EMLINK):
        return changed(shown, root)
    if code in (errno.ENXIO, errno.ENODEV):
        return PermissionDenied(
            f"'{shown}' is a socket, FIFO or device, not a regular file; only regular files are read or written",
            recovery_steps=["Pick a regular file; device files, FIFOs and sockets are never opened."],
            details=details,
        )
    if code in (errno.EBUSY, errno.ETXTBSY):
        return Conflict(
            f"'{shown}' is in use by the system (a mount point or a running program)",
            recovery_steps=["Leave it alone, or ask the user to free it."],
            details=details,
        )
    if code == errno.ENOTEMPTY:
        return Conflict(f"the directory '{shown}' is not empty", details=details)
    if code == errno.EISDIR:
        return is_a_directory(shown)
    if code == errno.EROFS:
        return ReadOnly(
            f"the file system holding '{shown}' is mounted read-only",
            recovery_steps=["Nothing can be written there; tell the user, or write in another root."],
            details=details,
        )
    if code == errno.ENAMETOOLONG:
        return InvalidInput(f"'{shown}' is too long for the file system", details=details)
    if code in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return UpstreamError(
            f"no space left on the device holding '{shown}'",
            recovery_steps=["Tell the user the disk is full; retry after space was freed."],
            details=details,
        )
    if code == errno.EFBIG:
        return TooLarge(
            f"the file system refuses to make '{shown}' that large",
            recovery_steps=["Write less content, or split it over several files."],
            details=details,
        )
    if code == errno.EIO:
        return UpstreamError(f"input/output error on '{shown}'", details=details)
    raise exc

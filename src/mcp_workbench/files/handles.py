"""Directory handles inside a root: every call names one component relative to an open
directory, and a name that is a symbolic link is never followed.

:class:`FdDir` (POSIX) holds a directory file descriptor and makes every call an ``*at`` call
relative to it (``O_NOFOLLOW``, ``O_DIRECTORY``), so a directory swapped for a link between a
check and the act fails the call instead of being followed. Where ``dir_fd`` functions are
missing (Windows), :class:`PathDir` does the same by path, refusing any link or junction on the
way and comparing ``fstat`` with ``lstat`` after each open: that narrows the race window but
cannot close it. :mod:`~mcp_workbench.files.sandbox` picks one for each root.

Failures are the operating system's ``OSError``; :mod:`~mcp_workbench.files.oserrors` maps them.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol, Self

from mcp_workbench.files.paths import RelPath

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


def is_link(info: os.stat_result) -> bool:
    """A symbolic link, or on Windows any reparse point (a junction too)."""
    attributes = getattr(info, "st_file_attributes", 0)
    return stat.S_ISLNK(info.st_mode) or bool(attributes & _REPARSE_POINT)


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
        if is_link(info):
            raise OSError(errno.ELOOP, "the root was replaced by a link", str(path))
        if not stat.S_ISDIR(info.st_mode):
            raise NotADirectoryError(errno.ENOTDIR, "the root is not a directory", str(path))
        return cls((), path)

    def lstat(self, name: str) -> os.stat_result:
        return os.lstat(self.path / name)

    def child(self, name: str) -> PathDir:
        info = self.lstat(name)
        if is_link(info):
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
        if before is not None and is_link(before):
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

"""File-system outcomes as the error tree, in one place.

An ``OSError`` becomes the one error shape in :func:`fs_error`; an entry that changed between
the check a call made and the act is the retryable :class:`PathChanged`; and the refusals
reading and writing share (not a regular file, a directory, a missing entry) are built here, so
every operation words them alike.
"""

from __future__ import annotations

import errno
import os
import stat

from mcp_workbench.files.handles import kind_of
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

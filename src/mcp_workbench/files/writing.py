"""The write operations as plain blocking functions: write, edit, mkdir, move, delete.

Rules every one of them keeps:

- the target's *parent* is resolved inside the root and reached without following links;
  the final name is never followed: a link there is refused (write, edit) or acted on as
  the link itself (move, delete), never its target;
- a file's new content is written to a temporary file in the same directory, flushed with
  ``fsync`` and renamed over the old name (``os.rename`` is atomic), then the directory is
  synced. The temporary file is removed on every failure path;
- ``create_only`` and a move without ``overwrite`` use ``link()`` to place the new name,
  which fails if the name exists at that very moment (no check-then-act window);
- an edit re-checks that the file is still the one it read (inode, size, mtime) just before
  the rename; a concurrent change is a CONFLICT, not a lost update;
- every check runs before the first change, so a refused request changes nothing; ``dry_run``
  stops right before the first change;
- the first change is the call's commit point (:func:`commit_point_in_thread`): a call whose
  time budget ran out, or whose caller left, before it changes nothing (its temporary file is
  removed); once it has begun, the change finishes and the call answers its result.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from mcp_workbench.files import textio
from mcp_workbench.files.edits import EditLike, apply_edits, unified_diff
from mcp_workbench.files.handles import O_BINARY, O_NONBLOCK, Dir, kind_of
from mcp_workbench.files.oserrors import PathChanged, changed, fs_error, not_found, refuse_kind
from mcp_workbench.files.paths import check_portable_name, display, is_within
from mcp_workbench.files.roots import RootSet
from mcp_workbench.files.sandbox import Sandbox, Target
from mcp_workbench.files.walk import Walk
from mcp_workbench.platform.errors import Conflict, InvalidInput, PermissionDenied, TooLarge, WorkbenchError
from mcp_workbench.platform.timeouts import commit_point_in_thread

TEMP_PREFIX = ".mcp-workbench-"
_NO_HARD_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS, errno.EMLINK, errno.EACCES}
MAX_DELETE_DEPTH = 512


@dataclass(frozen=True)
class Limits:
    max_write_bytes: int
    max_diff_chars: int
    max_delete_entries: int


# --- atomic placement ---------------------------------------------------------------------------


def place_atomically(
    parent: Dir,
    name: str,
    data: bytes,
    *,
    create_only: bool,
    mode: int | None = None,
    owner: tuple[int, int] | None = None,
    expect: os.stat_result | None = None,
    shown: str,
) -> None:
    """Write ``data`` to a temporary file beside ``name``, sync it, and rename it into place.

    ``mode`` and ``owner`` carry the replaced file's permission bits and owner over (the
    owner only where the server may set it, e.g. running as root)."""
    temp = f"{TEMP_PREFIX}{secrets.token_hex(8)}.tmp"
    fd = parent.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | O_BINARY, 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if owner is not None and hasattr(os, "fchown"):
                with contextlib.suppress(PermissionError):
                    os.fchown(handle.fileno(), *owner)
            if mode is not None and hasattr(os, "fchmod"):
                os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
        with commit_point_in_thread():
            if expect is not None:
                _still_the_same(parent, name, expect, shown)
            if create_only:
                _link_into_place(parent, temp, parent, name, shown=shown, replacing=CREATE_ONLY)
            else:
                parent.replace(temp, parent, name)
            parent.fsync()
    finally:
        with contextlib.suppress(FileNotFoundError):
            parent.unlink(temp)


def _still_the_same(parent: Dir, name: str, expect: os.stat_result, shown: str) -> None:
    try:
        now = parent.lstat(name)
    except FileNotFoundError:
        now = None
    if (
        now is None
        or not os.path.samestat(now, expect)
        or (now.st_size, now.st_mtime_ns)
        != (
            expect.st_size,
            expect.st_mtime_ns,
        )
    ):
        raise PathChanged(
            f"'{shown}' changed while it was being edited; nothing was written",
            recovery_steps=["Call again: the edit is applied to the current content, or says why it no longer fits."],
            details={"path": shown, "reason": "changed"},
        )


def _link_into_place(src_dir: Dir, src: str, dst_dir: Dir, dst: str, *, shown: str, replacing: str) -> None:
    """Give ``src`` the name ``dst`` only if ``dst`` does not exist (atomically where possible)."""
    try:
        src_dir.link(src, dst_dir, dst)
    except FileExistsError:
        raise _exists(shown, replacing) from None
    except OSError as exc:
        if exc.errno not in _NO_HARD_LINKS:
            raise
        # The file system has no hard links: check, then rename (a small race window remains).
        try:
            dst_dir.lstat(dst)
        except FileNotFoundError:
            src_dir.replace(src, dst_dir, dst)
            return
        raise _exists(shown, replacing) from None
    src_dir.unlink(src)


CREATE_ONLY = "create_only: false"
OVERWRITE = "overwrite: true"


def _exists(shown: str, replacing: str) -> Conflict:
    """``replacing`` is the argument of the operation at hand that allows replacing the file."""
    return Conflict(
        f"'{shown}' already exists",
        recovery_steps=[f"Choose another name, or call again with {replacing} to replace it."],
        details={"path": shown, "reason": "exists"},
    )


def _refuse_link(sandbox: Sandbox, parent: Dir, target: Target) -> PermissionDenied:
    destination = sandbox.link_destination(parent, target.name)
    steps = ["Writes never go through symbolic links."]
    if destination is not None:
        steps.append(f"The link points to '{destination}' in the same root: write to that path instead.")
    return PermissionDenied(
        f"'{target.shown}' is a symbolic link; it is not written through",
        recovery_steps=steps,
        details={"path": target.shown, "type": "symlink", "target": destination},
    )


def _open_parent(sandbox: Sandbox, target: Target, *, create: bool, dry_run: bool) -> tuple[Dir | None, list[str]]:
    """The target's directory; with ``create``, missing ones are made (only named in a dry run)."""
    try:
        return sandbox.open_parent(target, create=create and not dry_run)
    except WorkbenchError as exc:
        if not (create and dry_run and exc.code == "NOT_FOUND"):
            if exc.code == "NOT_FOUND" and not create:
                exc.recovery_steps.insert(0, "Create the directory first (operation 'mkdir'), or set parents: true.")
            raise
        for name in target.parent:
            check_portable_name(name)
        return None, [display(target.parent)]


def _encode(content: str, encoding: str) -> bytes:
    try:
        return content.encode(textio.text_codec(encoding))
    except UnicodeEncodeError as exc:
        raise InvalidInput(
            f"the content cannot be written as {encoding}: {exc.reason} at character {exc.start}",
            recovery_steps=["Use encoding 'utf-8', or remove the characters that encoding cannot hold."],
            details={"field": "content", "encoding": encoding},
        ) from None
    except ValueError as exc:  # not a text encoding: callers of the service API bypass the model
        raise InvalidInput(
            str(exc),
            recovery_steps=["Call again with encoding 'utf-8' (or another text encoding)."],
            details={"field": "encoding"},
        ) from None


def _too_large(size: int, limit: int, what: str) -> TooLarge:
    return TooLarge(
        f"{what} would be {size} bytes; the limit is {limit}",
        recovery_steps=["Split the content over several files, or ask the operator to raise files.max_write_bytes."],
        details={"size": size, "limit": limit},
    )


# --- write ----------------------------------------------------------------------------------------


def write_file(
    roots: RootSet,
    sandbox: Sandbox,
    target: Target,
    *,
    content: str,
    encoding: str,
    create_only: bool,
    parents: bool,
    dry_run: bool,
    limits: Limits,
) -> dict[str, Any]:
    roots.check_writable(sandbox, target)
    data = _encode(content, encoding)
    if len(data) > limits.max_write_bytes:
        raise _too_large(len(data), limits.max_write_bytes, "the file")
    parent, created = _open_parent(sandbox, target, create=parents, dry_run=dry_run)
    result: dict[str, Any] = {
        "root": sandbox.name,
        "path": target.shown,
        "bytes": len(data),
        "encoding": encoding,
        "created_directories": created,
        "dry_run": dry_run,
    }
    if parent is None:
        check_portable_name(target.name)
        return {**result, "created": True}
    with parent, _undone_on_failure(sandbox, target, created):
        existing = sandbox.lstat(parent, target.name, target.shown)
        if existing is not None:
            if stat.S_ISLNK(existing.st_mode):
                raise _refuse_link(sandbox, parent, target)
            refuse_kind(existing, target.shown, reading=False)
            if create_only:
                raise _exists(target.shown, CREATE_ONLY)
        else:
            check_portable_name(target.name)
        result["created"] = existing is None
        if dry_run:
            return result
        try:
            place_atomically(
                parent,
                target.name,
                data,
                create_only=create_only,
                mode=stat.S_IMODE(existing.st_mode) if existing is not None else None,
                owner=(existing.st_uid, existing.st_gid) if existing is not None else None,
                shown=target.shown,
            )
        except OSError as exc:
            raise fs_error(exc, target.shown, root=sandbox.name, checked=True) from None
    return result


@contextlib.contextmanager
def _undone_on_failure(sandbox: Sandbox, target: Target, created: list[str]) -> Iterator[None]:
    """Remove the directories ``parents: true`` made for a write that then did not happen (its
    budget ran out before the commit point, or it failed): such a call must leave nothing.
    Deepest first, and only while empty, so nothing the write or anyone else put there goes."""
    try:
        yield
    except BaseException:
        for depth in range(len(target.parent), len(target.parent) - len(created), -1):
            path = target.parent[:depth]
            with contextlib.suppress(OSError, WorkbenchError):
                holder, _ = sandbox.open_dir(path[:-1])
                with holder:
                    holder.rmdir(path[-1])
        raise


# --- edit -----------------------------------------------------------------------------------------


def edit_file(
    roots: RootSet, sandbox: Sandbox, target: Target, *, edits: list[EditLike], dry_run: bool, limits: Limits
) -> dict[str, Any]:
    roots.check_writable(sandbox, target)
    parent, _ = sandbox.open_parent(target)
    with parent:
        existing = sandbox.lstat(parent, target.name, target.shown)
        if existing is None:
            raise not_found(target.shown, sandbox.name)
        if stat.S_ISLNK(existing.st_mode):
            raise _refuse_link(sandbox, parent, target)
        refuse_kind(existing, target.shown, reading=False)
        if existing.st_size > limits.max_write_bytes:
            raise _too_large(existing.st_size, limits.max_write_bytes, "the file to edit")
        raw, opened = _read_whole(parent, target, limits.max_write_bytes, root=sandbox.name)
        sniffed = textio.sniff(raw[: textio.SAMPLE_BYTES], whole=len(raw) <= textio.SAMPLE_BYTES)
        if sniffed.kind != "text" or sniffed.encoding is None:
            raise InvalidInput(
                f"'{target.shown}' is a {sniffed.kind} file; edit works on text",
                recovery_steps=["Replace a binary file as a whole with operation 'write', or leave it alone."],
                details={"path": target.shown, "kind": sniffed.kind},
            )
        before = _decode_strict(raw[len(sniffed.bom) :], sniffed.encoding, target.shown)
        outcome = apply_edits(before, edits, shown=target.shown)
        data = sniffed.bom + _encode(outcome.text, sniffed.encoding)
        if len(data) > limits.max_write_bytes:
            raise _too_large(len(data), limits.max_write_bytes, "the edited file")
        diff, diff_cut = unified_diff(before, outcome.text, target.shown, max_chars=limits.max_diff_chars)
        result = {
            "root": sandbox.name,
            "path": target.shown,
            "applied": outcome.applied,
            "encoding": sniffed.label,
            "line_endings": outcome.line_endings,
            "bytes": len(data),
            "diff": diff,
            "diff_truncated": diff_cut,
            "dry_run": dry_run,
        }
        if dry_run:
            return result
        try:
            place_atomically(
                parent,
                target.name,
                data,
                create_only=False,
                mode=stat.S_IMODE(opened.st_mode),
                owner=(opened.st_uid, opened.st_gid),
                expect=opened,
                shown=target.shown,
            )
        except OSError as exc:
            raise fs_error(exc, target.shown, root=sandbox.name, checked=True) from None
    return result


def _read_whole(parent: Dir, target: Target, limit: int, *, root: str) -> tuple[bytes, os.stat_result]:
    try:
        fd = parent.open(target.name, os.O_RDONLY | O_NONBLOCK | O_BINARY)
    except OSError as exc:
        raise fs_error(exc, target.shown, root=root, checked=True) from None
    opened = os.fstat(fd)
    if not stat.S_ISREG(opened.st_mode):  # checked before fdopen, which refuses a directory
        os.close(fd)
        raise changed(target.shown, root)
    with os.fdopen(fd, "rb") as handle:
        raw = handle.read(limit + 1)
    if len(raw) > limit:
        raise _too_large(len(raw), limit, "the file to edit")
    return raw, opened


def _decode_strict(raw: bytes, encoding: str, shown: str) -> str:
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"'{shown}' is not valid {encoding} (byte {exc.start}); editing it could corrupt it",
            recovery_steps=["Rewrite the file as a whole with operation 'write' if you know its full content."],
            details={"path": shown, "encoding": encoding},
        ) from None


# --- mkdir ----------------------------------------------------------------------------------------


def make_directory(roots: RootSet, sandbox: Sandbox, target: Target, *, parents: bool, dry_run: bool) -> dict[str, Any]:
    roots.check_writable(sandbox, target)
    parent, created = _open_parent(sandbox, target, create=parents, dry_run=dry_run)
    result: dict[str, Any] = {"root": sandbox.name, "path": target.shown, "dry_run": dry_run}
    if parent is None:
        check_portable_name(target.name)
        return {**result, "created": [*created, target.shown], "existed": False}
    with parent, _undone_on_failure(sandbox, target, created):
        existing = sandbox.lstat(parent, target.name, target.shown)
        if existing is not None:
            if stat.S_ISLNK(existing.st_mode):
                raise _refuse_link(sandbox, parent, target)
            if stat.S_ISDIR(existing.st_mode) and parents:
                return {**result, "created": created, "existed": True}
            kind = kind_of(existing.st_mode)
            raise Conflict(
                f"'{target.shown}' already exists ({kind})",
                recovery_steps=["Use parents: true to accept an existing directory, or choose another name."],
                details={"path": target.shown, "type": kind},
            )
        check_portable_name(target.name)
        if not dry_run:
            try:
                with commit_point_in_thread():
                    parent.mkdir(target.name)
                    parent.fsync()
            except OSError as exc:
                raise fs_error(exc, target.shown, root=sandbox.name, checked=True) from None
    return {**result, "created": [*created, target.shown], "existed": False}


# --- move -----------------------------------------------------------------------------------------


def move(
    roots: RootSet,
    source: tuple[Sandbox, Target],
    destination: tuple[Sandbox, Target],
    *,
    overwrite: bool,
    dry_run: bool,
) -> dict[str, Any]:
    (src_box, src), (dst_box, dst) = source, destination
    roots.check_writable(src_box, src, removes=True)
    roots.check_writable(dst_box, dst, removes=overwrite)
    src_real, dst_real = src_box.path.joinpath(*src.real), dst_box.path.joinpath(*dst.real)
    if src_real == dst_real:
        raise InvalidInput(f"'{src.shown}' and the destination are the same path", details={"field": "destination"})
    if is_within(src_real, dst_real):
        raise InvalidInput(f"cannot move '{src.shown}' into itself ('{dst.shown}')", details={"field": "destination"})
    src_dir, _ = src_box.open_parent(src)
    with src_dir:
        moving = src_box.lstat(src_dir, src.name, src.shown)
        if moving is None:
            raise not_found(src.shown, src_box.name)
        if kind_of(moving.st_mode) not in ("file", "directory", "symlink"):
            refuse_kind(moving, src.shown, reading=False)
        dst_dir, _ = dst_box.open_parent(dst)
        with dst_dir:
            state = _check_destination(dst_box, dst_dir, dst, moving, source_name=src.name, overwrite=overwrite)
            result = {
                "root": src_box.name,
                "path": src.shown,
                "destination_root": dst_box.name,
                "destination": dst.shown,
                "type": kind_of(moving.st_mode),
                "replaced": state == "replace",
                "dry_run": dry_run,
            }
            if dry_run:
                return result
            try:
                with commit_point_in_thread():
                    _rename(src_box, src_dir, src, dst_dir=dst_dir, dst=dst, moving=moving, state=state)
            except Conflict as exc:
                if overwrite and exc.details.get("reason") == "exists":  # it appeared after the check
                    raise changed(dst.shown, dst_box.name) from None
                raise
            result["copied_across_devices"] = False
    return result


def _check_destination(
    box: Sandbox, dst_dir: Dir, dst: Target, moving: os.stat_result, *, source_name: str, overwrite: bool
) -> str:
    """``new`` (nothing there), ``same`` (the source itself: a case-only rename on a
    case-insensitive file system) or ``replace`` (allowed by ``overwrite``)."""
    present = box.lstat(dst_dir, dst.name, dst.shown)
    case_only = dst.name != source_name and dst.name.casefold() == source_name.casefold()
    if present is None or (case_only and os.path.samestat(present, moving)):
        check_portable_name(dst.name)
        return "new" if present is None else "same"
    if not overwrite:
        raise Conflict(
            f"the destination '{dst.shown}' already exists",
            recovery_steps=["Choose another destination, or set overwrite: true to replace it."],
            details={"path": dst.shown, "reason": "exists", "type": kind_of(present.st_mode)},
        )
    moving_dir, present_dir = stat.S_ISDIR(moving.st_mode), stat.S_ISDIR(present.st_mode)
    if moving_dir != present_dir:
        raise Conflict(
            f"cannot replace {'a directory' if present_dir else 'a file'} '{dst.shown}' with "
            f"{'a directory' if moving_dir else 'a file'}",
            details={"path": dst.shown},
        )
    if kind_of(present.st_mode) not in ("file", "directory", "symlink"):
        refuse_kind(present, dst.shown, reading=False)
    return "replace"


def _rename(
    box: Sandbox, src_dir: Dir, src: Target, *, dst_dir: Dir, dst: Target, moving: os.stat_result, state: str
) -> None:
    try:
        if state == "new" and not stat.S_ISDIR(moving.st_mode):
            _link_into_place(src_dir, src.name, dst_dir, dst.name, shown=dst.shown, replacing=OVERWRITE)
        else:
            if state == "new" and _exists_in(dst_dir, dst.name):  # a directory: check, then rename
                raise _exists(dst.shown, OVERWRITE)
            src_dir.replace(src.name, dst_dir, dst.name)
            if state == "replace":
                _drop_twin(src_dir, src.name, moving)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise fs_error(exc, src.shown, root=box.name, checked=True) from None
        copy_across_devices(box, src_dir, src, dst_dir=dst_dir, dst=dst, moving=moving, replace=state != "new")
    src_dir.fsync()
    dst_dir.fsync()


def _drop_twin(src_dir: Dir, name: str, moving: os.stat_result) -> None:
    """rename() onto a hard link of the same file does nothing; finish the move by unlinking."""
    try:
        leftover = src_dir.lstat(name)
    except FileNotFoundError:
        return
    if os.path.samestat(leftover, moving):
        src_dir.unlink(name)


def _exists_in(directory: Dir, name: str) -> bool:
    try:
        directory.lstat(name)
    except FileNotFoundError:
        return False
    return True


def copy_across_devices(
    box: Sandbox, src_dir: Dir, src: Target, *, dst_dir: Dir, dst: Target, moving: os.stat_result, replace: bool
) -> None:
    """Roots on different file systems: copy a regular file, then remove the original."""
    if not stat.S_ISREG(moving.st_mode):
        raise InvalidInput(
            f"'{src.shown}' is a {kind_of(moving.st_mode)} on another file system than the destination; "
            "only files can be moved across file systems",
            recovery_steps=["Move the files inside it one by one, or copy them with read and write."],
            details={"path": src.shown, "reason": "cross_device"},
        )
    try:
        fd = src_dir.open(src.name, os.O_RDONLY | O_NONBLOCK | O_BINARY)
        with os.fdopen(fd, "rb") as handle:
            if not os.path.samestat(os.fstat(handle.fileno()), moving):
                raise changed(src.shown, box.name)
            data = handle.read()
        place_atomically(
            dst_dir, dst.name, data, create_only=not replace, mode=stat.S_IMODE(moving.st_mode), shown=dst.shown
        )
        src_dir.unlink(src.name)
    except OSError as exc:
        raise fs_error(exc, src.shown, root=box.name, checked=True) from None


# --- delete ---------------------------------------------------------------------------------------


def delete(
    roots: RootSet, sandbox: Sandbox, target: Target, *, recursive: bool, dry_run: bool, limits: Limits
) -> dict[str, Any]:
    roots.check_writable(sandbox, target, removes=True)
    parent, _ = sandbox.open_parent(target)
    with parent:
        existing = sandbox.lstat(parent, target.name, target.shown)
        if existing is None:
            raise not_found(target.shown, sandbox.name)
        kind = kind_of(existing.st_mode)
        result: dict[str, Any] = {"root": sandbox.name, "path": target.shown, "type": kind, "dry_run": dry_run}
        if kind == "directory":
            entries = _count_below(sandbox, parent, target, limit=limits.max_delete_entries)
            result["entries"] = entries
            if entries and not recursive:
                raise Conflict(
                    f"the directory '{target.shown}' is not empty ({entries} entries)",
                    recovery_steps=["Set recursive: true to delete it with everything in it (try dry_run first)."],
                    details={"path": target.shown, "entries": entries, "reason": "not_empty"},
                )
            if entries > limits.max_delete_entries:
                raise TooLarge(
                    f"'{target.shown}' holds more than {limits.max_delete_entries} entries; "
                    "a recursive delete that large is refused",
                    recovery_steps=["Delete its subdirectories one at a time, or ask the user to do it."],
                    details={"path": target.shown, "limit": limits.max_delete_entries},
                )
        elif kind not in ("file", "symlink"):
            refuse_kind(existing, target.shown, reading=False)
        if dry_run:
            return result
        try:
            with commit_point_in_thread():
                if kind == "directory" and recursive:
                    parent.rmtree(target.name)
                elif kind == "directory":
                    parent.rmdir(target.name)
                else:
                    parent.unlink(target.name)
                parent.fsync()
        except OSError as exc:
            raise fs_error(exc, target.shown, root=sandbox.name, checked=True) from None
    return result


def _count_below(sandbox: Sandbox, parent: Dir, target: Target, *, limit: int) -> int:
    """Entries below the directory ``target`` of ``parent``, counted up to ``limit + 1``
    (links are counted, not entered). It is opened from ``parent``, where it was just seen to
    be a directory: anything else there now means it changed."""
    try:
        top = parent.child(target.name)
    except OSError as exc:
        raise fs_error(exc, target.shown, root=sandbox.name, checked=True) from None
    count = 0
    for _ in Walk(sandbox, target.real, max_depth=MAX_DELETE_DEPTH, gitignore=False, top=top):
        count += 1
        if count > limit:
            break
    return count

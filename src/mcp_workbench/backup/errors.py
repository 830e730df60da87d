"""What can go wrong with a backup or a restore, as kinds of the one error tree.

A damaged archive is the caller's input (VALIDATION_ERROR) and names the member; a database a
running server holds is a CONFLICT naming the process; a tool (pg_dump, pg_restore) or a
database that fails is UPSTREAM_ERROR.
"""

from __future__ import annotations

from mcp_workbench.platform.errors import Conflict, InvalidInput, NotFound, UpstreamError


class ArchiveDamaged(InvalidInput):
    """The archive cannot be trusted: a member is missing, extra, damaged or fails its check."""

    default_recovery = ("Use another archive (`mcp-workbench backup verify` checks one without restoring).",)

    def __init__(self, message: str, *, member: str | None = None) -> None:
        super().__init__(message, details={"member": member} if member else None)
        self.member = member


class DatabaseInUse(Conflict):
    """A running process holds a database a restore would replace."""

    default_recovery = (
        "Stop the server (and anything else using the database), then run the restore again.",
        "Or run it with --force; the processes then keep the old file open and must be restarted.",
    )


class NothingToRestore(NotFound):
    """The selection names something the archive or the configuration does not have."""


class BackupFailed(UpstreamError):
    """A snapshot, a dump or a restore step failed; the message says which and why."""

    default_recovery = ("Fix what the message names (a path, a database, a client tool), then run it again.",)

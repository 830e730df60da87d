"""The bridge from the configuration to the backup package: which sources, key store, config
file and output directory a backup covers (:func:`plan_for`, used by the CLI and the server),
and the server's scheduled backups as a capability of its lifespan (:func:`scheduled_backups`).

The backup package works on plain values and never reads the root settings; this module is the
one place that knows both.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from mcp_workbench.backup.errors import NothingToRestore
from mcp_workbench.backup.plan import Plan, Source
from mcp_workbench.backup.scheduler import BackupScheduler
from mcp_workbench.capability import Capability
from mcp_workbench.platform.keys import STORE_NAME
from mcp_workbench.platform.metrics import Sample
from mcp_workbench.settings import Settings, resolve_config_path


def plan_for(
    settings: Settings,
    *,
    output: Path | None = None,
    keep: int | None = None,
    sources: list[str] | None = None,
    config_file: Path | None = None,
) -> Plan:
    """The plan ``settings`` describe, with the CLI's choices on top. ``sources`` narrows the
    backup (default ``[backup] sources``, else every source); a name that is not configured
    raises :class:`NothingToRestore` listing those that are."""
    configured = {name: Source(name, config.url, config.read_only) for name, config in settings.sources().items()}
    names = sources or settings.backup.sources or list(configured)
    unknown = [name for name in names if name not in configured]
    if unknown:
        raise NothingToRestore(
            f"source {unknown[0]!r} is not configured; configured sources: {', '.join(configured)}",
            details={"source": unknown[0]},
        )
    data_dir = settings.data_dir.expanduser().resolve()
    return Plan(
        output=(output or settings.backup.output or data_dir / "backups").expanduser().resolve(),
        keep=keep or settings.backup.keep,
        sources={name: configured[name] for name in names},
        data_dir=data_dir,
        key_store=data_dir / STORE_NAME,
        config_file=config_file or settings.backup.config_file or resolve_config_path(None),
        pg_bin_dir=settings.backup.pg_bin_dir,
    )


class ScheduledBackups(Capability):
    """``[backup] interval`` as the server's lifespan runs it: no MCP components, metrics only."""

    name = "backup"

    def __init__(self, scheduler: BackupScheduler) -> None:
        self.scheduler = scheduler

    async def startup(self) -> None:
        await self.scheduler.startup()

    def samples(self) -> Iterable[Sample]:
        return self.scheduler.samples()

    async def aclose(self) -> None:
        await self.scheduler.aclose()


def scheduled_backups(settings: Settings) -> ScheduledBackups | None:
    """The scheduled backups the settings ask for, or None without ``[backup] interval``.
    A misnamed ``[backup] sources`` entry stops the start with the configuration error."""
    interval = settings.backup.interval
    return ScheduledBackups(BackupScheduler(plan_for(settings), interval)) if interval else None

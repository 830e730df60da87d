"""Install, uninstall and inspect our entry in a client's config, as plain functions that
return typed results (the CLI prints them; ``doctor`` can reuse :func:`statuses`).

A change is planned first (:func:`plan_install`, :func:`plan_uninstall`): the file is read and
parsed, the new text computed, nothing touched. :func:`apply` then writes it — backup, temporary
file, fsync, atomic rename — and only when the text really changes, so a second identical run
writes nothing and makes no backup.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path, PurePath
from typing import Any, Literal

from mcp_workbench.cli.install import clients, configfile
from mcp_workbench.cli.install.clients import Client
from mcp_workbench.cli.install.entries import Launch, Remote, Target, this_installation
from mcp_workbench.cli.install.formats import ConfigParseError, EditCheckFailed, read_entry
from mcp_workbench.cli.install.parser import DEFAULT_NAME
from mcp_workbench.cli.install.paths import Host


class InstallError(Exception):
    """A request that cannot be carried out; nothing was written."""


@dataclass(frozen=True)
class Plan:
    client: Client
    scope: str
    path: Path
    name: str
    before: str | None  # None: the file does not exist yet
    after: str
    entry: dict[str, Any] | None  # what the entry will be (None: removed)

    @property
    def changes(self) -> bool:
        return self.before != self.after

    def diff(self) -> str:
        return configfile.diff(self.before, self.after, str(self.path))


def _read(client: Client, path: Path) -> str | None:
    try:
        text = configfile.read_text(path)
        if text is not None:
            client.fmt.load(text)
        return text
    except ConfigParseError as exc:
        where = f"{path}:{exc.line}" + (f":{exc.column}" if exc.column else "") if exc.line else str(path)
        raise InstallError(
            f"{where}: {client.title}'s config is not valid {client.fmt.name} ({exc.message}); "
            "fix or move the file and run again. Nothing was written."
        ) from None
    except OSError as exc:
        raise InstallError(f"cannot read {path}: {exc.strerror or exc}") from None


def resolve_path(client: Client, scope: str, host: Host, project_dir: Path, file: Path | None) -> Path:
    if file is not None:
        return file.expanduser().absolute()
    try:
        return Path(client.path(host, scope, project_dir))
    except ValueError as exc:
        raise InstallError(str(exc)) from None


def build_entry(client: Client, scope: str, target: Target, name: str) -> dict[str, Any]:
    shape = client.shape_for(scope)
    if isinstance(target, Remote):
        if shape.url is None:
            raise InstallError(
                f"{client.title} cannot take a remote server in its config file; add {target.url} "
                "in the app (Settings → Connectors), or install the local server without --url"
            )
        return shape.remote(target, name)
    return shape.stdio(target, name)


def _container_problem(client: Client, scope: str, text: str, path: Path) -> str | None:
    node: Any = client.fmt.load(text)
    walked: list[str] = []
    for key in client.container_for(scope):
        walked.append(key)
        if not isinstance(node, dict) or key not in node or node[key] is None:
            return None
        node = node[key]
        if not isinstance(node, dict):
            kinds = {list: "a list", str: "a string", bool: "a boolean", int: "a number", float: "a number"}
            kind = kinds.get(type(node), type(node).__name__)
            where = ".".join(walked)
            return f"{path}: '{where}' is {kind}, not a table of servers; fix it and run again. Nothing was written."
    return None


def _edit(client: Client, scope: str, path: Path, before: str, *, name: str, entry: dict[str, Any] | None) -> str:
    problem = _container_problem(client, scope, before, path)
    if problem:
        raise InstallError(problem)
    container = client.container_for(scope)
    try:
        if entry is None:
            return client.fmt.remove_entry(before, container, name)
        return client.fmt.set_entry(before, container, name, entry)
    except ConfigParseError as exc:
        raise InstallError(f"{path}:{exc.line}: {exc.message}. Nothing was written.") from None
    except EditCheckFailed as exc:
        raise InstallError(f"{path}: {exc} (a bug in mcp-workbench: please report it)") from None


def plan_install(
    client: Client, scope: str, target: Target, *, name: str, host: Host, project_dir: Path, file: Path | None = None
) -> Plan:
    path = resolve_path(client, scope, host, project_dir, file)
    entry = build_entry(client, scope, target, name)
    before = _read(client, path)
    after = _edit(client, scope, path, before or "", name=name, entry=entry)
    if before is not None and read_entry(client.fmt, before, client.container_for(scope), name) == entry:
        after = before  # already there, exactly: not even whitespace changes
    return Plan(client, scope, path, name, before, after, entry)


def plan_uninstall(
    client: Client, scope: str, *, name: str, host: Host, project_dir: Path, file: Path | None = None
) -> Plan:
    path = resolve_path(client, scope, host, project_dir, file)
    before = _read(client, path)
    if before is None:
        return Plan(client, scope, path, name, None, "", None)
    after = _edit(client, scope, path, before, name=name, entry=None)
    return Plan(client, scope, path, name, before, after, None)


@dataclass(frozen=True)
class Applied:
    written: bool
    backup: Path | None


def apply(plan: Plan) -> Applied:
    if not plan.changes or (plan.before is None and plan.entry is None):
        return Applied(False, None)
    # A config kept in a dotfiles repository is often a symlink: write through it, keeping the link.
    path = plan.path.resolve() if plan.path.is_symlink() else plan.path
    # Clients rewrite their own files (Claude Code keeps its state in ~/.claude.json): if the file
    # changed since it was read, writing our text would lose that change.
    if configfile.read_text(path) != plan.before:
        raise InstallError(f"{plan.path} changed while it was being edited (is the client running?); run again")
    saved = configfile.backup(path) if plan.before is not None else None
    configfile.atomic_write(path, plan.after)
    return Applied(True, saved)


def written_target(plan: Plan) -> Target | None:
    """What the entry now in the file starts (read back from the new text)."""
    entry = read_entry(plan.client.fmt, plan.after, plan.client.container_for(plan.scope), plan.name)
    return None if entry is None else plan.client.shape_for(plan.scope).read(entry)


# --- status (install --list, doctor) ----------------------------------------------------------

State = Literal["current", "other", "absent", "no-file", "unreadable"]


@dataclass(frozen=True)
class EntryStatus:
    client: str
    title: str
    scope: str
    path: PurePath
    state: State
    detail: str = ""
    target: Target | None = None
    note: str | None = None
    tool_budget: int | None = None


def _judge(target: Target | None, launcher: Launch) -> tuple[State, str]:
    if target is None:
        return "other", "the entry starts nothing this version can read"
    if isinstance(target, Remote):
        return "current", f"remote {target.url}"
    if target.command == launcher.command and target.args[: len(launcher.args)] == launcher.args:
        if not Path(target.command).exists():
            return "other", f"{target.command} does not exist"
        return "current", "runs this installation"
    exists = "" if Path(target.command).exists() else " (missing)"
    return "other", f"runs {target.command}{exists}, not this installation ({launcher.command})"


def status(
    client: Client,
    scope: str,
    *,
    name: str,
    host: Host,
    project_dir: Path,
    launcher: Launch | None = None,
) -> EntryStatus:
    path = client.path(host, scope, project_dir)
    status = partial(
        EntryStatus,
        client=client.id,
        title=client.title,
        scope=scope,
        path=path,
        note=client.note(host),
        tool_budget=client.tool_budget,
    )
    try:
        text = configfile.read_text(Path(path))
        if text is None:
            return status(state="no-file")
        entry = read_entry(client.fmt, text, client.container_for(scope), name)
    except (ConfigParseError, OSError) as exc:
        line = getattr(exc, "line", None)
        return status(state="unreadable", detail=f"{exc}" + (f" (line {line})" if line else ""))
    if entry is None:
        return status(state="absent")
    target = client.shape_for(scope).read(entry)
    state, detail = _judge(target, launcher or this_installation())
    return status(state=state, detail=detail, target=target)


def statuses(
    *, name: str = DEFAULT_NAME, host: Host | None = None, project_dir: Path | None = None
) -> list[EntryStatus]:
    """Every client's user-scoped entry (and project-scoped one where that file exists)."""
    host = host or Host.current()
    project_dir = project_dir or Path.cwd()
    found = []
    for client in clients.CLIENTS.values():
        found.append(status(client, "user", name=name, host=host, project_dir=project_dir))
        if client.project_path and Path(client.path(host, "project", project_dir)).exists():
            found.append(status(client, "project", name=name, host=host, project_dir=project_dir))
    return found

"""Each MCP client's entry for this server starts an existing launcher of this version.

The entries are found and read by the install code (:func:`~mcp_workbench.cli.install.service.statuses`);
an entry that runs another interpreter is asked for its version, so an entry left behind by an
upgrade or a removed virtual environment is named with the command that fixes it.
"""

from __future__ import annotations

import re
from pathlib import Path

import anyio

from mcp_workbench import __version__
from mcp_workbench.cli.doctor.context import Context
from mcp_workbench.cli.doctor.report import Finding, fail, ok, warn
from mcp_workbench.cli.install import service
from mcp_workbench.cli.install.entries import Launch, Remote
from mcp_workbench.cli.install.parser import DEFAULT_NAME

_PINNED = re.compile(r"^mcp-workbench(?:@|==)(\S+)$")
_VERSION_PROBE = "from importlib.metadata import version; print(version('mcp-workbench'))"


async def _installed_version(python: str) -> str | None:
    try:
        with anyio.fail_after(30):
            done = await anyio.run_process([python, "-c", _VERSION_PROBE], check=False)
    except (OSError, TimeoutError):
        return None
    return (done.stdout.decode(errors="replace").strip() or None) if done.returncode == 0 else None


def _exists(command: str) -> bool:
    return Path(command).exists()


async def _judge_launch(status: service.EntryStatus, launch: Launch) -> Finding:
    reinstall = (
        f"run `mcp-workbench install {status.client}"
        + (" --scope project`" if status.scope == "project" else "`")
        + " to point it at this installation"
    )
    subject, details = status.client, {"path": str(status.path), "scope": status.scope, "command": launch.command}
    if not _exists(launch.command):
        return fail(
            "clients",
            f"{status.path}: starts {launch.command}, which does not exist",
            reinstall,
            subject=subject,
            details=details,
        )
    pinned = next((m[1] for arg in launch.args if (m := _PINNED.match(arg))), None)
    if pinned is not None:
        if pinned == __version__:
            return ok(
                "clients",
                f"runs mcp-workbench {pinned} through {Path(launch.command).name}",
                subject=subject,
                details=details,
            )
        return warn(
            "clients",
            f"pins mcp-workbench {pinned}; this is {__version__}",
            reinstall,
            subject=subject,
            details=details,
        )
    if launch.args[:2] == ("-m", "mcp_workbench"):
        version = await _installed_version(launch.command)
        if version is None:
            return fail(
                "clients", f"{launch.command} cannot import mcp_workbench", reinstall, subject=subject, details=details
            )
        if version != __version__:
            return warn(
                "clients",
                f"runs mcp-workbench {version} ({launch.command}); this is {__version__}",
                reinstall,
                subject=subject,
                details=details,
            )
        return ok(
            "clients", f"runs another installation of {version} ({launch.command})", subject=subject, details=details
        )
    return ok(
        "clients",
        f"runs {' '.join([launch.command, *launch.args])} (not a launcher doctor can judge)",
        subject=subject,
        details=details,
    )


async def clients(ctx: Context) -> list[Finding]:
    found = []
    for status in service.statuses(name=DEFAULT_NAME, host=ctx.host, project_dir=Path.cwd()):
        label = status.client if status.scope == "user" else f"{status.client} ({status.scope})"
        if status.state in ("absent", "no-file"):
            continue
        if status.state == "unreadable":
            found.append(
                fail(
                    "clients",
                    f"{status.path} cannot be read: {status.detail}",
                    f"fix the file; `mcp-workbench install {status.client}` edits it only once it parses",
                    subject=label,
                    details={"path": str(status.path)},
                )
            )
        elif isinstance(status.target, Remote):
            found.append(ok("clients", f"remote {status.target.url}", subject=label))
        elif status.state == "current":
            found.append(ok("clients", f"runs this installation ({status.path})", subject=label))
        elif isinstance(status.target, Launch):
            finding = await _judge_launch(status, status.target)
            found.append(Finding(finding.check, finding.status, finding.summary, finding.fix, label, finding.details))
        else:
            found.append(
                warn(
                    "clients",
                    f"{status.path}: {status.detail}",
                    f"run `mcp-workbench install {status.client}`",
                    subject=label,
                )
            )
    if not found:
        return [ok("clients", f"no client has a '{DEFAULT_NAME}' entry yet (add one: mcp-workbench install CLIENT)")]
    return found

"""The config file, the data directory, and the roots."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Any

from mcp_workbench.cli.doctor.context import Context
from mcp_workbench.cli.doctor.report import Finding, fail, ok, skip, warn
from mcp_workbench.settings import default_config_path

NOT_LOADED = "the configuration does not load (see the config check)"


async def config(ctx: Context) -> list[Finding]:
    where = str(ctx.config_path) if ctx.config_path else None
    problem = ctx.problem
    if problem is None:
        if where is None:
            return [ok("config", f"no config file: built-in defaults (it would be {default_config_path()})")]
        return [ok("config", f"{where} parses and validates", details={"path": where})]
    if problem.kind == "toml":
        at = f":{problem.line}:{problem.column}" if problem.line else ""
        line = f"line {problem.line} of " if problem.line else ""
        return [
            fail(
                "config",
                f"{where}{at}: not valid TOML ({problem.message.rsplit(': ', 1)[-1]})",
                f"correct the TOML syntax at {line}{where}; nothing else was checked against it",
                details={"path": where, "line": problem.line, "column": problem.column},
            )
        ]
    if problem.kind == "unreadable":
        return [fail("config", problem.message, "check the path given by --config or WORKBENCH_CONFIG")]
    origin = f" (config file: {where})"
    keys = [line.strip().removesuffix(origin) for line in problem.message.splitlines()[1:] if line.strip()]
    source = f" in {where}" if where else ""
    return [
        fail(
            "config",
            "; ".join(keys) or problem.message,
            f"correct these keys{source} (or the WORKBENCH_* variable or flag that sets them)",
            details={"path": where, "problems": keys},
        )
    ]


def _nearest_existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path(path.anchor)


def _probe_write(directory: Path) -> str | None:
    """None when a file can be created (and removed) in ``directory``, else why not."""
    try:
        fd, name = tempfile.mkstemp(prefix=".mcp-workbench-doctor-", dir=directory)
    except OSError as exc:
        return exc.strerror or str(exc)
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(name)
    return None


async def data_dir(ctx: Context) -> list[Finding]:
    if ctx.settings is None:
        return [skip("data-dir", NOT_LOADED)]
    path = ctx.settings.data_dir.expanduser().absolute()
    fix = "set data_dir (--data-dir, WORKBENCH_DATA_DIR or data_dir in the config file) to a writable directory"
    details = {"path": str(path)}
    if path.exists() and not path.is_dir():
        return [fail("data-dir", f"{path} is not a directory", fix, details=details)]
    if not path.exists():
        base = _nearest_existing(path)
        if not base.is_dir():
            return [fail("data-dir", f"{path} cannot be created: {base} is a file", fix, details=details)]
        problem = _probe_write(base)
        if problem:
            return [fail("data-dir", f"{path} cannot be created in {base}: {problem}", fix, details=details)]
        return [ok("data-dir", f"{path} (created at the first start)", details=details)]
    problem = _probe_write(path)
    if problem:
        return [fail("data-dir", f"{path} is not writable: {problem}", f"make it writable, or {fix}", details=details)]
    return [ok("data-dir", f"{path} is writable", details=details)]


def _configured_roots(ctx: Context) -> list[tuple[str, Path, bool]]:
    """(name, path, read_only) of each root: from the settings, or, when they do not load,
    from the file as written (a missing root is the usual reason they do not)."""
    if ctx.settings is not None:
        return [(n, r.path, r.read_only) for n, r in ctx.settings.files.roots.items()]
    files: Any = (ctx.config_data or {}).get("files")
    roots = files.get("roots") if isinstance(files, dict) else None
    found = []
    for name, root in (roots or {}).items() if isinstance(roots, dict) else ():
        if isinstance(root, dict) and isinstance(root.get("path"), str):
            found.append((str(name), Path(root["path"]), bool(root.get("read_only", False))))
    return found


async def roots(ctx: Context) -> list[Finding]:
    configured = _configured_roots(ctx)
    if not configured:
        if ctx.settings is None:
            return [skip("roots", NOT_LOADED)]
        return [ok("roots", "no roots: the file tools are off (add --root PATH or [files.roots.NAME] path = ...)")]
    where = f" in {ctx.config_path}" if ctx.config_path else ""
    found = []
    for name, raw, read_only in configured:
        path = raw.expanduser().absolute()
        details = {"path": str(path), "read_only": read_only}
        key = f"files.roots.{name}.path"
        if not path.exists():
            found.append(
                fail(
                    "roots",
                    f"{path} does not exist",
                    f"create it (mkdir -p {path}) or correct {key}{where}",
                    subject=name,
                    details=details,
                )
            )
            continue
        if not path.is_dir():
            found.append(
                fail("roots", f"{path} is not a directory", f"correct {key}{where}", subject=name, details=details)
            )
            continue
        if not os.access(path, os.R_OK | os.X_OK):
            found.append(
                fail(
                    "roots",
                    f"{path} cannot be read by this user",
                    "give this user read access to it",
                    subject=name,
                    details=details,
                )
            )
            continue
        if read_only:
            found.append(ok("roots", f"{path} (read-only: files_write refuses it)", subject=name, details=details))
        elif not os.access(path, os.W_OK):
            found.append(
                warn(
                    "roots",
                    f"{path} is configured writable but this user cannot write to it",
                    f"make it writable, or set read_only = true for [files.roots.{name}]",
                    subject=name,
                    details=details,
                )
            )
        else:
            found.append(ok("roots", f"{path} (read and write)", subject=name, details=details))
    return found

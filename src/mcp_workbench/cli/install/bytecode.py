"""Compile the installation's Python files to bytecode once, at install time.

A client starts the server cold, often with a short start-up window (Cline: 3 s). Without
``.pyc`` files every start compiles the imports again, about twice as slow; environments that set
``PYTHONDONTWRITEBYTECODE`` (or an installer that does not compile) never write them. So
``install`` compiles the launching interpreter's site-packages and our package, the equal of
``uv tool install --compile-bytecode``. It asks the launcher itself where they are, so the right
interpreter's cache tag is used; up-to-date files are skipped, so a second run is cheap.
"""

from __future__ import annotations

import os
import subprocess

from mcp_workbench.cli.install.entries import Launch

# Run by the launching interpreter: where its libraries and our package are, and whether a few
# heavy start-up modules already have their bytecode (then compiling is skipped: a re-run is instant).
_PROBE = """
import importlib.util, os, sysconfig
lib = sysconfig.get_paths()["purelib"]
ours = os.path.dirname(importlib.util.find_spec("mcp_workbench").origin)
print(lib)
print(ours)
heavy = [os.path.join(lib, *p.split("/")) for p in ("fastmcp/server/server.py", "pydantic/main.py", "mcp/__init__.py")]
heavy.append(os.path.join(ours, "server.py"))
done = all(os.path.exists(importlib.util.cache_from_source(f)) for f in heavy)
print("compiled" if done else "not-compiled")
"""


def compiles(launch: Launch) -> bool:
    """Whether the launch is a Python interpreter running our package (not, say, uvx)."""
    return launch.args[:2] == ("-m", "mcp_workbench")


def compile_installation(launch: Launch, timeout_s: float = 600) -> str:
    """Compile; returns what happened, in a few words."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    try:
        probe = subprocess.run(
            [launch.command, "-c", _PROBE], capture_output=True, text=True, timeout=60, env=env, check=True
        )
        *dirs, state = [line for line in probe.stdout.splitlines() if line.strip()]
        if state == "compiled":
            return "already compiled"
        done = subprocess.run(
            [launch.command, "-m", "compileall", "-q", "-j", "0", *dirs],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            env=env,
            check=False,
        )
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        return f"not compiled ({exc})"
    if done.returncode != 0:  # some files may be unwritable or not compile (test fixtures of libraries)
        lines = (done.stdout + done.stderr).strip().splitlines()
        return f"partly compiled ({lines[-1] if lines else f'compileall exited {done.returncode}'})"
    return "compiled"

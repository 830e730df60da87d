"""``mcp-workbench serve --transport http --workers N`` with the proposed fixes.

The same settings, the same ASGI factory (``mcp_workbench.asgi:create_app``) and the same
uvicorn options as ``mcp_workbench.cli.serve._serve_workers``; only the listening socket
differs: TCP_NODELAY on the shared socket, or with ``--reuseport`` one SO_REUSEPORT socket per
worker (see :mod:`bench.servers.nodelay`). It exists so the benchmark can show what the fix
is worth before it lands in src/.

    python -m bench.servers.workbench_workers --config FILE --port PORT --workers 2 [--reuseport]
"""

from __future__ import annotations

import os
import sys

from bench.servers.nodelay import run_reuseport_workers, run_workers
from mcp_workbench.asgi import SETTINGS_ENV
from mcp_workbench.cli import serve
from mcp_workbench.cli.main import build_parser, overrides_from
from mcp_workbench.platform.logging import configure_logging
from mcp_workbench.settings import load_settings


def main() -> None:
    argv = sys.argv[1:]
    reuseport = "--reuseport" in argv
    args = build_parser().parse_args(["serve", "--transport", "http", *(a for a in argv if a != "--reuseport")])
    settings = load_settings(args.config, **overrides_from(args))
    configure_logging(settings.log_level)
    os.environ[SETTINGS_ENV] = settings.model_dump_json()
    options = serve._uvicorn_options(settings)
    if reuseport:
        run_reuseport_workers("mcp_workbench.asgi:create_app", settings.http.workers, factory=True, **options)
    else:
        run_workers("mcp_workbench.asgi:create_app", factory=True, workers=settings.http.workers, **options)


if __name__ == "__main__":
    main()

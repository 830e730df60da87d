"""``mcp-workbench bundle``: an MCP Bundle (``.mcpb``) for Claude Desktop.

The bundle is of the ``uv`` server type (manifest 0.4): it carries this project's source, its
``pyproject.toml`` and its ``uv.lock``, and Claude Desktop starts it with
``uv run --project <bundle> --frozen --no-dev mcp-workbench serve ...``. uv installs exactly the
locked dependencies into a virtual environment inside the unpacked bundle on the first start
(from its cache when it has them: a machine that ran the project before starts it offline), so
the bundle stays small and platform-independent, unlike a ``python`` bundle, which would have to
carry compiled wheels (pydantic, SQLAlchemy's drivers, lxml) for every platform.

- :mod:`.project` — the source tree and its metadata (pyproject.toml);
- :mod:`.catalog` — the live catalog: the server built with every capability, listed in-process;
- :mod:`.manifest` — ``manifest.json`` from those two;
- :mod:`.icon` — the icon, drawn deterministically;
- :mod:`.archive` — a reproducible zip: the same inputs give the same bytes;
- :mod:`.command` / :mod:`.parser` — the argparse side.
"""

"""`python -m mcp_workbench` is the same as the `mcp-workbench` command."""

from mcp_workbench.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())

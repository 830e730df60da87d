"""Command-line entry points: ``mcp-workbench serve`` and friends."""

"""Benchmarks of mcp-workbench against its framework floor, the Python floor and its peers.

Run ``uv run python -m bench`` (or ``--quick``); see docs/BENCHMARKS.md. Nothing here is a
test: the suite measures and reports, it never passes or fails on a time.
"""

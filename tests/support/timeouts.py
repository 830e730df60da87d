"""Time limits (pytest-timeout) for the tests that need more than the suite's default.

The default in pyproject.toml fits in-process tests, which take seconds. Tests that start server
subprocesses, Node hosts or a long Hypothesis run take tens of seconds on a quiet machine and
several times that on a loaded 2-core one; they carry one of these marks (module, class or test).
The fuzz tests' limit depends on the Hypothesis profile: see tests/fuzz/profiles.py.
A limit only stops a test that hangs; no test measures time with it.
"""

from __future__ import annotations

import pytest

SUBPROCESSES = pytest.mark.timeout(300)
"""Tests that start servers (stdio or HTTP), PostgreSQL or Redis restarts, or CLI commands."""

PROPERTIES = pytest.mark.timeout(300)
"""In-process Hypothesis tests that run many examples."""

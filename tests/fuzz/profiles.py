"""Hypothesis settings for the fuzz tests: small and reproducible in CI, large at night.

- ``ci`` (default): 60 examples per tool, per input family, per protocol era; derandomized, so
  every CI run tries the same inputs and a failure reproduces with the same command.
- ``nightly``: 2,000 examples, randomized (a new seed each night finds new inputs).

Choose with ``HYPOTHESIS_PROFILE=nightly``. Neither profile keeps an example database, and the
storage directory Hypothesis uses for its caches is moved out of the repository (see
``tests/fuzz/conftest.py``).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

PROFILE_ENV = "HYPOTHESIS_PROFILE"

_COMMON = {
    "deadline": None,  # calls cross a real client and server; speed is not what is tested here
    "database": None,  # nothing written into the repository
    "print_blob": True,  # a failure prints the blob that replays it (@reproduce_failure)
    "suppress_health_check": [
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
        HealthCheck.large_base_example,
        HealthCheck.function_scoped_fixture,
    ],
}

settings.register_profile("ci", max_examples=60, derandomize=True, **_COMMON)
settings.register_profile("nightly", max_examples=2000, derandomize=False, **_COMMON)


def fuzz_settings() -> settings:
    """The profile named by ``$HYPOTHESIS_PROFILE`` (``ci`` when unset)."""
    name = os.environ.get(PROFILE_ENV, "ci")
    return settings.get_profile(name)  # an unknown name raises InvalidArgument: better than a silent default


def timeout_marks() -> list[pytest.MarkDecorator]:
    """The fuzz tests' time limit: one for the ``ci`` profile; none for another, so that a long
    run's ``--timeout`` on the command line applies (a mark would override it)."""
    return [pytest.mark.timeout(900)] if os.environ.get(PROFILE_ENV, "ci") == "ci" else []

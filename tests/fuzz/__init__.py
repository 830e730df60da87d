"""Fuzz tests. Hypothesis keeps its caches in a temporary directory, never in the repository."""

import atexit
import os
import shutil
import tempfile

from hypothesis.configuration import set_hypothesis_home_dir

if not os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
    _storage = tempfile.mkdtemp(prefix="hypothesis-")
    set_hypothesis_home_dir(_storage)
    atexit.register(shutil.rmtree, _storage, ignore_errors=True)

"""The analysis capability: the ``analyze`` tool, its loop, checks, judge and model-free brief."""

"""Servers the benchmark starts: the framework floor, the Python floor, the loopback web site."""

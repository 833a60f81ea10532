"""Benchmarks: a synthetic catalog generator (``make_catalog``) and a stage timer (``run``)."""

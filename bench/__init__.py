"""Benchmarks: the project against a bare baseline, same data, same run (see docs/benchmarks.md)."""

"""Benchmarks of the assistant: ``python -m bench.run_all`` (see bench/README.md)."""

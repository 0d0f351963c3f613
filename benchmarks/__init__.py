"""The project's benchmark (``python3 benchmarks/run.py``): see ``docs/benchmarks.md``."""

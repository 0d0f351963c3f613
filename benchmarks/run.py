#!/usr/bin/env python3
"""Entry point of the benchmark: ``python3 benchmarks/run.py CRATE_DIR [--runs N] ...`` (docs/benchmarks.md)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""pytest-rustimage: test a Rust project's container image the way its users depend on it."""

from __future__ import annotations

__version__ = "0.1.0"

"""What one image is made of: the :class:`ImageSpec` that settings resolve to, and its secret values.

A spec is plain data: the crate, the strategy, the engine's name, the binary and every setting a
build and its checks need. It is made by :mod:`pytest_rustimage.plugin.resolve` and read by everything in
``build/``; nothing here knows of pytest.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pytest_rustimage import names
from pytest_rustimage.crate import Binary, Crate
from pytest_rustimage.errors import ConfigError
from pytest_rustimage.recipe.strategies import STRATEGIES, Strategy


@dataclass(frozen=True)
class ImageSpec:
    """Everything one image build and its checks need."""

    crate: Crate
    strategy: str
    engine: str
    binary: Binary
    args: tuple[str, ...]
    expect_exit_code: int
    expect_stdout: str | None
    expect_linkage: str
    max_size: int
    max_wasted: int | None
    builder_image: str
    runtime_image: str
    vendor: bool
    build_args: Mapping[str, str]
    secret_build_args: tuple[str, ...]  # names; the values come from the environment at build time
    dockerfile: Path | None
    binary_path: str | None
    build_timeout: float
    run_timeout: float
    rebuild: bool
    cold_probe: bool = False  # the cache probe's baseline: a --no-cache build instead of the image's own
    named_binary: bool = False  # one of several binaries checked in one run (bin = "*" or a list): ids name it
    runtimes: tuple[names.Runtime, ...] = ()  # the linkage check's runtime matrix (docs/linkage.md)
    runtimes_listed: bool = False  # the user listed them: a runtime it would not load on fails linkage
    cache_edits: tuple[str, ...] = ("source",)  # the cache check's edit kinds (not in the key: same image)
    auditable: bool = False  # a generated strategy builds with `cargo auditable` (docs/sbom.md)
    reproducible: bool = False  # metadata asks for the reproducible check (not in the key: same image)

    @property
    def variant(self) -> str:
        """``STRATEGY-ENGINE``, as item ids show it (``runs[chef-docker]``); ``STRATEGY-ENGINE-BINARY``
        when several binaries are checked (``runs[chef-docker-rw-cli]``)."""
        return names.variant(self.strategy, self.engine, self.binary.name if self.named_binary else None)

    @property
    def traits(self) -> Strategy:
        """What the strategy is: generated or not, its dependency stage, its runtime."""
        return STRATEGIES[self.strategy]

    @property
    def what(self) -> str:
        """``CRATE (STRATEGY-ENGINE)``, as messages name the image."""
        return f"{self.crate.name} ({self.variant})"

    @property
    def key(self) -> tuple[str, ...]:
        """What makes two specs the same image within a session."""
        args = tuple(f"{k}={v}" for k, v in sorted(self.build_args.items()))
        args += tuple(f"secret:{name}" for name in self.secret_build_args)
        return (
            str(self.crate.manifest_path),
            self.strategy,
            self.engine,
            self.binary.name,
            self.builder_image,
            self.runtime_image,
            str(self.vendor),
            str(self.dockerfile),
            f"auditable={self.auditable}",
            *args,
        )


def secret_values(spec: ImageSpec) -> dict[str, str]:
    """The values of the spec's secret build args, from the environment (they are never stored)."""
    missing = [name for name in spec.secret_build_args if name not in os.environ]
    if missing:
        raise ConfigError(
            f"{spec.crate.manifest_path}: secret build arg(s) {', '.join(missing)} not set in the environment; "
            "export them before running pytest (they reach the build as build secrets, never as build args)"
        )
    return {name: os.environ[name] for name in spec.secret_build_args}

"""The plugin's settings, read once from the pytest config.

:class:`Settings` is made by :meth:`Settings.from_config` in ``pytest_configure``; after that nothing
touches pytest's config. What depends on a crate or a test (metadata, markers) is resolved per
image by :mod:`pytest_rustimage.plugin.resolve`. Precedence, highest first: command line > marker > Cargo
metadata > ini > defaults.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest

from pytest_rustimage.cachecheck.edits import parse_kinds
from pytest_rustimage.checks.registry import CHECK_NAMES, DEFAULT_CHECKS
from pytest_rustimage.engines import ALL, ENGINE_NAMES
from pytest_rustimage.errors import ConfigError
from pytest_rustimage.names import (
    DEFAULT_BUILDER,
    DEFAULT_RUNTIME,
    LOCAL_BUILDER,
    LOCAL_RUNTIME,
    NO_RUNTIMES,
    RUNTIME_NAMES,
    runtime,
)
from pytest_rustimage.plugin.options import (
    BASELINE_NAME,
    BASES_CHOICES,
    DEFAULT_BUILD_TIMEOUT,
    DEFAULT_ENGINE,
    DEFAULT_RUN_TIMEOUT,
)
from pytest_rustimage.recipe.strategies import strategy
from pytest_rustimage.report.baseline import Tolerance
from pytest_rustimage.report.parity import DEFAULT_TOLERANCE
from pytest_rustimage.units import parse_size, parse_tolerance

T = TypeVar("T")


def parse_seconds(value: Any, what: str) -> float:
    """A positive, finite number of seconds; ``what`` names the setting in the refusal."""
    if isinstance(value, bool):
        raise ConfigError(f"{what}: expected seconds, got {value!r}")
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{what}: expected seconds, got {value!r}") from None
    if not math.isfinite(seconds):
        raise ConfigError(f"{what}: expected a finite number of seconds, got {value!r}")
    if seconds <= 0:
        raise ConfigError(f"{what}: must be positive, got {value!r}")
    return seconds


def strategy_list(values: Sequence[str]) -> tuple[str, ...]:
    """Strategy names, comma-separated or one per value, each a known strategy."""
    names = tuple(n.strip() for v in values for n in v.split(",") if n.strip())
    for name in names:
        strategy(name)
    return names


def _checks(values: Sequence[str]) -> tuple[str, ...]:
    names = tuple(n.strip() for v in values for n in v.split(",") if n.strip())
    for name in names:
        if name not in CHECK_NAMES:
            raise ConfigError(f"unknown check {name!r}; choose from: {', '.join(CHECK_NAMES)}")
    return names or DEFAULT_CHECKS


def runtime_names(values: Any, local: bool = False) -> tuple[str, ...]:
    """Runtime names, comma-separated or one per value, each a friendly name or an image reference."""
    if isinstance(values, str) or not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
        raise ConfigError(f"runtimes must be a list of names, got {values!r}")
    found = tuple(dict.fromkeys(n.strip() for v in values for n in v.split(",") if n.strip()))
    if NO_RUNTIMES in found and len(found) > 1:
        raise ConfigError(f"{NO_RUNTIMES!r} turns the runtime matrix off: it cannot be listed with runtimes")
    for name in found:
        if name != NO_RUNTIMES and runtime(name, local=local) is None:
            raise ConfigError(
                f"unknown runtime {name!r}; choose from: {', '.join(RUNTIME_NAMES)}, "
                f"or give an image reference (NAME:TAG or REPOSITORY/NAME), or {NO_RUNTIMES} for no matrix"
            )
    return found


def _cli_kinds(value: str | None) -> tuple[str, ...]:
    """``--rust-image-cache-edits``: the kinds given (empty: not given)."""
    return () if value is None else parse_kinds(value, "--rust-image-cache-edits")


def _bases(value: Any) -> str:
    text = str(value).strip() or "official"
    if text not in BASES_CHOICES:
        raise ConfigError(f"unknown bases {text!r}; choose from: {', '.join(BASES_CHOICES)}")
    return text


def _cli_runtimes(values: Any) -> tuple[str, ...]:
    try:
        return runtime_names(list(values or ()))
    except ConfigError as exc:
        raise ConfigError(f"--rust-image-runtimes: {exc}") from None


def _floor(config: pytest.Config, ini_file: str) -> int:
    """``rust_image_size_tolerance_floor``: bytes; its refusal names the ini file and key."""
    value = str(config.getini("rust_image_size_tolerance_floor"))
    return parse_size(value, what=f"{ini_file}rust_image_size_tolerance_floor")


def _check_names(cli: str | None, from_ini: Callable[[], tuple[str, ...]], config: pytest.Config) -> dict[str, Any]:
    """The checks to collect (command line > ini > the default ones) and whether they were named."""
    checks = _checks([cli]) if cli else from_ini()
    return {"checks": checks, "checks_named": bool(cli or config.getini("rust_image_checks"))}


def _supply_chain(config: pytest.Config) -> dict[str, Any]:
    """``--rust-image-auditable`` / ``rust_image_auditable`` and ``--rust-image-sbom``."""
    sbom = config.getoption("rust_image_sbom")
    return {
        "cli_auditable": True if config.getoption("rust_image_auditable") else None,
        "ini_auditable": bool(config.getini("rust_image_auditable")),
        "sbom_dir": Path(sbom) if sbom else None,
    }


def engine_choice(name: str) -> str:
    """An engine name, or ``all``."""
    if name not in (*ENGINE_NAMES, ALL):
        raise ConfigError(f"unknown engine {name!r}; choose from: {', '.join((*ENGINE_NAMES, ALL))}")
    return name


def engines_of(name: str) -> tuple[str, ...]:
    """The engines an engine choice stands for (``all``: every one)."""
    return ENGINE_NAMES if name == ALL else (name,)


@dataclass(frozen=True)
class Settings:
    """Every setting that does not depend on the crate or the test, read once from the pytest config."""

    enabled: bool = False
    cli_strategies: tuple[str, ...] = ()
    ini_strategies: tuple[str, ...] = ()
    cli_engine: str | None = None
    ini_engine: str = DEFAULT_ENGINE
    require_engine: bool = False
    rebuild: bool = False
    cold_probe: bool = False
    cli_cache_edits: tuple[str, ...] = ()  # --rust-image-cache-edits (empty: not given)
    ini_cache_edits: tuple[str, ...] = ()  # rust_image_cache_edits (empty: not set)
    checks: tuple[str, ...] = DEFAULT_CHECKS
    checks_named: bool = False  # the checks were named (command line or ini): metadata adds no opt-in check
    cli_bin: str | None = None
    bases: str = "official"  # official images, or the local ones `bases` makes (rust_image_bases = local)
    builder_image: str = DEFAULT_BUILDER
    runtime_image: str = DEFAULT_RUNTIME
    vendor: bool = False
    cli_auditable: bool | None = None  # --rust-image-auditable (None: not given)
    ini_auditable: bool = False  # rust_image_auditable
    sbom_dir: Path | None = None  # --rust-image-sbom
    default_crate: Path | None = None
    build_timeout: float = DEFAULT_BUILD_TIMEOUT
    run_timeout: float = DEFAULT_RUN_TIMEOUT
    parity_tolerance: float = DEFAULT_TOLERANCE
    baseline_path: Path = Path(BASELINE_NAME)
    update_baseline: bool = False
    size_tolerance: Tolerance = field(default_factory=Tolerance)
    gate_base: bool = False  # rust_image_gate_base: a change of runtime base is gated too
    cli_runtimes: tuple[str, ...] = ()  # --rust-image-runtimes
    ini_runtimes: tuple[str, ...] = ()  # rust_image_runtimes
    report_path: Path | None = None
    html_path: Path | None = None
    rootdir: Path = field(default_factory=Path.cwd)

    @classmethod
    def from_config(cls, config: pytest.Config) -> Settings:
        option = config.getoption
        ini_file = f"{config.inipath}: " if config.inipath else ""

        def ini(name: str, read: Callable[[Any], T]) -> T:
            """An ini value as ``read`` makes it; its refusal names the ini file and key."""
            try:
                return read(config.getini(name))
            except ConfigError as exc:
                raise ConfigError(f"{ini_file}{name}: {exc}") from None

        enabled = option("rust_image")
        require = option("rust_image_require_engine")
        crate = str(config.getini("rust_image_crate")).strip()
        rootdir = Path(config.rootpath)
        home = Path(config.inipath).parent if config.inipath else rootdir
        baseline = option("rust_image_baseline") or str(config.getini("rust_image_baseline")).strip()
        report = option("rust_image_report")
        cli_checks = option("rust_image_checks")
        bases = option("rust_image_bases") or ini("rust_image_bases", _bases)
        local = bases == "local"
        return cls(
            enabled=bool(config.getini("rust_image")) if enabled is None else True,
            cli_strategies=strategy_list(option("rust_image_strategy") or ()),
            ini_strategies=ini("rust_image_strategy", strategy_list),
            cli_engine=engine_choice(option("rust_image_engine")) if option("rust_image_engine") else None,
            ini_engine=ini("rust_image_engine", lambda v: engine_choice(str(v).strip() or DEFAULT_ENGINE)),
            require_engine=bool(config.getini("rust_image_require_engine")) if require is None else True,
            rebuild=bool(option("rust_image_rebuild")),
            cold_probe=bool(option("rust_image_cold_probe")) or bool(config.getini("rust_image_cold_probe")),
            cli_cache_edits=_cli_kinds(option("rust_image_cache_edits")),
            ini_cache_edits=ini("rust_image_cache_edits", lambda v: parse_kinds(v, "") if v else ()),
            **_check_names(cli_checks, lambda: ini("rust_image_checks", _checks), config),
            cli_bin=option("rust_image_bin"),
            bases=bases,
            builder_image=str(config.getini("rust_image_builder")).strip()
            or (LOCAL_BUILDER if local else DEFAULT_BUILDER),
            runtime_image=str(config.getini("rust_image_runtime")).strip()
            or (LOCAL_RUNTIME if local else DEFAULT_RUNTIME),
            vendor=bool(config.getini("rust_image_vendor")),
            **_supply_chain(config),
            default_crate=(rootdir / crate) if crate else None,
            build_timeout=parse_seconds(
                config.getini("rust_image_build_timeout"), f"{ini_file}rust_image_build_timeout"
            ),
            run_timeout=parse_seconds(config.getini("rust_image_run_timeout"), f"{ini_file}rust_image_run_timeout"),
            parity_tolerance=ini("rust_image_parity_tolerance", lambda v: parse_tolerance(str(v), what="tolerance")),
            baseline_path=(home / baseline) if baseline else home / BASELINE_NAME,
            update_baseline=bool(option("rust_image_update_baseline")),
            size_tolerance=Tolerance(
                relative=ini("rust_image_size_tolerance", lambda v: parse_tolerance(str(v), what="tolerance")),
                absolute=_floor(config, ini_file),
            ),
            gate_base=bool(config.getini("rust_image_gate_base")),
            cli_runtimes=_cli_runtimes(option("rust_image_runtimes")),
            ini_runtimes=ini("rust_image_runtimes", runtime_names),
            report_path=Path(report) if report else None,
            html_path=Path(option("rust_image_html")) if option("rust_image_html") else None,
            rootdir=rootdir,
        )

    def differences(self) -> list[str]:
        """Settings that differ from the defaults, for the report header."""
        default = Settings()
        shown = []
        for name in (
            "cli_strategies",
            "ini_strategies",
            "cli_engine",
            "ini_engine",
            "require_engine",
            "rebuild",
            "cold_probe",
            "cli_cache_edits",
            "ini_cache_edits",
            "checks",
            "cli_bin",
            "bases",
            "builder_image",
            "runtime_image",
            "vendor",
            "cli_auditable",
            "ini_auditable",
            "build_timeout",
            "run_timeout",
            "cli_runtimes",
            "ini_runtimes",
        ):
            value = getattr(self, name)
            if value != getattr(default, name):
                text = ",".join(value) if isinstance(value, tuple) else str(value)
                shown.append(f"{name.replace('cli_', '').replace('ini_', '')}={text}")
        return shown

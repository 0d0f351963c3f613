"""Every setting, read in one place.

Precedence, highest first: command line > marker > Cargo metadata
(``[package.metadata.rust-image]`` over ``[workspace.metadata.rust-image]``)
> ini (``[tool.pytest.ini_options]``) > defaults.

:class:`Settings` is made once from the pytest config; after that nothing
touches pytest. :func:`resolve` turns settings, a crate and a marker's
arguments into the :class:`ImageSpec` list a crate is checked with.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest

from pytest_rustimage.baseline import Tolerance, key
from pytest_rustimage.crate import METADATA_KEY, Binary, Crate, read_crate
from pytest_rustimage.dockerfile import DEFAULT_BUILDER, DEFAULT_RUNTIME, STRATEGIES
from pytest_rustimage.engines import ALL, ENGINE_NAMES
from pytest_rustimage.errors import ConfigError
from pytest_rustimage.locate import file_key_line
from pytest_rustimage.parity import DEFAULT_TOLERANCE, parse_tolerance
from pytest_rustimage.sizes import parse_size

T = TypeVar("T")
BASELINE_NAME = "rust-image-baseline.json"
DEFAULT_STRATEGY = "chef"
DEFAULT_ENGINE = "docker"
DEFAULT_BUDGETS = {"static": "25MiB", "chef": "200MiB", "naive": "200MiB", "dummy-main": "200MiB", "dockerfile": "1GiB"}
DEFAULT_ARGS = ("--version",)
DEFAULT_BUILD_TIMEOUT = 1800.0
DEFAULT_RUN_TIMEOUT = 60.0
LINKAGES = ("static", "dynamic", "any")
CHECK_NAMES = ("build", "runs", "size", "linkage", "cache", "parity")
MARKER_KEYS = ("crate", "strategy", "bin", "engine")
METADATA_KEYS = (
    "strategy",
    "bin",
    "args",
    "expect-exit-code",
    "expect-stdout",
    "max-size",
    "expect-linkage",
    "dockerfile",
    "build-args",
    "secret-build-args",
    "binary-path",
    "run-timeout",
    "max-wasted",
)

INI: tuple[tuple[str, str, str, Any], ...] = (
    # (name, type, help, default)
    ("rust_image", "bool", "build and check images without passing --rust-image", False),
    ("rust_image_strategy", "args", f"strategies ({', '.join(STRATEGIES)})", []),
    ("rust_image_checks", "args", f"built-in checks to collect (default: all of {', '.join(CHECK_NAMES)})", []),
    ("rust_image_engine", "string", f"engine ({', '.join(ENGINE_NAMES)}, or {ALL})", DEFAULT_ENGINE),
    ("rust_image_require_engine", "bool", "fail, not skip, when the engine is unreachable", False),
    ("rust_image_builder", "string", "builder base image", DEFAULT_BUILDER),
    ("rust_image_runtime", "string", "runtime base image (chef strategy)", DEFAULT_RUNTIME),
    ("rust_image_vendor", "bool", "vendor dependencies on the host (builds need no network)", False),
    ("rust_image_crate", "string", "crate used by rust_image when no marker names one", ""),
    ("rust_image_build_timeout", "string", "seconds one image build may take", str(DEFAULT_BUILD_TIMEOUT)),
    ("rust_image_run_timeout", "string", "seconds one container run may take", str(DEFAULT_RUN_TIMEOUT)),
    ("rust_image_baseline", "string", "size baseline file (default: rust-image-baseline.json beside the config)", ""),
    ("rust_image_size_tolerance", "string", "how much an image may grow past its baseline", "5%"),
    ("rust_image_size_tolerance_floor", "string", "growth always allowed, however small the image", "512KiB"),
    ("rust_image_parity_tolerance", "string", "how far image sizes of two engines may differ", "1%"),
)


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("rust-image", "Rust container images (pytest-rustimage)")
    group.addoption(
        "--rust-image",
        action="store_true",
        default=None,
        help="build the images of the crates given and run their checks",
    )
    group.addoption(
        "--rust-image-strategy",
        action="append",
        default=None,
        metavar="NAME[,NAME]",
        help=f"build strategy, repeatable or comma-separated: {', '.join(STRATEGIES)}",
    )
    group.addoption(
        "--rust-image-engine",
        default=None,
        metavar="NAME",
        help=f"container engine: {', '.join(ENGINE_NAMES)}, or {ALL} (each, plus parity checks)",
    )
    group.addoption(
        "--rust-image-require-engine",
        action="store_true",
        default=None,
        help="fail instead of skipping when the engine is not reachable",
    )
    group.addoption(
        "--rust-image-rebuild",
        action="store_true",
        default=False,
        help="build again even when an image with the same inputs exists",
    )
    group.addoption("--rust-image-baseline", default=None, metavar="PATH", help="size baseline file")
    group.addoption(
        "--rust-image-update-baseline",
        action="store_true",
        default=False,
        help="write the measured sizes into the baseline file instead of failing on growth",
    )
    group.addoption("--rust-image-report", default=None, metavar="PATH.json", help="write every measured fact as JSON")
    group.addoption("--rust-image-html", default=None, metavar="PATH.html", help="write an HTML report with charts")
    group.addoption(
        "--rust-image-checks",
        default=None,
        metavar="NAME[,NAME]",
        help=f"built-in checks to collect (default: all of {', '.join(CHECK_NAMES)})",
    )
    group.addoption("--rust-image-bin", default=None, metavar="NAME", help="the binary to check")
    for name, kind, help_text, default in INI:
        parser.addini(name, help_text, type=kind, default=default)  # type: ignore[arg-type]


def _seconds(value: Any, what: str) -> float:
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


def _split(values: Sequence[str]) -> tuple[str, ...]:
    names = tuple(n.strip() for v in values for n in v.split(",") if n.strip())
    for name in names:
        if name not in STRATEGIES:
            raise ConfigError(f"unknown strategy {name!r}; choose from: {', '.join(STRATEGIES)}")
    return names


def _checks(values: Sequence[str]) -> tuple[str, ...]:
    names = tuple(n.strip() for v in values for n in v.split(",") if n.strip())
    for name in names:
        if name not in CHECK_NAMES:
            raise ConfigError(f"unknown check {name!r}; choose from: {', '.join(CHECK_NAMES)}")
    return names or CHECK_NAMES


def _engine(name: str) -> str:
    if name not in (*ENGINE_NAMES, ALL):
        raise ConfigError(f"unknown engine {name!r}; choose from: {', '.join((*ENGINE_NAMES, ALL))}")
    return name


def _expand(name: str) -> tuple[str, ...]:
    return ENGINE_NAMES if name == ALL else (name,)


@dataclass(frozen=True)
class Settings:
    enabled: bool = False
    cli_strategies: tuple[str, ...] = ()
    ini_strategies: tuple[str, ...] = ()
    cli_engine: str | None = None
    ini_engine: str = DEFAULT_ENGINE
    require_engine: bool = False
    rebuild: bool = False
    checks: tuple[str, ...] = CHECK_NAMES
    cli_bin: str | None = None
    builder_image: str = DEFAULT_BUILDER
    runtime_image: str = DEFAULT_RUNTIME
    vendor: bool = False
    default_crate: Path | None = None
    build_timeout: float = DEFAULT_BUILD_TIMEOUT
    run_timeout: float = DEFAULT_RUN_TIMEOUT
    parity_tolerance: float = DEFAULT_TOLERANCE
    baseline_path: Path = Path(BASELINE_NAME)
    update_baseline: bool = False
    size_tolerance: Tolerance = field(default_factory=Tolerance)
    report_path: Path | None = None
    html_path: Path | None = None
    rootdir: Path = field(default_factory=Path.cwd)

    @classmethod
    def from_config(cls, config: pytest.Config) -> Settings:
        def option(name: str) -> Any:
            return config.getoption(name)

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
        return cls(
            enabled=bool(config.getini("rust_image")) if enabled is None else True,
            cli_strategies=_split(option("rust_image_strategy") or ()),
            ini_strategies=ini("rust_image_strategy", _split),
            cli_engine=_engine(option("rust_image_engine")) if option("rust_image_engine") else None,
            ini_engine=ini("rust_image_engine", lambda v: _engine(str(v).strip() or DEFAULT_ENGINE)),
            require_engine=bool(config.getini("rust_image_require_engine")) if require is None else True,
            rebuild=bool(option("rust_image_rebuild")),
            checks=_checks([cli_checks]) if cli_checks else ini("rust_image_checks", _checks),
            cli_bin=option("rust_image_bin"),
            builder_image=str(config.getini("rust_image_builder")).strip() or DEFAULT_BUILDER,
            runtime_image=str(config.getini("rust_image_runtime")).strip() or DEFAULT_RUNTIME,
            vendor=bool(config.getini("rust_image_vendor")),
            default_crate=(rootdir / crate) if crate else None,
            build_timeout=_seconds(config.getini("rust_image_build_timeout"), f"{ini_file}rust_image_build_timeout"),
            run_timeout=_seconds(config.getini("rust_image_run_timeout"), f"{ini_file}rust_image_run_timeout"),
            parity_tolerance=ini("rust_image_parity_tolerance", lambda v: parse_tolerance(str(v), what="tolerance")),
            baseline_path=(home / baseline) if baseline else home / BASELINE_NAME,
            update_baseline=bool(option("rust_image_update_baseline")),
            size_tolerance=Tolerance(
                relative=ini("rust_image_size_tolerance", lambda v: parse_tolerance(str(v), what="tolerance")),
                absolute=parse_size(
                    str(config.getini("rust_image_size_tolerance_floor")),
                    what=f"{ini_file}rust_image_size_tolerance_floor",
                ),
            ),
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
            "checks",
            "cli_bin",
            "builder_image",
            "runtime_image",
            "vendor",
            "build_timeout",
            "run_timeout",
        ):
            value = getattr(self, name)
            if value != getattr(default, name):
                text = ",".join(value) if isinstance(value, tuple) else str(value)
                shown.append(f"{name.replace('cli_', '').replace('ini_', '')}={text}")
        return shown


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

    @property
    def variant(self) -> str:
        return f"{self.strategy}-{self.engine}"

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
            *args,
        )


def baseline_key(spec: ImageSpec) -> str:
    """The image's entry in the size baseline: CRATE/STRATEGY/ENGINE."""
    return key(spec.crate.name, spec.strategy, spec.engine)


def _check_marker(marker: Mapping[str, Any]) -> None:
    unknown = sorted(set(marker) - set(MARKER_KEYS))
    if unknown:
        raise ConfigError(
            f"rust_image marker: unknown argument(s) {', '.join(unknown)}; it takes {', '.join(MARKER_KEYS)}"
        )


def _where(crate: Crate, key: str | None = None) -> str:
    """Where a ``rust-image`` metadata key is written: ``PATH:LINE [TABLE]`` when a scan finds it."""
    places = (
        (crate.manifest_path, f"package.metadata.{METADATA_KEY}"),
        (crate.root / "Cargo.toml", f"workspace.metadata.{METADATA_KEY}"),
    )
    for path, table in places:
        line = file_key_line(path, f"{table}.{key}" if key else table)
        if line is not None:
            return f"{path}:{line} [{table}]"
    return f"{crate.manifest_path} [metadata.{METADATA_KEY}]"


def _check_metadata(crate: Crate) -> Mapping[str, Any]:
    meta = crate.metadata
    unknown = sorted(set(meta) - set(METADATA_KEYS))
    if unknown:
        raise ConfigError(
            f"{_where(crate, unknown[0])}: unknown key(s) {', '.join(unknown)}; "
            f"known keys: {', '.join(METADATA_KEYS)}"
        )
    return meta


def _strategy_names(value: Any, where: str) -> tuple[str, ...]:
    """A ``strategy`` setting: one name or a list of names, each known, at least one."""
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list | tuple) or not all(isinstance(n, str) for n in names):
        raise ConfigError(f"{where}: strategy must be a name or a list of names, got {value!r}")
    try:
        found = _split(names)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    if not found:
        raise ConfigError(f"{where}: strategy names no strategy; choose from: {', '.join(STRATEGIES)}")
    return found


def strategies_for(settings: Settings, crate: Crate, marker: Mapping[str, Any]) -> tuple[str, ...]:
    meta = _check_metadata(crate)
    if settings.cli_strategies:
        return settings.cli_strategies
    # an empty string leaves the choice to the next source; an empty list is refused
    if marker.get("strategy") not in (None, ""):
        return _strategy_names(marker["strategy"], "rust_image marker")
    if meta.get("strategy") not in (None, ""):
        return _strategy_names(meta["strategy"], _where(crate, "strategy"))
    return settings.ini_strategies or (DEFAULT_STRATEGY,)


def engines_for(settings: Settings, marker: Mapping[str, Any]) -> tuple[str, ...]:
    if settings.cli_engine:
        return _expand(settings.cli_engine)
    if marker.get("engine"):
        return _expand(_engine(str(marker["engine"])))
    return _expand(settings.ini_engine)


def crate_path(settings: Settings, marker: Mapping[str, Any]) -> Path:
    if marker.get("crate"):
        return settings.rootdir / str(marker["crate"])
    if settings.default_crate is not None:
        return settings.default_crate
    if (settings.rootdir / "Cargo.toml").is_file():
        return settings.rootdir
    raise ConfigError(
        "no crate to build: pass crate= to @pytest.mark.rust_image, set the ini key "
        "rust_image_crate, or run from a folder with a Cargo.toml"
    )


def resolve(
    settings: Settings, crate: Crate, strategy: str, engine: str, marker: Mapping[str, Any] | None = None
) -> ImageSpec:
    """The spec of one image: ``crate`` built with ``strategy`` on ``engine``."""
    marker = marker or {}
    _check_marker(marker)
    meta = _check_metadata(crate)
    bin_name = settings.cli_bin or marker.get("bin") or meta.get("bin")
    if bin_name is not None and not isinstance(bin_name, str):
        where = _where(crate, "bin") if "bin" in meta and not marker.get("bin") else "rust_image marker"
        raise ConfigError(f"{where}: bin must be the name of a binary in a string, got {bin_name!r}")
    args = meta.get("args", list(DEFAULT_ARGS))
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise ConfigError(f"{_where(crate, 'args')}: args must be a list of strings, got {args!r}")
    code = meta.get("expect-exit-code", 0)
    if not isinstance(code, int) or isinstance(code, bool):
        raise ConfigError(f"{_where(crate, 'expect-exit-code')}: expect-exit-code must be an integer, got {code!r}")
    stdout = meta.get("expect-stdout")
    if stdout is not None and not isinstance(stdout, str):
        raise ConfigError(f"{_where(crate, 'expect-stdout')}: expect-stdout must be a string, got {stdout!r}")
    linkage = meta.get("expect-linkage", "static" if strategy == "static" else "any")
    if linkage not in LINKAGES:
        raise ConfigError(
            f"{_where(crate, 'expect-linkage')}: expect-linkage must be one of {', '.join(LINKAGES)}, got {linkage!r}"
        )
    build_args = _build_args(meta.get("build-args", {}), crate)
    secrets = _secret_names(meta.get("secret-build-args", []), build_args, crate)
    binary_path = meta.get("binary-path")
    if binary_path is not None and not (isinstance(binary_path, str) and binary_path.startswith("/")):
        raise ConfigError(
            f"{_where(crate, 'binary-path')}: binary-path must be the absolute path of the binary in the image "
            f'in a string, such as "/usr/local/bin/NAME", got {binary_path!r}'
        )
    dockerfile = None
    if strategy == "dockerfile":
        dockerfile = _find_dockerfile(crate, meta.get("dockerfile"))
    return ImageSpec(
        crate=crate,
        strategy=strategy,
        engine=engine,
        binary=crate.select_binary(str(bin_name) if bin_name else None),
        args=tuple(args),
        expect_exit_code=code,
        expect_stdout=stdout,
        expect_linkage=linkage,
        max_size=_budget(meta.get("max-size"), strategy, crate),
        max_wasted=(
            parse_size(meta["max-wasted"], what=f"{_where(crate, 'max-wasted')} max-wasted")
            if "max-wasted" in meta
            else None
        ),
        builder_image=settings.builder_image,
        runtime_image=settings.runtime_image,
        vendor=settings.vendor,
        build_args=build_args,
        secret_build_args=secrets,
        dockerfile=dockerfile,
        binary_path=binary_path,
        build_timeout=settings.build_timeout,
        run_timeout=(
            _seconds(meta["run-timeout"], f"{_where(crate, 'run-timeout')} run-timeout")
            if "run-timeout" in meta
            else settings.run_timeout
        ),
        rebuild=settings.rebuild,
    )


def _secret_names(value: Any, build_args: Mapping[str, Any], crate: Crate) -> tuple[str, ...]:
    """``secret-build-args``: names of build arguments whose values are secrets, read from the
    environment when building and handed to the builder as build secrets, never as build args."""
    if not isinstance(value, list) or not all(isinstance(v, str) and _ENV_NAME.fullmatch(v) for v in value):
        raise ConfigError(
            f"{_where(crate, 'secret-build-args')}: secret-build-args must be a list of environment variable "
            f"names, got {value!r}"
        )
    both = sorted(set(value) & set(build_args))
    if both:
        raise ConfigError(
            f"{_where(crate, 'secret-build-args')}: {', '.join(both)} is both in build-args and in "
            "secret-build-args; a secret's value "
            "must not be written in Cargo.toml: keep it only in secret-build-args and set it in the environment"
        )
    return tuple(sorted(set(value)))


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _build_args(value: Any, crate: Crate) -> dict[str, str]:
    """``build-args``: a table of names to strings (numbers and booleans are written out)."""
    if not isinstance(value, Mapping):
        raise ConfigError(f"{_where(crate, 'build-args')}: build-args must be a table, got {value!r}")
    for name, arg in value.items():
        if not isinstance(arg, str | int | float) or isinstance(arg, bool):
            raise ConfigError(
                f"{_where(crate, 'build-args')}: build-args.{name} must be a string or a number, got {arg!r}"
            )
    return {str(k): str(v) for k, v in value.items()}


def _budget(value: Any, strategy: str, crate: Crate) -> int:
    """``max-size``: one size for every strategy, or a table of sizes by strategy."""
    where = _where(crate, "max-size")
    if isinstance(value, Mapping):
        unknown = sorted(set(value) - set(STRATEGIES))
        if unknown:
            raise ConfigError(
                f"{where}: max-size names unknown strategies: {', '.join(unknown)}; "
                f"choose from: {', '.join(STRATEGIES)}"
            )
        value = value.get(strategy)
    if value is None:
        value = DEFAULT_BUDGETS[strategy]
    return parse_size(value, what=f"{where} max-size")


def _find_dockerfile(crate: Crate, configured: Any) -> Path:
    folder = crate.manifest_path.parent
    if configured is not None and not (isinstance(configured, str) and configured.strip()):
        raise ConfigError(
            f"{_where(crate, 'dockerfile')}: dockerfile must be a file name in a string, got {configured!r}"
        )
    names = [configured] if configured else ["Dockerfile", "Containerfile"]
    for name in names:
        if (folder / name).is_file():
            return folder / name
    raise ConfigError(
        f"{folder}: the dockerfile strategy needs {' or '.join(names)} beside Cargo.toml; "
        "add one, or choose another strategy"
    )


def specs_for(settings: Settings, path: Path, marker: Mapping[str, Any] | None = None) -> list[ImageSpec]:
    """Every (strategy, engine) spec for the crate at ``path``."""
    marker = marker or {}
    crate = read_crate(path)
    return [
        resolve(settings, crate, strategy, engine, marker)
        for strategy in strategies_for(settings, crate, marker)
        for engine in engines_for(settings, marker)
    ]

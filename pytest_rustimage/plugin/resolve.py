"""From settings, a crate and a test's marker to the :class:`ImageSpec` list the crate is checked with.

Per image, the precedence is: command line > marker > Cargo metadata
(``[package.metadata.rust-image]`` over ``[workspace.metadata.rust-image]``) > ini > defaults.
Every value from a marker or from Cargo metadata is checked here, and a refusal names where it was
written (``PATH:LINE [TABLE]`` for metadata).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from pytest_rustimage.cachecheck.edits import DEFAULT_KINDS, parse_kinds
from pytest_rustimage.checks.registry import METADATA_KEYS as CHECKS_METADATA_KEYS
from pytest_rustimage.crate import METADATA_KEY, Crate, read_crate
from pytest_rustimage.crate.locate import file_key_line
from pytest_rustimage.errors import ConfigError
from pytest_rustimage.names import NO_RUNTIMES, RUNTIME_NAMES, runtime
from pytest_rustimage.plugin.settings import (
    Settings,
    engine_choice,
    engines_of,
    parse_seconds,
    runtime_names,
    strategy_list,
)
from pytest_rustimage.recipe.spec import ImageSpec
from pytest_rustimage.recipe.strategies import DEFAULT_STRATEGY, STRATEGIES
from pytest_rustimage.recipe.strategies import NAMES as STRATEGY_NAMES
from pytest_rustimage.units import parse_size

MARKER_KEYS = ("crate", "strategy", "bin", "engine")
DEFAULT_ARGS = ("--version",)
LINKAGES = ("static", "dynamic", "any")
GENERAL_METADATA_KEYS = ("strategy", "bin", "dockerfile", "build-args", "secret-build-args", "binary-path", "auditable")
METADATA_KEYS = (*GENERAL_METADATA_KEYS, *CHECKS_METADATA_KEYS)  # and each check's own (checks/registry.py)


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
            f"{_where(crate, unknown[0])}: unknown key(s) {', '.join(unknown)}; known keys: {', '.join(METADATA_KEYS)}"
        )
    return meta


def _strategy_names(value: Any, where: str) -> tuple[str, ...]:
    """A ``strategy`` setting: one name or a list of names, each known, at least one."""
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list | tuple) or not all(isinstance(n, str) for n in names):
        raise ConfigError(f"{where}: strategy must be a name or a list of names, got {value!r}")
    try:
        found = strategy_list(names)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    if not found:
        raise ConfigError(f"{where}: strategy names no strategy; choose from: {', '.join(STRATEGY_NAMES)}")
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
        return engines_of(settings.cli_engine)
    if marker.get("engine"):
        return engines_of(engine_choice(str(marker["engine"])))
    return engines_of(settings.ini_engine)


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


ALL_BINARIES = "*"


def binaries_for(
    settings: Settings, crate: Crate, marker: Mapping[str, Any] | None = None
) -> tuple[tuple[str | None, ...], bool]:
    """The binaries to check and whether they are named one by one in the ids.

    ``bin`` unset: ``(None,)`` (the crate's one binary, or its ``default-run``); a name: that one;
    ``"*"``: every binary of the crate or workspace; a list (``--rust-image-bin=a,b``): those, each
    checked to exist. With ``"*"`` or a list every item id names its binary.
    """
    marker = marker or {}
    meta = _check_metadata(crate)
    value = settings.cli_bin or marker.get("bin") or meta.get("bin")
    where = (
        "--rust-image-bin" if settings.cli_bin else "rust_image marker" if marker.get("bin") else _where(crate, "bin")
    )
    if isinstance(value, str) and "," in value:
        value = [part.strip() for part in value.split(",") if part.strip()]
    if value is None:
        return (None,), False
    if value == ALL_BINARIES:
        names = tuple(binary.name for binary in crate.binaries)
        if not names:
            crate.select_binary(None)  # the crate's own "no binary target" error
        return names, True
    if isinstance(value, str):
        return (value,), False
    if isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
        for name in value:
            crate.select_binary(name)  # an unknown one: the list of known binaries
        return tuple(dict.fromkeys(value)), True
    raise ConfigError(f'{where}: bin must be the name of a binary, "*" or a list of names, got {value!r}')


def resolve(
    settings: Settings,
    crate: Crate,
    strategy: str,
    engine: str,
    marker: Mapping[str, Any] | None = None,
    *,
    binary: str | None = None,
    named: bool = False,
) -> ImageSpec:
    """The spec of one image: ``crate`` built with ``strategy`` on ``engine`` (``binary``: the one of
    :func:`binaries_for` to check, ``named``: whether its ids name it)."""
    marker = marker or {}
    _check_marker(marker)
    meta = _check_metadata(crate)
    bin_name = _binary_name(settings, crate, marker, meta, binary)
    args, code, stdout = _run_expectations(meta, crate)
    linkage = _linkage(meta, strategy, crate)
    build_args = _build_args(meta.get("build-args", {}), crate)
    secrets = _secret_names(meta.get("secret-build-args", []), build_args, crate)
    binary_path = _binary_path(meta, crate)
    dockerfile = None if STRATEGIES[strategy].generated else _find_dockerfile(crate, meta.get("dockerfile"))
    return ImageSpec(
        crate=crate,
        strategy=strategy,
        engine=engine,
        binary=crate.select_binary(bin_name),
        args=args,
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
            parse_seconds(meta["run-timeout"], f"{_where(crate, 'run-timeout')} run-timeout")
            if "run-timeout" in meta
            else settings.run_timeout
        ),
        rebuild=settings.rebuild,
        cold_probe=settings.cold_probe,
        cache_edits=_cache_edits(settings, meta, crate),
        auditable=_auditable(settings, meta, crate),
        reproducible=_flag(meta, "reproducible", crate),
        named_binary=named,
        **_runtimes(settings, meta, crate),
    )


def _runtimes(settings: Settings, meta: Mapping[str, Any], crate: Crate) -> dict[str, Any]:
    """``runtimes``: the runtime bases the binary must load on (command line > metadata > ini); none
    listed: the plugin's own bases, shown and never gated (docs/linkage.md)."""
    local = settings.bases == "local"
    listed = settings.cli_runtimes
    if not listed and "runtimes" in meta:
        try:
            listed = runtime_names(meta["runtimes"])
        except ConfigError as exc:
            raise ConfigError(f"{_where(crate, 'runtimes')}: {exc}") from None
    listed = listed or settings.ini_runtimes
    if listed == (NO_RUNTIMES,):  # the matrix turned off: nothing asked, nothing gated
        return {"runtimes": (), "runtimes_listed": False}
    chosen = listed or tuple(RUNTIME_NAMES)
    found = tuple(runtime(name, local=local) for name in chosen)
    return {"runtimes": tuple(r for r in found if r is not None), "runtimes_listed": bool(listed)}


def _auditable(settings: Settings, meta: Mapping[str, Any], crate: Crate) -> bool:
    """``auditable``: build with `cargo auditable` (command line > metadata > ini)."""
    if settings.cli_auditable is not None:
        return settings.cli_auditable
    return _flag(meta, "auditable", crate) if "auditable" in meta else settings.ini_auditable


def _flag(meta: Mapping[str, Any], key: str, crate: Crate) -> bool:
    """A true-or-false metadata key (absent: false)."""
    value = meta.get(key, False)
    if not isinstance(value, bool):
        raise ConfigError(f"{_where(crate, key)}: {key} must be true or false, got {value!r}")
    return value


def _cache_edits(settings: Settings, meta: Mapping[str, Any], crate: Crate) -> tuple[str, ...]:
    """The cache check's edit kinds: command line > ``cache-edits`` in Cargo metadata > ini > ``source``."""
    if settings.cli_cache_edits:
        return settings.cli_cache_edits
    if "cache-edits" in meta:
        return parse_kinds(meta["cache-edits"], _where(crate, "cache-edits"))
    return settings.ini_cache_edits or DEFAULT_KINDS


def _binary_name(
    settings: Settings, crate: Crate, marker: Mapping[str, Any], meta: Mapping[str, Any], binary: str | None
) -> str | None:
    """The one binary an image checks: ``binary`` (from :func:`binaries_for`), else as set, else None."""
    bin_name = binary or settings.cli_bin or marker.get("bin") or meta.get("bin")
    if (bin_name is not None and not isinstance(bin_name, str)) or bin_name == ALL_BINARIES:
        where = _where(crate, "bin") if "bin" in meta and not marker.get("bin") else "rust_image marker"
        raise ConfigError(f"{where}: bin must be the name of one binary here, got {bin_name!r}")
    return str(bin_name) if bin_name else None


def _run_expectations(meta: Mapping[str, Any], crate: Crate) -> tuple[tuple[str, ...], int, str | None]:
    """``args``, ``expect-exit-code`` and ``expect-stdout``: how the binary is run and what it must do."""
    args = meta.get("args", list(DEFAULT_ARGS))
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise ConfigError(f"{_where(crate, 'args')}: args must be a list of strings, got {args!r}")
    code = meta.get("expect-exit-code", 0)
    if not isinstance(code, int) or isinstance(code, bool):
        raise ConfigError(f"{_where(crate, 'expect-exit-code')}: expect-exit-code must be an integer, got {code!r}")
    stdout = meta.get("expect-stdout")
    if stdout is not None and not isinstance(stdout, str):
        raise ConfigError(f"{_where(crate, 'expect-stdout')}: expect-stdout must be a string, got {stdout!r}")
    return tuple(args), code, stdout


def _linkage(meta: Mapping[str, Any], strategy: str, crate: Crate) -> str:
    """``expect-linkage``, else the strategy's default."""
    linkage = meta.get("expect-linkage", STRATEGIES[strategy].default_linkage)
    if linkage not in LINKAGES:
        raise ConfigError(
            f"{_where(crate, 'expect-linkage')}: expect-linkage must be one of {', '.join(LINKAGES)}, got {linkage!r}"
        )
    return str(linkage)


def _binary_path(meta: Mapping[str, Any], crate: Crate) -> str | None:
    """``binary-path``: where the crate's own Dockerfile puts the binary, if it says."""
    binary_path = meta.get("binary-path")
    if binary_path is not None and not (isinstance(binary_path, str) and binary_path.startswith("/")):
        raise ConfigError(
            f"{_where(crate, 'binary-path')}: binary-path must be the absolute path of the binary in the image "
            f'in a string, such as "/usr/local/bin/NAME", got {binary_path!r}'
        )
    return binary_path


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
        unknown = sorted(set(value) - set(STRATEGY_NAMES))
        if unknown:
            raise ConfigError(
                f"{where}: max-size names unknown strategies: {', '.join(unknown)}; "
                f"choose from: {', '.join(STRATEGY_NAMES)}"
            )
        value = value.get(strategy)
    if value is None:
        value = STRATEGIES[strategy].default_budget
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


class Variant(NamedTuple):
    """One image a crate is checked with: a strategy, an engine and the binary (None: the crate's one)."""

    strategy: str
    engine: str
    binary: str | None


def variants_for(
    settings: Settings, crate: Crate, marker: Mapping[str, Any] | None = None
) -> tuple[list[Variant], bool]:
    """Every variant ``crate`` is checked with (binaries x strategies x engines, in that order of
    nesting), and whether their ids name the binary (see :func:`binaries_for`)."""
    marker = marker or {}
    binaries, named = binaries_for(settings, crate, marker)
    strategies = strategies_for(settings, crate, marker)
    engines = engines_for(settings, marker)
    return [Variant(s, e, b) for b in binaries for s in strategies for e in engines], named


def specs_for(settings: Settings, crate: Crate | Path, marker: Mapping[str, Any] | None = None) -> list[ImageSpec]:
    """The spec of every variant of ``crate`` (a crate read already, or the path of one)."""
    marker = marker or {}
    crate = read_crate(crate) if isinstance(crate, Path) else crate
    variants, named = variants_for(settings, crate, marker)
    return [resolve(settings, crate, s, e, marker, binary=b, named=named) for s, e, b in variants]

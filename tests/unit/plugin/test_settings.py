"""Settings precedence and ``resolve``: defaults, Cargo metadata, the marker, and refusals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pytest_rustimage.crate import Binary, Crate, Package, read_crate
from pytest_rustimage.errors import ConfigError, CrateError
from pytest_rustimage.plugin.resolve import METADATA_KEYS, crate_path, engines_for, resolve, specs_for, strategies_for
from pytest_rustimage.plugin.settings import Settings, strategy_list

MIB = 1024 * 1024


def make_crate(
    folder: Path,
    metadata: dict[str, Any] | None = None,
    binaries: tuple[str, ...] = ("p",),
    default_run: str | None = None,
) -> Crate:
    manifest = folder / "Cargo.toml"
    package = Package(
        name="p",
        version="0.1.0",
        manifest_path=manifest,
        default_run=default_run,
        binaries=tuple(Binary(name, "p", folder / "src/bin" / f"{name}.rs") for name in binaries),
    )
    return Crate(
        manifest_path=manifest,
        root=folder,
        name="p",
        packages=(package,),
        metadata=metadata or {},
        has_lockfile=False,
    )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(rootdir=tmp_path)


# --- resolve: defaults -------------------------------------------------------------------------


def test_resolve_defaults_chef(tmp_path: Path, settings: Settings) -> None:
    crate = make_crate(tmp_path)
    spec = resolve(settings, crate, "chef", "docker")
    assert spec.crate is crate
    assert (spec.strategy, spec.engine, spec.variant) == ("chef", "docker", "chef-docker")
    assert spec.binary == crate.binaries[0]
    assert spec.args == ("--version",)
    assert spec.expect_exit_code == 0
    assert spec.expect_stdout is None
    assert spec.expect_linkage == "any"
    assert spec.max_size == 200 * MIB
    assert spec.builder_image == "rust:1-bookworm"
    assert spec.runtime_image == "debian:bookworm-slim"
    assert spec.vendor is False
    assert spec.build_args == {}
    assert spec.dockerfile is None
    assert spec.binary_path is None
    assert spec.build_timeout == 1800.0
    assert spec.run_timeout == 60.0
    assert spec.rebuild is False


def test_resolve_defaults_static(tmp_path: Path, settings: Settings) -> None:
    spec = resolve(settings, make_crate(tmp_path), "static", "docker")
    assert spec.expect_linkage == "static"
    assert spec.max_size == 25 * MIB
    assert spec.args == ("--version",)
    assert spec.expect_exit_code == 0
    assert spec.variant == "static-docker"


def test_resolve_dockerfile(tmp_path: Path, settings: Settings) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    spec = resolve(settings, make_crate(tmp_path), "dockerfile", "docker")
    assert spec.dockerfile == tmp_path / "Dockerfile"
    assert spec.max_size == 1024 * MIB
    assert spec.expect_linkage == "any"


def test_resolve_dockerfile_falls_back_to_containerfile(tmp_path: Path, settings: Settings) -> None:
    (tmp_path / "Containerfile").write_text("FROM scratch\n")
    assert resolve(settings, make_crate(tmp_path), "dockerfile", "docker").dockerfile == tmp_path / "Containerfile"


def test_resolve_configured_dockerfile(tmp_path: Path, settings: Settings) -> None:
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker/Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    crate = make_crate(tmp_path, {"dockerfile": "docker/Dockerfile", "binary-path": "/app/p"})
    spec = resolve(settings, crate, "dockerfile", "docker")
    assert spec.dockerfile == tmp_path / "docker/Dockerfile"
    assert spec.binary_path == "/app/p"


def test_resolve_dockerfile_strategy_without_dockerfile(tmp_path: Path, settings: Settings) -> None:
    with pytest.raises(ConfigError) as info:
        resolve(settings, make_crate(tmp_path), "dockerfile", "docker")
    assert str(info.value) == (
        f"{tmp_path}: the dockerfile strategy needs Dockerfile or Containerfile beside Cargo.toml; "
        "add one, or choose another strategy"
    )


def test_resolve_configured_dockerfile_missing(tmp_path: Path, settings: Settings) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    with pytest.raises(ConfigError) as info:
        resolve(settings, make_crate(tmp_path, {"dockerfile": "build/Dockerfile"}), "dockerfile", "docker")
    assert str(info.value).startswith(f"{tmp_path}: the dockerfile strategy needs build/Dockerfile beside Cargo.toml;")


def test_dockerfile_is_not_looked_for_by_other_strategies(tmp_path: Path, settings: Settings) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    assert resolve(settings, make_crate(tmp_path), "chef", "docker").dockerfile is None


def test_resolve_takes_settings(tmp_path: Path) -> None:
    settings = Settings(
        builder_image="local/builder:1",
        runtime_image="local/runtime:1",
        vendor=True,
        rebuild=True,
        build_timeout=99.0,
        run_timeout=7.0,
        rootdir=tmp_path,
    )
    spec = resolve(settings, make_crate(tmp_path), "static", "docker")
    assert (spec.builder_image, spec.runtime_image) == ("local/builder:1", "local/runtime:1")
    assert (spec.vendor, spec.rebuild) == (True, True)
    assert (spec.build_timeout, spec.run_timeout) == (99.0, 7.0)


# --- resolve: metadata -------------------------------------------------------------------------


def test_resolve_metadata_overrides(tmp_path: Path, settings: Settings) -> None:
    crate = make_crate(
        tmp_path,
        {
            "args": ["serve", "--check"],
            "expect-exit-code": 3,
            "expect-stdout": "hello 0.1.0",
            "max-size": "1.5MB",
            "expect-linkage": "dynamic",
            "run-timeout": 5,
            "build-args": {"GREETING": "hi", "N": 2},
        },
    )
    for strategy in ("chef", "static"):
        spec = resolve(settings, crate, strategy, "docker")
        assert spec.args == ("serve", "--check")
        assert spec.expect_exit_code == 3
        assert spec.expect_stdout == "hello 0.1.0"
        assert spec.max_size == 1_500_000
        assert spec.expect_linkage == "dynamic"
        assert spec.run_timeout == 5.0
        assert spec.build_args == {"GREETING": "hi", "N": "2"}


def test_resolve_empty_args(tmp_path: Path, settings: Settings) -> None:
    assert resolve(settings, make_crate(tmp_path, {"args": []}), "chef", "docker").args == ()


def test_resolve_max_size_as_int(tmp_path: Path, settings: Settings) -> None:
    assert resolve(settings, make_crate(tmp_path, {"max-size": 123456}), "chef", "docker").max_size == 123456


def test_resolve_max_size_by_strategy(tmp_path: Path, settings: Settings) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    crate = make_crate(tmp_path, {"max-size": {"static": "5MiB", "chef": "150MiB"}})
    assert resolve(settings, crate, "static", "docker").max_size == 5 * MIB
    assert resolve(settings, crate, "chef", "docker").max_size == 150 * MIB
    # a strategy the table does not name keeps its default budget
    assert resolve(settings, crate, "dockerfile", "docker").max_size == 1024 * MIB


def test_resolve_max_size_table_with_unknown_strategy(tmp_path: Path, settings: Settings) -> None:
    crate = make_crate(tmp_path, {"max-size": {"static": "5MiB", "musl": "1MiB"}})
    with pytest.raises(ConfigError, match="max-size names unknown strategies: musl"):
        resolve(settings, crate, "static", "docker")


def test_resolve_with_metadata_read_from_a_workspace(tmp_path: Path, settings: Settings) -> None:
    (tmp_path / "m/src").mkdir(parents=True)
    (tmp_path / "Cargo.toml").write_text(
        '[workspace]\nmembers = ["m"]\n\n[workspace.metadata.rust-image]\nmax-size = "10MiB"\nargs = ["-h"]\n'
    )
    (tmp_path / "m/Cargo.toml").write_text(
        '[package]\nname = "m"\nversion = "0.1.0"\nedition = "2021"\n\n'
        '[package.metadata.rust-image]\nmax-size = "2MiB"\n'
    )
    (tmp_path / "m/src/main.rs").write_text("fn main() {}\n")
    spec = resolve(settings, read_crate(tmp_path / "m", use_cargo=False), "static", "docker")
    assert spec.max_size == 2 * MIB
    assert spec.args == ("-h",)
    assert spec.binary.name == "m"


# --- resolve: refusals -------------------------------------------------------------------------


def test_unknown_metadata_key(tmp_path: Path, settings: Settings) -> None:
    crate = make_crate(tmp_path, {"max_size": "1MiB", "strategy": "chef", "typo": 1})
    with pytest.raises(ConfigError) as info:
        resolve(settings, crate, "chef", "docker")
    message = str(info.value)
    assert message.startswith(f"{tmp_path / 'Cargo.toml'} [metadata.rust-image]: unknown key(s) max_size, typo;")
    assert message.endswith("known keys: " + ", ".join(METADATA_KEYS))
    for key in (
        "strategy",
        "bin",
        "args",
        "expect-exit-code",
        "expect-stdout",
        "max-size",
        "expect-linkage",
        "dockerfile",
        "build-args",
        "binary-path",
        "run-timeout",
    ):
        assert key in message
    # strategies_for checks the keys too
    with pytest.raises(ConfigError, match="unknown key"):
        strategies_for(settings, crate, {})


@pytest.mark.parametrize("args", ["--version", ["--version", 1], [["-V"]], {"a": "b"}, None])
def test_args_must_be_a_list_of_strings(tmp_path: Path, settings: Settings, args: Any) -> None:
    with pytest.raises(ConfigError) as info:
        resolve(settings, make_crate(tmp_path, {"args": args}), "chef", "docker")
    assert str(info.value) == (
        f"{tmp_path / 'Cargo.toml'} [metadata.rust-image]: args must be a list of strings, got {args!r}"
    )


@pytest.mark.parametrize("code", ["0", True, 1.0, None])
def test_expect_exit_code_must_be_an_integer(tmp_path: Path, settings: Settings, code: Any) -> None:
    with pytest.raises(ConfigError) as info:
        resolve(settings, make_crate(tmp_path, {"expect-exit-code": code}), "chef", "docker")
    assert str(info.value).endswith(f"expect-exit-code must be an integer, got {code!r}")


def test_expect_stdout_must_be_a_string(tmp_path: Path, settings: Settings) -> None:
    with pytest.raises(ConfigError, match="expect-stdout must be a string, got 5"):
        resolve(settings, make_crate(tmp_path, {"expect-stdout": 5}), "chef", "docker")


@pytest.mark.parametrize("linkage", ["static-pie", "Static", "musl", ""])
def test_bad_expect_linkage(tmp_path: Path, settings: Settings, linkage: str) -> None:
    with pytest.raises(ConfigError) as info:
        resolve(settings, make_crate(tmp_path, {"expect-linkage": linkage}), "chef", "docker")
    assert str(info.value).endswith(f"expect-linkage must be one of static, dynamic, any, got {linkage!r}")


@pytest.mark.parametrize("linkage", ["static", "dynamic", "any"])
def test_good_expect_linkage(tmp_path: Path, settings: Settings, linkage: str) -> None:
    spec = resolve(settings, make_crate(tmp_path, {"expect-linkage": linkage}), "static", "docker")
    assert spec.expect_linkage == linkage


@pytest.mark.parametrize("size", ["25M", "lots", "-1", "", True, -5, {"static": "25M"}])
def test_bad_max_size(tmp_path: Path, settings: Settings, size: Any) -> None:
    with pytest.raises(ConfigError) as info:
        resolve(settings, make_crate(tmp_path, {"max-size": size}), "static", "docker")
    assert str(info.value).startswith(f"{tmp_path / 'Cargo.toml'} [metadata.rust-image] max-size: ")


@pytest.mark.parametrize("size", [25_000_000.0, ["25MiB"]])
def test_max_size_of_another_type_is_a_config_error(tmp_path: Path, settings: Settings, size: Any) -> None:
    with pytest.raises(ConfigError, match="max-size"):
        resolve(settings, make_crate(tmp_path, {"max-size": size}), "static", "docker")


@pytest.mark.parametrize("timeout", [0, -1, "abc", None, float("nan"), float("inf"), "inf"])
def test_bad_run_timeout(tmp_path: Path, settings: Settings, timeout: Any) -> None:
    with pytest.raises(ConfigError, match="run-timeout: "):
        resolve(settings, make_crate(tmp_path, {"run-timeout": timeout}), "chef", "docker")


def test_build_args_must_be_a_table(tmp_path: Path, settings: Settings) -> None:
    with pytest.raises(ConfigError, match="build-args must be a table"):
        resolve(settings, make_crate(tmp_path, {"build-args": ["A=1"]}), "chef", "docker")


@pytest.mark.parametrize("value", [["x"], {"a": 1}, True])
def test_build_arg_values_must_be_strings_or_numbers(tmp_path: Path, settings: Settings, value: Any) -> None:
    with pytest.raises(ConfigError) as info:
        resolve(settings, make_crate(tmp_path, {"build-args": {"A": "1", "B": value}}), "chef", "docker")
    assert str(info.value).endswith(f"build-args.B must be a string or a number, got {value!r}")


@pytest.mark.parametrize("value", [7, [], [1], True])
def test_bin_must_be_a_name_a_star_or_a_list_of_names(tmp_path: Path, settings: Settings, value: Any) -> None:
    with pytest.raises(ConfigError) as info:
        specs_for(settings, make_crate(tmp_path, {"bin": value}))
    assert str(info.value) == (
        f"{tmp_path / 'Cargo.toml'} [metadata.rust-image]: bin must be the name of a binary, "
        f'"*" or a list of names, got {value!r}'
    )
    if value:  # an empty marker value is no value
        with pytest.raises(ConfigError, match='rust_image marker: bin must be the name of a binary, "\\*" or a list'):
            specs_for(settings, make_crate(tmp_path), {"bin": value})


@pytest.mark.parametrize("value", ["app/p", 5, ""])
def test_binary_path_must_be_absolute(tmp_path: Path, settings: Settings, value: Any) -> None:
    with pytest.raises(ConfigError) as info:
        resolve(settings, make_crate(tmp_path, {"binary-path": value}), "chef", "docker")
    assert str(info.value).endswith(
        f'binary-path must be the absolute path of the binary in the image in a string, such as "/usr/local/bin/NAME", '
        f"got {value!r}"
    )


@pytest.mark.parametrize("value", [5, ["Dockerfile"], ""])
def test_dockerfile_must_be_a_file_name(tmp_path: Path, settings: Settings, value: Any) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    with pytest.raises(ConfigError) as info:
        resolve(settings, make_crate(tmp_path, {"dockerfile": value}), "dockerfile", "docker")
    assert str(info.value).endswith(f"dockerfile must be a file name in a string, got {value!r}")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([], "strategy names no strategy; choose from: chef, static, incremental, naive, dummy-main, dockerfile"),
        (5, "strategy must be a name or a list of names, got 5"),
        (["static", 5], "strategy must be a name or a list of names, got ['static', 5]"),
        ({"a": 1}, "strategy must be a name or a list of names, got {'a': 1}"),
        ("nix", "unknown strategy 'nix'; choose from: chef, static, incremental, naive, dummy-main, dockerfile"),
    ],
)
def test_strategy_setting_of_a_wrong_type(tmp_path: Path, settings: Settings, value: Any, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        strategies_for(settings, make_crate(tmp_path, {"strategy": value}), {})
    assert str(info.value) == f"{tmp_path / 'Cargo.toml'} [metadata.rust-image]: {message}"
    with pytest.raises(ConfigError) as info:
        strategies_for(settings, make_crate(tmp_path), {"strategy": value})
    assert str(info.value) == f"rust_image marker: {message}"


def test_metadata_errors_name_the_line(tmp_path: Path, settings: Settings) -> None:
    """With a real manifest, a refused metadata value is shown at its line, in the table that holds it."""
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "main.rs").write_text("fn main() {}\n")
    manifest = tmp_path / "Cargo.toml"
    manifest.write_text(
        '[package]\nname = "p"\nversion = "0.1.0"\n\n[package.metadata.rust-image]\n'
        'expect-stdout = "p"\nmax-size = "25M"\nrun-timeout = -1\n'
    )
    crate = read_crate(tmp_path, use_cargo=False)
    with pytest.raises(ConfigError) as info:
        resolve(settings, crate, "static", "docker")
    where = f"{manifest.resolve()}:7 [package.metadata.rust-image]"
    assert str(info.value).startswith(f"{where} max-size: cannot read '25M' as a size")


def test_workspace_metadata_errors_name_the_root_manifest_line(tmp_path: Path, settings: Settings) -> None:
    member = tmp_path / "m"
    (member / "src").mkdir(parents=True)
    (member / "src" / "main.rs").write_text("fn main() {}\n")
    (member / "Cargo.toml").write_text('[package]\nname = "m"\nversion = "0.1.0"\n')
    (tmp_path / "Cargo.toml").write_text('[workspace]\nmembers = ["m"]\n\n[workspace.metadata.rust-image]\nargs = 1\n')
    crate = read_crate(member, use_cargo=False)
    with pytest.raises(ConfigError) as info:
        resolve(settings, crate, "static", "docker")
    assert str(info.value) == (
        f"{tmp_path.resolve() / 'Cargo.toml'}:5 [workspace.metadata.rust-image]: args must be a list of strings, got 1"
    )


def test_unknown_marker_argument(tmp_path: Path, settings: Settings) -> None:
    with pytest.raises(ConfigError) as info:
        resolve(settings, make_crate(tmp_path), "chef", "docker", {"crate": "x", "strategies": "chef", "binary": "p"})
    assert str(info.value) == (
        "rust_image marker: unknown argument(s) binary, strategies; it takes crate, strategy, bin, engine"
    )


# --- binary precedence -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cli", "marker", "meta", "expected"),
    [
        ("c", "b", "a", "c"),
        (None, "b", "a", "b"),
        (None, None, "a", "a"),
        ("c", None, "a", "c"),
        ("c", "b", None, "c"),
        (None, "b", None, "b"),
    ],
)
def test_bin_precedence(tmp_path: Path, cli: str | None, marker: str | None, meta: str | None, expected: str) -> None:
    crate = make_crate(tmp_path, {"bin": meta} if meta else {}, binaries=("a", "b", "c"))
    marker_args = {"bin": marker} if marker else {}
    spec = resolve(Settings(cli_bin=cli, rootdir=tmp_path), crate, "chef", "docker", marker_args)
    assert spec.binary.name == expected


def test_bin_from_default_run(tmp_path: Path, settings: Settings) -> None:
    crate = make_crate(tmp_path, binaries=("a", "b"), default_run="b")
    assert resolve(settings, crate, "chef", "docker").binary.name == "b"


def test_bin_unknown_or_ambiguous(tmp_path: Path, settings: Settings) -> None:
    crate = make_crate(tmp_path, {"bin": "zzz"}, binaries=("a", "b"))
    with pytest.raises(CrateError, match=r"no binary named 'zzz'; the binaries are: a \(package p\), b \(package p\)"):
        resolve(settings, crate, "chef", "docker")
    with pytest.raises(CrateError, match="several binaries and none chosen"):
        resolve(settings, make_crate(tmp_path, binaries=("a", "b")), "chef", "docker")


# --- strategies, engines, crate path ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("cli", "marker", "meta", "ini", "expected"),
    [
        (("static",), "dockerfile", "chef", ("chef",), ("static",)),
        (("static", "chef"), None, None, (), ("static", "chef")),
        ((), "dockerfile", "static", ("chef",), ("dockerfile",)),
        ((), "chef,static", None, (), ("chef", "static")),
        ((), None, "static", ("chef",), ("static",)),
        ((), None, "static, dockerfile", (), ("static", "dockerfile")),
        ((), None, None, ("static", "dockerfile"), ("static", "dockerfile")),
        ((), None, None, (), ("chef",)),
        ((), "", "", (), ("chef",)),
    ],
)
def test_strategies_precedence(
    tmp_path: Path,
    cli: tuple[str, ...],
    marker: str | None,
    meta: str | None,
    ini: tuple[str, ...],
    expected: tuple[str, ...],
) -> None:
    settings = Settings(cli_strategies=cli, ini_strategies=ini, rootdir=tmp_path)
    crate = make_crate(tmp_path, {"strategy": meta} if meta is not None else {})
    marker_args = {"strategy": marker} if marker is not None else {}
    assert strategies_for(settings, crate, marker_args) == expected


@pytest.mark.parametrize(("marker", "meta"), [("musl", None), (None, "distroless"), ("chef,Static", None)])
def test_strategies_refuse_unknown(tmp_path: Path, settings: Settings, marker: str | None, meta: str | None) -> None:
    crate = make_crate(tmp_path, {"strategy": meta} if meta else {})
    with pytest.raises(
        ConfigError,
        match=r"unknown strategy '.*'; choose from: chef, static, incremental, naive, dummy-main, dockerfile",
    ):
        strategies_for(settings, crate, {"strategy": marker} if marker else {})


def test_engines_for(tmp_path: Path) -> None:
    assert engines_for(Settings(rootdir=tmp_path), {}) == ("docker",)
    assert engines_for(Settings(rootdir=tmp_path), {"engine": "docker"}) == ("docker",)
    assert engines_for(Settings(ini_engine="from-ini", rootdir=tmp_path), {}) == ("from-ini",)
    assert engines_for(Settings(ini_engine="from-ini", rootdir=tmp_path), {"engine": "docker"}) == ("docker",)
    assert engines_for(Settings(cli_engine="from-cli", rootdir=tmp_path), {"engine": "docker"}) == ("from-cli",)
    assert engines_for(Settings(rootdir=tmp_path), {"engine": "podman"}) == ("podman",)
    assert engines_for(Settings(rootdir=tmp_path), {"engine": "all"}) == ("docker", "podman")
    assert engines_for(Settings(cli_engine="all", rootdir=tmp_path), {"engine": "docker"}) == ("docker", "podman")
    with pytest.raises(ConfigError, match="unknown engine 'nerdctl'; choose from: docker, podman, all"):
        engines_for(Settings(rootdir=tmp_path), {"engine": "nerdctl"})


def test_crate_path_from_marker(tmp_path: Path) -> None:
    settings = Settings(default_crate=tmp_path / "default", rootdir=tmp_path)
    assert crate_path(settings, {"crate": "sample_crates/hello"}) == tmp_path / "sample_crates/hello"


def test_crate_path_from_ini(tmp_path: Path) -> None:
    (tmp_path / "Cargo.toml").write_text('[package]\nname = "root"\n')
    settings = Settings(default_crate=tmp_path / "default", rootdir=tmp_path)
    assert crate_path(settings, {}) == tmp_path / "default"
    assert crate_path(settings, {"crate": ""}) == tmp_path / "default"


def test_crate_path_from_rootdir(tmp_path: Path) -> None:
    (tmp_path / "Cargo.toml").write_text('[package]\nname = "root"\n')
    assert crate_path(Settings(rootdir=tmp_path), {}) == tmp_path


def test_crate_path_nothing_names_a_crate(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub/Cargo.toml").write_text('[package]\nname = "nested"\n')
    with pytest.raises(ConfigError) as info:
        crate_path(Settings(rootdir=tmp_path), {})
    assert str(info.value) == (
        "no crate to build: pass crate= to @pytest.mark.rust_image, set the ini key "
        "rust_image_crate, or run from a folder with a Cargo.toml"
    )


# --- strategy_list ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([], ()),
        (["chef"], ("chef",)),
        (["chef,static"], ("chef", "static")),
        (["chef, static", "dockerfile"], ("chef", "static", "dockerfile")),
        ([" static ,, ", ""], ("static",)),
        (("static", "chef"), ("static", "chef")),
    ],
)
def test_split(values: list[str], expected: tuple[str, ...]) -> None:
    assert strategy_list(values) == expected


@pytest.mark.parametrize(
    ("values", "bad"), [(["bogus"], "bogus"), (["chef,Chef"], "Chef"), (["chef;static"], "chef;static")]
)
def test_split_refuses_unknown(values: list[str], bad: str) -> None:
    with pytest.raises(ConfigError) as info:
        strategy_list(values)
    assert (
        str(info.value)
        == f"unknown strategy {bad!r}; choose from: chef, static, incremental, naive, dummy-main, dockerfile"
    )


# --- Settings ----------------------------------------------------------------------------------


def test_settings_differences(tmp_path: Path) -> None:
    assert Settings(rootdir=tmp_path).differences() == []
    changed = Settings(cli_strategies=("chef", "static"), vendor=True, run_timeout=5.0, rootdir=tmp_path)
    assert changed.differences() == ["strategies=chef,static", "vendor=True", "run_timeout=5.0"]

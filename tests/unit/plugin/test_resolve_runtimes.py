"""The linkage check's runtimes: friendly names or image references, where they come from, and refusals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pytest_rustimage.errors import ConfigError
from pytest_rustimage.names import DEFAULT_RUNTIME, LOCAL_CC_RUNTIME, LOCAL_RUNTIME, RUNTIME_NAMES, runtime
from pytest_rustimage.plugin.resolve import resolve
from pytest_rustimage.plugin.settings import Settings, runtime_names
from tests.unit.plugin.test_settings import make_crate


def names_of(spec: Any) -> list[str]:
    return [r.name for r in spec.runtimes]


def test_a_friendly_name_is_the_local_base_or_the_official_image_first() -> None:
    local = runtime("bookworm-slim", local=True)
    official = runtime("bookworm-slim", local=False)
    assert local is not None and official is not None
    assert local.refs == (LOCAL_RUNTIME, DEFAULT_RUNTIME) and official.refs == (DEFAULT_RUNTIME, LOCAL_RUNTIME)
    bullseye = runtime("bullseye-slim", local=True)
    assert bullseye is not None and bullseye.refs[0] == "pytest-rustimage/runtime:bullseye-slim"
    assert "bases --runtime-suite bullseye" in bullseye.make
    cc = runtime("cc-bookworm", local=True)
    assert cc is not None and cc.refs[0] == LOCAL_CC_RUNTIME
    ref = runtime("registry.example/team/base:1", local=True)
    assert ref is not None and ref.refs == ("registry.example/team/base:1",) and "docker pull" in ref.make
    for bad in ("bullseye", "", "has space:1", ":x", "/x"):
        assert runtime(bad, local=True) is None, bad


def test_an_unknown_runtime_is_a_usage_error_listing_the_valid_ones() -> None:
    assert runtime_names(["bookworm-slim, bullseye-slim", "debian:trixie-slim", "bookworm-slim"]) == (
        "bookworm-slim",
        "bullseye-slim",
        "debian:trixie-slim",
    )
    with pytest.raises(ConfigError) as info:
        runtime_names(["bookworm-slim", "buster"])
    assert "unknown runtime 'buster'; choose from: " + ", ".join(RUNTIME_NAMES) in str(info.value)
    assert "image reference" in str(info.value)
    with pytest.raises(ConfigError, match="a list of names"):
        runtime_names("bookworm-slim")


def test_none_listed_means_the_plugins_own_bases_shown_and_not_gated(tmp_path: Path) -> None:
    spec = resolve(Settings(rootdir=tmp_path, bases="local"), make_crate(tmp_path), "chef", "docker")
    assert names_of(spec) == list(RUNTIME_NAMES) and not spec.runtimes_listed
    assert spec.runtimes[0].refs[0] == LOCAL_RUNTIME


def test_listed_runtimes_gate_the_command_line_over_metadata_over_ini(tmp_path: Path) -> None:
    crate = make_crate(tmp_path, {"runtimes": ["bullseye-slim", "x/y:1"]})
    ini = Settings(rootdir=tmp_path, ini_runtimes=("cc-bookworm",))
    spec = resolve(ini, crate, "chef", "docker")
    assert names_of(spec) == ["bullseye-slim", "x/y:1"] and spec.runtimes_listed
    spec = resolve(
        Settings(rootdir=tmp_path, ini_runtimes=("cc-bookworm",), cli_runtimes=("bookworm-slim",)),
        crate,
        "chef",
        "docker",
    )
    assert names_of(spec) == ["bookworm-slim"] and spec.runtimes_listed
    spec = resolve(ini, make_crate(tmp_path), "chef", "docker")
    assert names_of(spec) == ["cc-bookworm"] and spec.runtimes_listed


@pytest.mark.parametrize("value", [["bookworm-slim", "stretch"], "bookworm-slim", [1]])
def test_a_bad_runtimes_in_metadata_names_where_it_is_written(tmp_path: Path, value: Any) -> None:
    (tmp_path / "Cargo.toml").write_text(
        f'[package]\nname = "p"\n\n[package.metadata.rust-image]\nruntimes = {value!r}\n'.replace("'", '"')
    )
    crate = make_crate(tmp_path, {"runtimes": value})
    with pytest.raises(ConfigError) as info:
        resolve(Settings(rootdir=tmp_path), crate, "chef", "docker")
    assert f"{tmp_path / 'Cargo.toml'}:5 [package.metadata.rust-image]" in str(info.value)


def test_none_turns_the_matrix_off_and_stands_alone(tmp_path: Path) -> None:
    assert runtime_names(["none"]) == ("none",)
    with pytest.raises(ConfigError, match="'none' turns the runtime matrix off: it cannot be listed with runtimes"):
        runtime_names(["bookworm-slim,none"])
    for settings in (Settings(rootdir=tmp_path, cli_runtimes=("none",)), Settings(rootdir=tmp_path)):
        crate = make_crate(tmp_path, {"runtimes": ["none"]})
        spec = resolve(settings, crate, "chef", "docker")
        assert spec.runtimes == () and not spec.runtimes_listed

"""Every binary of a workspace in one run: ``bin = "*"`` or a list, and what is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_rustimage.crate import read_crate
from pytest_rustimage.errors import CrateError
from pytest_rustimage.plugin.resolve import Variant, binaries_for, specs_for, variants_for
from pytest_rustimage.plugin.settings import Settings
from pytest_rustimage.report.baseline import baseline_key

WORKSPACE = Path(__file__).parents[3] / "sample_crates" / "workspace"


def test_star_checks_every_binary_of_the_workspace_and_names_each_in_the_ids() -> None:
    settings = Settings(cli_bin="*", cli_strategies=("chef",), cli_engine="all")
    specs = specs_for(settings, read_crate(WORKSPACE))
    names = {spec.binary.name for spec in specs}
    assert len(names) > 1 and "wsctl" in names
    assert len(specs) == 2 * len(names)  # each binary on each engine
    assert "chef-docker-wsctl" in {spec.variant for spec in specs}
    assert len({spec.key for spec in specs}) == len(specs)
    assert len({baseline_key(spec) for spec in specs}) == len(specs)  # one baseline entry per binary
    assert "workspace:wsctl/chef/docker" in {baseline_key(spec) for spec in specs}


def test_the_variants_nest_binaries_then_strategies_then_engines_and_specs_follow_them() -> None:
    """One list of variants, which the items (``specs_for``) and the fixture's parametrization share."""
    settings = Settings(cli_bin="wsctl,ws-daemon", cli_strategies=("chef", "naive"), cli_engine="all")
    crate = read_crate(WORKSPACE)
    variants, named = variants_for(settings, crate)
    assert named
    assert variants[:3] == [
        Variant("chef", "docker", "wsctl"),
        Variant("chef", "podman", "wsctl"),
        Variant("naive", "docker", "wsctl"),
    ]
    assert len(variants) == 2 * 2 * 2 and variants[-1] == Variant("naive", "podman", "ws-daemon")
    specs = specs_for(settings, crate)
    assert [(s.strategy, s.engine, s.binary.name) for s in specs] == variants
    assert all(spec.named_binary for spec in specs)


def test_one_name_keeps_the_ids_as_they_were() -> None:
    (spec,) = specs_for(Settings(cli_bin="wsctl", cli_strategies=("chef",)), read_crate(WORKSPACE))
    assert spec.variant == "chef-docker" and not spec.named_binary
    assert baseline_key(spec) == "workspace/chef/docker"


def test_a_list_checks_those_once_each_in_order() -> None:
    crate = read_crate(WORKSPACE)
    others = [b.name for b in crate.binaries if b.name != "wsctl"]
    names, named = binaries_for(Settings(cli_bin=f"{others[0]},wsctl,wsctl"), crate)
    assert (names, named) == ((others[0], "wsctl"), True)
    names, named = binaries_for(Settings(), crate, {"bin": ["wsctl"]})
    assert (names, named) == (("wsctl",), True)


def test_a_list_naming_an_unknown_binary_lists_the_known_ones() -> None:
    with pytest.raises(CrateError, match=r"no binary named 'nope'; the binaries are: .*wsctl \(package ws-cli\)"):
        specs_for(Settings(cli_bin="wsctl,nope"), read_crate(WORKSPACE))


def test_star_on_a_crate_without_a_binary_is_the_no_binary_error(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "lib.rs").write_text("")
    (tmp_path / "Cargo.toml").write_text('[package]\nname = "onlylib"\nversion = "0.1.0"\nedition = "2021"\n')
    with pytest.raises(CrateError, match="no binary target"):
        specs_for(Settings(cli_bin="*"), read_crate(tmp_path))


def test_several_binaries_and_none_chosen_mentions_star() -> None:
    with pytest.raises(CrateError) as info:
        read_crate(WORKSPACE).select_binary(None)
    assert "`bin = \"*\"` (--rust-image-bin='*')" in str(info.value)

"""Secret build args: which names are accepted, how generated Dockerfiles mount them, where values come from."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pytest_rustimage.errors import ConfigError
from pytest_rustimage.plugin.resolve import resolve
from pytest_rustimage.plugin.settings import Settings
from pytest_rustimage.recipe.dockerfile import DEPS_MARK, Recipe
from pytest_rustimage.recipe.spec import secret_values
from pytest_rustimage.recipe.strategies import render
from tests.unit.plugin.test_settings import make_crate


def test_names_are_kept_sorted_and_unique(tmp_path: Path) -> None:
    crate = make_crate(tmp_path, {"secret-build-args": ["TOKEN_B", "TOKEN_A", "TOKEN_B"]})
    spec = resolve(Settings(rootdir=tmp_path), crate, "chef", "docker")
    assert spec.secret_build_args == ("TOKEN_A", "TOKEN_B")
    assert "secret:TOKEN_A" in spec.key  # another secret set is another image


@pytest.mark.parametrize("value", ["TOKEN", ["has space"], ["1ST"], [5], {"TOKEN": "x"}, ["A=b"]])
def test_only_a_list_of_variable_names(tmp_path: Path, value: Any) -> None:
    crate = make_crate(tmp_path, {"secret-build-args": value})
    with pytest.raises(ConfigError, match="secret-build-args must be a list of environment variable names"):
        resolve(Settings(rootdir=tmp_path), crate, "chef", "docker")


def test_a_secret_cannot_also_be_a_plain_build_arg(tmp_path: Path) -> None:
    crate = make_crate(tmp_path, {"secret-build-args": ["TOKEN"], "build-args": {"TOKEN": "oops"}})
    with pytest.raises(ConfigError, match="TOKEN is both in build-args and in secret-build-args"):
        resolve(Settings(rootdir=tmp_path), crate, "chef", "docker")


def test_values_come_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    crate = make_crate(tmp_path, {"secret-build-args": ["T1", "T2"]})
    spec = resolve(Settings(rootdir=tmp_path), crate, "chef", "docker")
    monkeypatch.setenv("T1", "one")
    monkeypatch.delenv("T2", raising=False)
    with pytest.raises(ConfigError, match=r"secret build arg\(s\) T2 not set in the environment"):
        secret_values(spec)
    monkeypatch.setenv("T2", "")
    assert secret_values(spec) == {"T1": "one", "T2": ""}


@pytest.mark.parametrize("strategy", ["chef", "static", "naive", "dummy-main"])
def test_every_cargo_step_mounts_and_exports_the_secrets(strategy: str) -> None:
    text = render(Recipe(strategy, "p", "p", secrets=("A_TOKEN", "B_TOKEN")))
    cargo_steps = [line for line in text.splitlines() if line.startswith("RUN") and "cargo build" in line]
    cargo_steps += [line for line in text.splitlines() if line.startswith("RUN") and "cargo chef cook" in line]
    assert cargo_steps
    for line in cargo_steps:
        assert line.startswith("RUN --mount=type=secret,id=A_TOKEN --mount=type=secret,id=B_TOKEN RUST_IMAGE_STEP=")
        assert 'export A_TOKEN="$(cat /run/secrets/A_TOKEN)" B_TOKEN="$(cat /run/secrets/B_TOKEN)"' in line
    assert "ARG A_TOKEN" not in text and "ENV A_TOKEN" not in text  # never a build arg or env


def test_no_secrets_no_mounts() -> None:
    text = render(Recipe("chef", "p", "p"))
    assert "--mount" not in text
    assert f"RUN {DEPS_MARK} && cargo chef cook" in text

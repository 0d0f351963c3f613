"""Where cargo-auditable comes from in a generated build: the builder's, else installed; offline, never."""

from __future__ import annotations

import pytest

from pytest_rustimage.recipe.dockerfile import Recipe
from pytest_rustimage.recipe.strategies import render


def tool_line(**fields: object) -> str:
    lines = render(Recipe(package="app", binary="app", auditable=True, **fields)).splitlines()  # type: ignore[arg-type]
    (line,) = [line for line in lines if "command -v cargo-auditable" in line]
    return line


@pytest.mark.parametrize("strategy", ["chef", "static", "incremental", "naive"])
def test_online_it_is_installed_when_the_builder_lacks_it(strategy: str) -> None:
    assert tool_line(strategy=strategy).endswith("|| cargo install cargo-auditable --locked")


@pytest.mark.parametrize("strategy", ["chef", "static", "incremental", "naive"])
def test_vendored_builds_are_offline_so_a_missing_tool_fails_saying_so(strategy: str) -> None:
    line = tool_line(strategy=strategy, vendored=True)
    assert "cargo install" not in line and "exit 1" in line
    assert "cargo-auditable is not in the builder image, and vendored builds are offline" in line


def test_no_tool_line_without_auditable() -> None:
    assert "cargo-auditable" not in render(Recipe(strategy="chef", package="app", binary="app"))

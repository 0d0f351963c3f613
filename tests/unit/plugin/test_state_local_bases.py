"""``rust_image_bases = local``: which images it means, and the usage error when they are missing."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_rustimage.errors import EngineUnavailable
from pytest_rustimage.names import DEFAULT_BUILDER, LOCAL_BUILDER, LOCAL_RUNTIME
from pytest_rustimage.plugin.settings import Settings
from pytest_rustimage.plugin.state import State


class Images:
    """An engine that answers only which images it has (all the check asks)."""

    def __init__(self, has: set[str]) -> None:
        self.has = has

    def image_id(self, ref: str) -> str | None:
        return "sha256:1" if ref in self.has else None


class Factory:
    def __init__(self, engines: dict[str, Images | None]) -> None:
        self.engines = engines

    def engine(self, name: str) -> Any:
        found = self.engines[name]
        if found is None:
            raise EngineUnavailable(name, "nowhere", "not running")
        return found


def state(settings: Settings, engines: dict[str, Images | None]) -> State:
    return State(settings, lambda: Factory(engines))  # type: ignore[arg-type,return-value]


LOCAL = Settings(bases="local", builder_image=LOCAL_BUILDER, runtime_image=LOCAL_RUNTIME, cli_engine="all")


def test_present_on_every_engine_that_answers() -> None:
    both = {LOCAL_BUILDER, LOCAL_RUNTIME}
    assert state(LOCAL, {"docker": Images(both), "podman": None}).missing_local_bases() is None


def test_missing_names_each_image_and_engine_and_the_command() -> None:
    found = state(LOCAL, {"docker": Images({LOCAL_RUNTIME}), "podman": Images(set())}).missing_local_bases()
    assert found == (
        f"rust_image_bases = local, but the local base images are missing ({LOCAL_BUILDER} on docker, "
        f"{LOCAL_BUILDER} on podman, {LOCAL_RUNTIME} on podman): make them with `python -m pytest_rustimage bases` "
        "(`--engine docker --engine podman` for both engines)"
    )


@pytest.mark.parametrize(
    "settings",
    [
        Settings(cli_engine="all"),  # official images: nothing to check
        Settings(bases="local", builder_image=DEFAULT_BUILDER, runtime_image="mirror/debian:12", cli_engine="all"),
    ],
)
def test_only_the_local_images_are_looked_for(settings: Settings) -> None:
    assert state(settings, {"docker": Images(set()), "podman": Images(set())}).missing_local_bases() is None


def test_an_unknown_bases_value_is_refused() -> None:
    from pytest_rustimage.errors import ConfigError
    from pytest_rustimage.plugin.settings import _bases

    assert _bases("") == "official" and _bases(" local ") == "local"
    with pytest.raises(ConfigError, match="unknown bases 'cloud'; choose from: official, local"):
        _bases("cloud")

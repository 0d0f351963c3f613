"""The reproducible check's second build never shares the incremental strategy's target/ mount."""

from __future__ import annotations

from pytest_rustimage.names import cache_mount_id
from pytest_rustimage.recipe.dockerfile import Recipe
from pytest_rustimage.recipe.strategies import render
from pytest_rustimage.session.twin import twin_builder

BUILDER = "sha256:" + "ab" * 32


def test_the_second_build_has_a_mount_of_its_own_per_session() -> None:
    session = cache_mount_id("server", "server", BUILDER)
    twin = cache_mount_id("server", "server", twin_builder("s1", BUILDER))
    assert twin != session and twin.startswith("pytest-rustimage-target-server--server--")
    assert cache_mount_id("server", "server", twin_builder("s2", BUILDER)) != twin  # the next session's: empty


def test_the_second_builds_dockerfile_names_that_mount_and_not_the_sessions() -> None:
    first = render(Recipe(strategy="incremental", package="server", binary="server", crate="server", builder=BUILDER))
    second = render(
        Recipe(
            strategy="incremental",
            package="server",
            binary="server",
            crate="server",
            builder=twin_builder("s1", BUILDER),
        )
    )
    ours = cache_mount_id("server", "server", twin_builder("s1", BUILDER))
    assert f"id={ours}," in second and f"id={ours}," not in first
    assert f"id={cache_mount_id('server', 'server', BUILDER)}," not in second

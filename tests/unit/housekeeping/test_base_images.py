"""`bases --runtime-suite`: another Debian release's runtime, from the same apt sources."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_rustimage.housekeeping.base_images import (
    DEFAULT_SOURCES,
    mmdebstrap_command,
    recipe_digest,
    runtime_tag,
    suite_sources,
)
from pytest_rustimage.names import LOCAL_RUNTIME


def test_the_default_sources_become_the_releases_own() -> None:
    assert suite_sources("bullseye") == (
        "deb http://deb.debian.org/debian bullseye main",
        "deb http://deb.debian.org/debian bullseye-updates main",
        "deb http://deb.debian.org/debian-security bullseye-security main",
    )


def test_a_mirror_stays_the_mirror_and_only_the_release_word_changes() -> None:
    mirror = ("deb [trusted=yes] http://bookworm.mirror.example/debian bookworm main contrib",)
    assert suite_sources("trixie", mirror) == (
        "deb [trusted=yes] http://bookworm.mirror.example/debian trixie main contrib",
    )


@pytest.mark.parametrize("name", ["", "x", "Bullseye", "bull seye", "../etc", "bullseye;rm"])
def test_a_name_that_is_no_release_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="is not a Debian release name"):
        suite_sources(name)


def test_sources_without_bookworm_cannot_be_turned_into_another_release() -> None:
    with pytest.raises(ValueError, match="name no bookworm to replace with bullseye"):
        suite_sources("bullseye", ("deb http://deb.debian.org/debian stable main",))


def test_tags_and_recipes_differ_per_release() -> None:
    assert runtime_tag() == runtime_tag("bookworm") == LOCAL_RUNTIME
    assert runtime_tag("bullseye") == "pytest-rustimage/runtime:bullseye-slim"
    bullseye = suite_sources("bullseye")
    assert recipe_digest("runtime", bullseye, {}, suite="bullseye") != recipe_digest("runtime", DEFAULT_SOURCES, {})


def test_mmdebstrap_is_told_the_release(tmp_path: Path) -> None:
    out = tmp_path / "rootfs.tar"
    command = mmdebstrap_command(out, suite_sources("bullseye"), suite="bullseye")
    assert command[-5:] == ["bullseye", str(out), *suite_sources("bullseye")]

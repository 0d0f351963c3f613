"""Measuring an image keeps its files from the same archive read only when a check will read them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pytest_rustimage.errors import EngineError
from pytest_rustimage.plugin.resolve import specs_for
from pytest_rustimage.plugin.settings import Settings
from pytest_rustimage.plugin.state import State
from pytest_rustimage.session.image import BuildRecord, RustImage
from tests.unit.plugin.test_settings import make_crate


class Gone:
    """An engine that no longer has the image: measuring fails (with a message, as on a real engine)."""

    name = "docker"

    def inspect_raw(self, ref: str) -> Any:
        raise EngineError(f"no such image: {ref}")


@pytest.mark.parametrize(
    ("checks", "wanted"),
    [
        (("build", "runs", "size", "linkage", "needs"), True),
        (("size", "needs"), True),
        (("linkage",), True),
        (("build", "runs", "size", "cache", "parity"), False),
    ],
)
def test_the_files_are_kept_with_the_sizes_when_linkage_or_needs_is_checked(
    tmp_path: Path, checks: tuple[str, ...], wanted: bool
) -> None:
    settings = Settings(checks=checks)
    (spec,) = specs_for(settings, make_crate(tmp_path))
    build = BuildRecord("pytest-rustimage/p:chef-0", "sha256:" + "3" * 64, "docker", "chef", False, 2.0, log="")
    image = RustImage(spec, Gone(), build, {}, probe=lambda *_: None)  # type: ignore[arg-type,return-value]
    assert image.files_with_info  # a RustImage used outside a session keeps them
    state = State(settings, lambda: None)  # type: ignore[arg-type,return-value]
    assert state.used(image) is image
    assert image.files_with_info is wanted
    assert state.sizes[spec.key] == f"no such image: {build.image_id}"  # measured (and failed), once

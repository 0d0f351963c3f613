"""Fixtures: ``rust_image`` (one image per test variant) and ``rust_image_factory`` (any other)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NoReturn

import pytest

from pytest_rustimage.errors import RustImageError
from pytest_rustimage.plugin.obtain import obtain
from pytest_rustimage.plugin.resolve import crate_path, engines_for, resolve, strategies_for
from pytest_rustimage.plugin.state import STATE, State
from pytest_rustimage.recipe.spec import ImageSpec
from pytest_rustimage.report.parity import ParityReport, compare, observe
from pytest_rustimage.session.image import RustImage

DISABLED = "image checks are off: pass --rust-image (or set rust_image = true in the ini) to build and check images"


def _fail(exc: RustImageError) -> NoReturn:
    pytest.fail(str(exc), pytrace=False)


def _skip(reason: str) -> NoReturn:
    pytest.skip(reason)


def image_of(state: State, spec: ImageSpec) -> RustImage:
    """The image for ``spec``; skips (or fails) when the engine is away, fails cleanly on errors."""
    return obtain(state, spec, skip=_skip, fail=_fail)


class RustImageFactory:
    """``rust_image_factory(crate=..., strategy=..., bin=..., engine=...)``: any image, built once per session.

    Arguments given here win over every other setting; the rest follow the usual precedence.
    ``crate`` is relative to the rootdir.
    """

    def __init__(self, state: State) -> None:
        self._state = state

    def __call__(
        self,
        crate: str | Path | None = None,
        *,
        strategy: str | None = None,
        bin: str | None = None,
        engine: str | None = None,
    ) -> RustImage:
        settings = self._state.settings
        if bin is not None:
            settings = dataclasses.replace(settings, cli_bin=bin)
        asked: dict[str, Any] = {"crate": str(crate) if crate is not None else None, "bin": bin}
        try:
            found = self._state.crate(crate_path(settings, asked))
            spec = resolve(
                settings,
                found,
                strategy or strategies_for(settings, found, asked)[0],
                engine or engines_for(settings, asked)[0],
                {k: v for k, v in asked.items() if v is not None},
            )
        except RustImageError as exc:
            _fail(exc)
        return image_of(self._state, spec)


class RustImageParity:
    """``rust_image_parity(left, right)`` or ``rust_image_parity(crate, strategy=...)``: a :class:`ParityReport`.

    Given two images, compares them. Given a crate, builds it with ``strategy`` on each of ``engines``
    (default: every engine) and compares the first with the second.
    """

    def __init__(self, state: State, factory: RustImageFactory) -> None:
        self._state = state
        self._factory = factory

    def __call__(
        self,
        left: RustImage | None = None,
        right: RustImage | None = None,
        *,
        crate: str | Path | None = None,
        strategy: str | None = None,
        engines: tuple[str, str] = ("docker", "podman"),
        tolerance: float | None = None,
    ) -> ParityReport:
        if left is None or right is None:
            left = self._factory(crate, strategy=strategy, engine=engines[0])
            right = self._factory(crate, strategy=strategy, engine=engines[1])
        try:
            return compare(
                observe(left),
                observe(right),
                tolerance if tolerance is not None else self._state.settings.parity_tolerance,
            )
        except RustImageError as exc:
            _fail(exc)


def marker_kwargs(node: pytest.Item) -> Mapping[str, Any]:
    """The arguments of the closest ``rust_image`` marker (none: empty)."""
    marker = node.get_closest_marker("rust_image")
    return dict(marker.kwargs) if marker else {}


@pytest.fixture(scope="session")
def rust_image_factory(pytestconfig: pytest.Config) -> RustImageFactory:
    """Any crate's image: ``rust_image_factory(crate=..., strategy=..., bin=..., engine=...)`` returns a
    RustImage, built once per session (``crate`` relative to the rootdir; arguments win over settings)."""
    state = pytestconfig.stash[STATE]
    if not state.settings.enabled:
        pytest.skip(DISABLED)
    return RustImageFactory(state)


@pytest.fixture(scope="session")
def rust_image_parity(pytestconfig: pytest.Config, rust_image_factory: RustImageFactory) -> RustImageParity:
    """Two engines' images compared: ``rust_image_parity(crate=..., strategy=...)`` (or two RustImages)
    returns a ParityReport; ``.assert_equivalent()`` fails with a side-by-side table of what differs."""
    return RustImageParity(pytestconfig.stash[STATE], rust_image_factory)


@pytest.fixture
def rust_image(request: pytest.FixtureRequest, pytestconfig: pytest.Config) -> RustImage:
    """The image of the crate this test points at (``@pytest.mark.rust_image(crate=...)``), one test per
    strategy and engine (``test_x[chef-docker]``): run it, serve it, read its size, layers and binary."""
    state = pytestconfig.stash[STATE]
    if not state.settings.enabled:
        pytest.skip(DISABLED)
    param = getattr(request, "param", None)
    if isinstance(param, RustImageError):
        _fail(param)
    assert isinstance(param, ImageSpec), "rust_image is parametrized by the plugin"
    return image_of(state, param)

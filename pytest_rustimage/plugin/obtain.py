"""The one way the glue gets a spec's image: build or reuse it, or skip (or fail) when it cannot."""

from __future__ import annotations

from collections.abc import Callable
from typing import NoReturn

from pytest_rustimage.errors import EngineUnavailable, RustImageError
from pytest_rustimage.plugin.state import State
from pytest_rustimage.recipe.spec import ImageSpec
from pytest_rustimage.session.image import RustImage


def obtain(
    state: State,
    spec: ImageSpec,
    *,
    skip: Callable[[str], NoReturn],
    fail: Callable[[RustImageError], NoReturn],
    no_image: Callable[[RustImageError], NoReturn] | None = None,
) -> RustImage:
    """The image of ``spec``, from the session's factory.

    When the engine cannot be reached: ``skip`` with the reason, or ``fail`` under
    ``--rust-image-require-engine``. When there is no image (the build failed, the crate cannot be
    built): ``no_image``, default ``fail``. The image's sizes are measured for the reports on its first use."""
    try:
        image = state.factory().get(spec)
    except EngineUnavailable as exc:
        if state.settings.require_engine:
            fail(exc)
        skip(f"{exc} (pass --rust-image-require-engine to fail instead)")
    except RustImageError as exc:
        (no_image or fail)(exc)
    return state.used(image)

"""The pytest items of the built-in checks: glue over :mod:`pytest_rustimage.checks.registry`.

A ``Cargo.toml`` given to ``pytest --rust-image`` becomes a :class:`CrateFile`. For each resolved spec it
yields an item per wanted check that needs one image (``runs[chef-docker]``), and for each strategy built
by several engines an item per wanted check that needs them all (``parity[chef]``); ids come from
:func:`pytest_rustimage.names.item_name`. An item gets its images (:func:`~pytest_rustimage.plugin.obtain.obtain`),
runs its check, and turns ``CheckSkipped`` into a skip and ``RustImageError`` into a failure's text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NoReturn

import pytest
from _pytest._code.code import ExceptionInfo, TerminalRepr

from pytest_rustimage.checks.base import Check, CheckSkipped, Needs
from pytest_rustimage.checks.build import BUILD
from pytest_rustimage.checks.registry import checks_needing
from pytest_rustimage.errors import BuilderUnsupported, BuildFailed, CrateError, RustImageError, tail
from pytest_rustimage.names import item_name, variant
from pytest_rustimage.plugin.obtain import obtain
from pytest_rustimage.plugin.resolve import specs_for
from pytest_rustimage.plugin.state import STATE
from pytest_rustimage.recipe.spec import ImageSpec
from pytest_rustimage.session.image import RustImage


def skip(reason: str) -> NoReturn:
    """Skip the current check, reported at its item rather than at a line of the plugin's code."""
    raise pytest.skip.Exception(reason, _use_item_location=True)


def _raise(error: RustImageError) -> NoReturn:
    raise error


class CheckItem(pytest.Item):
    """One built-in check of one image (``runs[chef-docker]``), or of one strategy's images on each engine
    (``parity[chef]``)."""

    def __init__(self, *, check: Check, specs: Sequence[ImageSpec], label: str, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.check = check
        self.specs = list(specs)
        self.label = label  # "CRATE (VARIANT)", for messages

    def _image(self, spec: ImageSpec) -> RustImage:
        """The image of ``spec``: skip when the engine is away (fail if required); skip when there is no
        image, except in the check that reports build failures, which fails with the reason."""

        def no_image(error: RustImageError) -> NoReturn:
            if self.check.reports_build_failure:
                raise error
            skip(f"the image did not build; see {item_name(BUILD.name, spec.variant)}")

        return obtain(self.config.stash[STATE], spec, skip=skip, fail=_raise, no_image=no_image)

    def runtest(self) -> None:
        images = [self._image(spec) for spec in self.specs]
        try:
            self.check.run(images, self.config.stash[STATE].context(), self.user_properties)
        except CheckSkipped as exc:
            skip(str(exc))

    def repr_failure(self, excinfo: ExceptionInfo[BaseException], style: str | None = None) -> str | TerminalRepr:
        error = excinfo.value
        if isinstance(error, BuildFailed):
            log = tail(error.log)
            return f"{self.label} did not build: {error.reason}\n--- last lines of the build log ---\n{log}"
        if isinstance(error, (CrateError, BuilderUnsupported)):  # no build context, or no builder for it
            return f"{self.label} did not build: {error}"
        if isinstance(error, RustImageError):
            return str(error)
        return super().repr_failure(excinfo, style=style)  # type: ignore[arg-type]

    def reportinfo(self) -> tuple[Path, int | None, str]:
        # line 0 (the manifest's first line), as pytest's own non-Python items do: skips are then
        # reported at the item, not at a line of the plugin's code
        return self.path, 0, f"{self.label}: {self.name}"


class CrateErrorItem(pytest.Item):
    """Stands for a crate that could not be read, so the error shows as a failure, not a traceback."""

    def __init__(self, *, error: RustImageError, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.error = error

    def runtest(self) -> None:
        raise self.error

    def repr_failure(self, excinfo: ExceptionInfo[BaseException], style: str | None = None) -> str | TerminalRepr:
        return str(excinfo.value)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, "reading the crate"


class CrateFile(pytest.File):
    """A ``Cargo.toml`` whose crate gets the built-in checks."""

    def collect(self) -> Iterable[pytest.Item]:
        try:
            state = self.config.stash[STATE]
            specs = specs_for(state.settings, state.crate(self.path))
        except RustImageError as exc:
            yield CrateErrorItem.from_parent(self, name="crate", error=exc)
            return
        wanted, named = state.settings.checks, state.settings.checks_named
        for spec in specs:
            for check in checks_needing(Needs.IMAGE, wanted, [spec], named=named):
                name = item_name(check.name, spec.variant)
                yield CheckItem.from_parent(self, name=name, check=check, specs=[spec], label=spec.what)
        by_strategy: dict[str, list[ImageSpec]] = {}
        for spec in specs:  # per strategy, and per binary when several are checked
            group = variant(spec.strategy, None, spec.binary.name if spec.named_binary else None)
            by_strategy.setdefault(group, []).append(spec)
        for group_name, group_specs in by_strategy.items():
            if len(group_specs) < 2:
                continue
            label = f"{group_specs[0].crate.name} ({group_specs[0].strategy})"
            for check in checks_needing(Needs.ENGINES, wanted, group_specs, named=named):
                name = item_name(check.name, group_name)
                yield CheckItem.from_parent(self, name=name, check=check, specs=group_specs, label=label)

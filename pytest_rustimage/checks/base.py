"""What a built-in check is: a :class:`Check` object, what it needs, how it says fail or skip."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pytest_rustimage.errors import RustImageError
from pytest_rustimage.recipe.spec import ImageSpec
from pytest_rustimage.report.baseline import Entry, SizeVerdict, Tolerance
from pytest_rustimage.report.parity import DEFAULT_TOLERANCE
from pytest_rustimage.report.parts import Column, Facts, Lines, no_facts, no_lines
from pytest_rustimage.session.image import RustImage
from pytest_rustimage.session.twin import SecondBuild

Properties = list[tuple[str, object]]  # JUnit properties (pytest's ``user_properties``), appended as a check runs


class CheckFailed(RustImageError):
    """A built-in check found the image wanting."""


class CheckSkipped(RustImageError):
    """A built-in check has nothing to prove for this image (the glue reports it as a skip)."""


class Needs(enum.Enum):
    """What one item of a check receives."""

    IMAGE = "image"  # one image: an item per strategy, engine (and binary)
    ENGINES = "engines"  # the images of one strategy (and binary) on each engine, when there are several


@dataclass(frozen=True)
class Context:
    """What checks read of the session besides the images: the baseline and its gate, parity's tolerance.
    ``verdicts`` is the session's: the size check adds its verdict by baseline key. ``build_again`` builds
    an image a second time, cold, elsewhere (:mod:`pytest_rustimage.session.twin`)."""

    baseline: Mapping[str, Entry] = field(default_factory=dict)
    size_tolerance: Tolerance = field(default_factory=Tolerance)
    gate_base: bool = False
    update_baseline: bool = False
    baseline_path: Path = Path("rust-image-baseline.json")
    parity_tolerance: float = DEFAULT_TOLERANCE
    verdicts: MutableMapping[str, SizeVerdict] = field(default_factory=dict)
    sbom_dir: Path | None = None  # --rust-image-sbom: the sbom check writes a CycloneDX file per image here
    build_again: Callable[[RustImage], SecondBuild] | None = None  # the reproducible check's second build


Runner = Callable[[Sequence[RustImage], Context, Properties], None]


@dataclass(frozen=True)
class Check:
    """One built-in check.

    ``run(images, context, properties)`` checks ``images`` (one for :attr:`Needs.IMAGE`, one per engine
    for :attr:`Needs.ENGINES`), appends its JUnit properties, and raises :class:`CheckFailed` or
    :class:`CheckSkipped`; returning is passing. ``reports_build_failure``: the check whose item fails
    when the image does not build (the others skip, pointing at it). ``metadata_keys``: the
    ``[package.metadata.rust-image]`` keys only this check reads. ``default``: collected when no check is
    named; an opt-in check (false) runs when named, or for an image whose spec ``wanted_by`` accepts
    (settings that ask for it, such as ``auditable = true``) unless checks are named. ``about``: its line in
    docs/configuration.md's table of checks. The rest is its part of the summary and the HTML report
    (a :class:`~pytest_rustimage.report.parts.ReportPart`): columns, lines, overview columns, facts."""

    name: str
    needs: Needs
    run: Runner
    about: str
    metadata_keys: tuple[str, ...] = ()
    reports_build_failure: bool = False
    default: bool = True
    wanted_by: Callable[[ImageSpec], bool] | None = None  # an opt-in check's: the images that turn it on
    summary_columns: tuple[Column, ...] = ()
    summary_lines: Lines = no_lines
    overview_columns: tuple[Column, ...] = ()
    html_facts: Facts = no_facts

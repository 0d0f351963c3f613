"""What a built-in check is: a :class:`Check` object, what it needs, how it says fail or skip."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pytest_rustimage.errors import RustImageError
from pytest_rustimage.report.baseline import Entry, SizeVerdict, Tolerance
from pytest_rustimage.report.parity import DEFAULT_TOLERANCE
from pytest_rustimage.report.parts import Column, Facts, Lines, no_facts, no_lines
from pytest_rustimage.session.image import RustImage

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
    ``verdicts`` is the session's: the size check adds its verdict by baseline key."""

    baseline: Mapping[str, Entry] = field(default_factory=dict)
    size_tolerance: Tolerance = field(default_factory=Tolerance)
    gate_base: bool = False
    update_baseline: bool = False
    baseline_path: Path = Path("rust-image-baseline.json")
    parity_tolerance: float = DEFAULT_TOLERANCE
    verdicts: MutableMapping[str, SizeVerdict] = field(default_factory=dict)


Runner = Callable[[Sequence[RustImage], Context, Properties], None]


@dataclass(frozen=True)
class Check:
    """One built-in check.

    ``run(images, context, properties)`` checks ``images`` (one for :attr:`Needs.IMAGE`, one per engine
    for :attr:`Needs.ENGINES`), appends its JUnit properties, and raises :class:`CheckFailed` or
    :class:`CheckSkipped`; returning is passing. ``reports_build_failure``: the check whose item fails
    when the image does not build (the others skip, pointing at it). ``metadata_keys``: the
    ``[package.metadata.rust-image]`` keys only this check reads. ``about``: its line in
    docs/configuration.md's table of checks. The rest is its part of the summary and the HTML report
    (a :class:`~pytest_rustimage.report.parts.ReportPart`): columns, lines, overview columns, facts."""

    name: str
    needs: Needs
    run: Runner
    about: str
    metadata_keys: tuple[str, ...] = ()
    reports_build_failure: bool = False
    summary_columns: tuple[Column, ...] = ()
    summary_lines: Lines = no_lines
    overview_columns: tuple[Column, ...] = ()
    html_facts: Facts = no_facts

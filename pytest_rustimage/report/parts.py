"""What a check adds to the summary and the HTML report: the :class:`ReportPart` protocol.

The renderers (:mod:`~pytest_rustimage.report.summary`, :mod:`~pytest_rustimage.report.html`) draw the
parts they are given, in order, and know no check: the plugin passes the registry's checks
(``checks/registry.py``), which meet this protocol. A part gives summary columns (placed by ``at``:
the table's order is not the checks'), summary lines, overview columns of the HTML report and rows of
an image's facts there. Cells are plain text in the summary and HTML in the report.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from pytest_rustimage.report.baseline import SizeVerdict
from pytest_rustimage.report.image_record import ImageRecord

Cell = Callable[[ImageRecord, "SizeVerdict | None"], str]  # an image and its size verdict, if any
Lines = Callable[[Sequence[ImageRecord], Mapping[str, SizeVerdict]], list[str]]  # verdicts by baseline key
Facts = Callable[[ImageRecord], list[tuple[str, str]]]  # (name, HTML) rows of an image's facts


@dataclass(frozen=True)
class Column:
    """A column of the summary table or of the HTML report's overview."""

    header: str
    cell: Cell
    width: int = 0  # in the summary: characters (0: the rest of the line)
    numeric: bool = False  # right-aligned
    at: int = 0  # in the summary: where it stands among all parts' columns


def no_lines(images: Sequence[ImageRecord], verdicts: Mapping[str, SizeVerdict]) -> list[str]:
    return []


def no_facts(record: ImageRecord) -> list[tuple[str, str]]:
    return []


class ReportPart(Protocol):
    @property
    def summary_columns(self) -> tuple[Column, ...]: ...

    @property
    def summary_lines(self) -> Lines: ...

    @property
    def overview_columns(self) -> tuple[Column, ...]: ...

    @property
    def html_facts(self) -> Facts: ...

"""What a run learnt, typed, merged across xdist workers, and the end-of-run summary lines.

Each session (one per xdist worker, or the only one) describes what it saw as a :class:`Snapshot`: its
image records (:class:`~pytest_rustimage.report.image_record.ImageRecord`), the size verdicts, the
engines it reached and its notes. Under xdist the workers send theirs to the controller as JSON
(:func:`to_json`), which reads them back (:func:`from_json`), merges them and writes the one summary,
baseline and reports. Nothing here talks to an engine.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pytest_rustimage.report import image_record
from pytest_rustimage.report.baseline import SizeVerdict
from pytest_rustimage.report.image_record import ImageRecord
from pytest_rustimage.report.parts import Column, ReportPart
from pytest_rustimage.units import format_size


@dataclass(frozen=True)
class Snapshot:
    """What one session (or, merged, the run) saw."""

    images: tuple[ImageRecord, ...] = ()
    verdicts: tuple[SizeVerdict, ...] = ()
    engines: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def snapshot(
    images: Iterable[ImageRecord], verdicts: Iterable[SizeVerdict], engines: Iterable[str], notes: Iterable[str]
) -> Snapshot:
    return Snapshot(tuple(images), tuple(verdicts), tuple(engines), tuple(notes))


def to_json(snap: Snapshot) -> dict[str, Any]:
    """A snapshot as plain data, for the xdist controller."""
    return {
        "images": [image_record.to_json(record) for record in snap.images],
        "verdicts": [dataclasses.asdict(verdict) for verdict in snap.verdicts],
        "engines": list(snap.engines),
        "notes": list(snap.notes),
    }


def from_json(data: Mapping[str, Any]) -> Snapshot:
    """A snapshot written by :func:`to_json`, read back into its types."""
    return Snapshot(
        tuple(image_record.from_json(record) for record in data.get("images", [])),
        tuple(SizeVerdict(**verdict) for verdict in data.get("verdicts", [])),
        tuple(data.get("engines", [])),
        tuple(data.get("notes", [])),
    )


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _merged(records: Sequence[ImageRecord]) -> ImageRecord:
    built = [r for r in records if not r.build.reused]
    chosen = built[0] if built else records[0]
    ordered = (chosen, *records)

    def first(name: str) -> Any:
        return next((getattr(r, name) for r in ordered if getattr(r, name) is not None), None)

    return dataclasses.replace(
        chosen,
        build=dataclasses.replace(chosen.build, builds=len(built), sessions=len(records)),
        sizes=first("sizes"),
        error=first("error"),
        binary_facts=first("binary_facts"),
        baseline=first("baseline"),
        cache=first("cache"),
        needs=first("needs"),
    )


def merge(snapshots: Sequence[Snapshot]) -> Snapshot:
    """One snapshot for the run: an image seen by several sessions is one record, whose
    ``build.builds`` counts the sessions that built it (exactly 1 when the build lock works) and
    ``build.sessions`` the sessions that used it; facts another session measured (cache, binary) join it."""
    groups: dict[tuple[str, ...], list[ImageRecord]] = {}
    for snap in snapshots:
        for record in snap.images:
            groups.setdefault(record.key, []).append(record)
    verdicts = {verdict.key: verdict for snap in snapshots for verdict in snap.verdicts}
    return Snapshot(
        images=tuple(_merged(records) for records in groups.values()),
        verdicts=tuple(verdicts[key] for key in sorted(verdicts)),
        engines=_unique(line for snap in snapshots for line in snap.engines),
        notes=_unique(line for snap in snapshots for line in snap.notes),
    )


def _cells(fixed: Sequence[str], columns: Sequence[Column], texts: Sequence[str]) -> str:
    """One table line: crate, strategy and engine, then the parts' columns (a width-0 column takes the rest)."""
    out = [f"{fixed[0]:<12}", f"{fixed[1]:<10}", f"{fixed[2]:<6}"]
    for column, text in zip(columns, texts, strict=True):
        out.append(f"{text:{'>' if column.numeric else '<'}{column.width}}" if column.width else f" {text}")
    return " ".join(out)


def _crate(record: ImageRecord) -> str:
    named = record.variant.endswith(f"-{record.binary}")  # one of several binaries
    return f"{record.crate}:{record.binary}"[:20] if named else record.crate[:12]


def columns_of(parts: Sequence[ReportPart]) -> list[Column]:
    """The summary table's columns after crate, strategy and engine: each part's, placed by ``at``."""
    return sorted((column for part in parts for column in part.summary_columns), key=lambda column: column.at)


def header(parts: Sequence[ReportPart]) -> str:
    columns = columns_of(parts)
    return _cells(("crate", "strategy", "engine"), columns, [column.header for column in columns])


def lines(snap: Snapshot, parts: Sequence[ReportPart]) -> list[str]:
    """The summary under ``rust-image summary``: a table (at most 100 columns), each part's lines (the size
    gate's, the images that would not load), the images, engines and notes."""
    if not snap.images:
        return []
    verdicts = {verdict.key: verdict for verdict in snap.verdicts}
    columns = columns_of(parts)
    out = [header(parts)]
    for record in snap.images:
        verdict = verdicts.get(record.baseline_key)
        texts = [column.cell(record, verdict) for column in columns]
        out.append(_cells((_crate(record), record.strategy, record.engine), columns, texts))
    for part in parts:
        out += part.summary_lines(snap.images, verdicts)
    for record in snap.images:
        wasted = record.sizes.wasted if record.sizes is not None else 0
        waste = f", wasted {format_size(wasted)}" if wasted else ""
        out.append(f"image {record.tag} ({record.variant}){waste}")
    out += snap.engines
    out += snap.notes
    return out

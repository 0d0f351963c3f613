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
from pytest_rustimage.report.image_record import BuildFacts, CacheRecord, ImageRecord
from pytest_rustimage.units import format_size

ROW = "{:<12} {:<10} {:<6} {:>9} {:>17} {:>3} {:>6}  {}"
HEADER = ROW.format("crate", "strategy", "engine", "size", "vs baseline", "lay", "build", "cache: deps, 3rd-party, s")


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


def _build_column(build: BuildFacts) -> str:
    if not build.reused:
        return f"{build.seconds:.0f}s"
    return "reused"


def _cache_column(cache: CacheRecord | None) -> str:
    if cache is None:
        return "-"
    if cache.inconclusive:  # cargo's output was hidden: neither reused nor a count can be told
        deps = "HIDDEN, ?"
    else:
        deps = f"{'reused' if cache.deps_reused else 'REBUILT'}, {len(cache.third_party_recompiled)}"
    if cache.stored:
        return f"{deps}, stored"  # an earlier run's verdict for the same inputs: its seconds are not this run's
    first = cache.baseline_seconds
    return f"{deps}, {'?' if first is None else f'{first:.1f}'}->{cache.rebuild_seconds:.1f}"


def _row(record: ImageRecord, verdict: SizeVerdict | None) -> str:
    sizes = record.sizes
    named = record.variant.endswith(f"-{record.binary}")  # one of several binaries
    crate = f"{record.crate}:{record.binary}" if named else record.crate
    return ROW.format(
        crate[:20] if named else crate[:12],
        record.strategy,
        record.engine,
        format_size(sizes.size) if sizes is not None else "?",
        verdict.change_text() if verdict else "-",
        str(len(sizes.layers)) if sizes is not None else "?",
        _build_column(record.build),
        _cache_column(record.cache),
    )


def _load_line(record: ImageRecord) -> str | None:
    loads = record.binary_facts.loads if record.binary_facts is not None else True
    if loads is True:
        return None
    more = f" (and {len(loads) - 1} more)" if len(loads) > 1 else ""
    first = str(loads[0]).split("; looked in ")[0] if loads else "?"  # where it looked: in the failure
    label = "cannot tell if it loads" if first.startswith("cannot tell") else "would not load"
    return f"{label}: {record.tag} ({record.variant}): {first}{more}"


def lines(snap: Snapshot) -> list[str]:
    """The summary under ``rust-image summary``: a table (at most 100 columns), gate lines, images, engines, notes."""
    if not snap.images:
        return []
    verdicts = {verdict.key: verdict for verdict in snap.verdicts}
    out = [HEADER]
    out += [_row(record, verdicts.get(record.baseline_key)) for record in snap.images]
    for verdict in verdicts.values():
        if verdict.failed or verdict.status == "new" or verdict.base_changed:
            out.append(("size gate FAILED: " if verdict.failed else "size gate: ") + verdict.message())
    out += [line for line in map(_load_line, snap.images) if line is not None]
    for record in snap.images:
        wasted = record.sizes.wasted if record.sizes is not None else 0
        waste = f", wasted {format_size(wasted)}" if wasted else ""
        out.append(f"image {record.tag} ({record.variant}){waste}")
    out += snap.engines
    out += snap.notes
    return out

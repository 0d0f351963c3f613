"""What a run learnt, as plain data, merged across xdist workers, and the end-of-run summary lines.

Each session (one per xdist worker, or the only one) describes what it saw
as a :data:`Snapshot`: the image records of the JSON report, the size
verdicts, the engines it reached and its notes. Under xdist the workers send
theirs to the controller, which merges them and writes the one summary,
baseline and reports. Nothing here talks to an engine.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pytest_rustimage.report.baseline import SizeVerdict
from pytest_rustimage.units import format_size

Snapshot = dict[str, Any]  # {"images": [record], "verdicts": [verdict], "engines": [line], "notes": [line]}
ROW = "{:<12} {:<10} {:<6} {:>9} {:>17} {:>3} {:>6}  {}"
HEADER = ROW.format("crate", "strategy", "engine", "size", "vs baseline", "lay", "build", "cache: deps, 3rd-party, s")


def snapshot(
    images: Sequence[Mapping[str, Any]],
    verdicts: Iterable[SizeVerdict],
    engines: Sequence[str],
    notes: Sequence[str],
) -> Snapshot:
    return {
        "images": [dict(record) for record in images],
        "verdicts": [dataclasses.asdict(verdict) for verdict in verdicts],
        "engines": list(engines),
        "notes": list(notes),
    }


def _image_key(record: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(str(record.get(k)) for k in ("manifest", "strategy", "engine", "binary", "tag"))


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def merge(snapshots: Sequence[Snapshot]) -> Snapshot:
    """One snapshot for the run: an image seen by several sessions is one record, whose
    ``build.builds`` counts the sessions that built it (exactly 1 when the build lock works) and
    ``build.sessions`` the sessions that used it."""
    groups: dict[tuple[str, ...], list[Mapping[str, Any]]] = {}
    for snap in snapshots:
        for record in snap.get("images", []):
            groups.setdefault(_image_key(record), []).append(record)
    images = []
    for records in groups.values():
        built = [r for r in records if not r.get("build", {}).get("reused", True)]
        merged = dict(built[0] if built else records[0])
        for other in records:
            for key, value in other.items():
                merged.setdefault(key, value)  # facts another session measured (cache, binary)
        merged["build"] = {**merged.get("build", {}), "builds": len(built), "sessions": len(records)}
        images.append(merged)
    verdicts: dict[str, dict[str, Any]] = {}
    for snap in snapshots:
        for verdict in snap.get("verdicts", []):
            verdicts[verdict["key"]] = verdict
    return {
        "images": images,
        "verdicts": [verdicts[key] for key in sorted(verdicts)],
        "engines": _unique(line for snap in snapshots for line in snap.get("engines", [])),
        "notes": _unique(line for snap in snapshots for line in snap.get("notes", [])),
    }


def verdicts_of(snap: Snapshot) -> list[SizeVerdict]:
    return [SizeVerdict(**verdict) for verdict in snap.get("verdicts", [])]


def _build_column(build: Mapping[str, Any]) -> str:
    if not build.get("reused"):
        return f"{build.get('seconds', 0):.0f}s"
    return "reused"


def _cache_column(cache: Mapping[str, Any] | None) -> str:
    if not cache:
        return "-"
    if cache.get("inconclusive"):  # cargo's output was hidden: neither reused nor a count can be told
        deps = "HIDDEN, ?"
    else:
        deps = f"{'reused' if cache['deps_reused'] else 'REBUILT'}, {len(cache['third_party_recompiled'])}"
    if cache.get("stored"):
        return f"{deps}, stored"  # an earlier run's verdict for the same inputs: its seconds are not this run's
    first = cache.get("baseline_seconds")
    return f"{deps}, {'?' if first is None else f'{first:.1f}'}->{cache['rebuild_seconds']:.1f}"


def lines(snap: Snapshot) -> list[str]:
    """The summary under ``rust-image summary``: a table (at most 100 columns), gate lines, images, engines, notes."""
    images = snap.get("images", [])
    if not images:
        return []
    verdicts = {verdict.key: verdict for verdict in verdicts_of(snap)}
    out = [HEADER]
    for record in images:
        size = format_size(record["size"]) if "size" in record else "?"
        layers = str(len(record["layers"])) if "layers" in record else "?"
        verdict = verdicts.get(record.get("baseline_key", ""))
        change = verdict.change_text() if verdict else "-"
        named = str(record.get("variant", "")).endswith(f"-{record.get('binary')}")  # one of several binaries
        crate = f"{record['crate']}:{record['binary']}" if named else str(record["crate"])
        out.append(
            ROW.format(
                crate[:20] if named else crate[:12],
                record["strategy"],
                record["engine"],
                size,
                change,
                layers,
                _build_column(record.get("build", {})),
                _cache_column(record.get("cache")),
            )
        )
    for verdict in verdicts.values():
        if verdict.failed or verdict.status == "new" or verdict.base_changed:
            out.append(("size gate FAILED: " if verdict.failed else "size gate: ") + verdict.message())
    for record in images:
        loads = (record.get("binary_facts") or {}).get("loads", True)
        if loads is not True:
            variant = record.get("variant") or f"{record['strategy']}-{record['engine']}"
            more = f" (and {len(loads) - 1} more)" if len(loads) > 1 else ""
            first = str(loads[0]).split("; looked in ")[0] if loads else "?"  # where it looked: in the failure
            label = "cannot tell if it loads" if first.startswith("cannot tell") else "would not load"
            out.append(f"{label}: {record['tag']} ({variant}): {first}{more}")
    for record in images:
        wasted = record.get("wasted") or 0
        waste = f", wasted {format_size(wasted)}" if wasted else ""
        variant = record.get("variant") or f"{record['strategy']}-{record['engine']}"
        out.append(f"image {record['tag']} ({variant}){waste}")
    out += snap.get("engines", [])
    out += snap.get("notes", [])
    return out

"""What the benchmark writes: the fixed-width table with its header (stdout) and the JSON of the raw
numbers (``--out``)."""

from __future__ import annotations

import argparse
import datetime
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from benchmarks.copies import Bench
from benchmarks.engine_cli import EngineCli
from benchmarks.measurements import Ratio, label_of, median, spread
from benchmarks.recipes import RECIPES, render_recipe, sources_of
from benchmarks.runner import Runner

ORDER = (
    "per run: host cold, recipes cold, pytest start-up, plugin variants cold and warm; then the "
    "edits back to back: host, chef recipe, plugin variants, naive recipe"
)


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == "x":
        return f"{value:.2f}x"
    if unit == "s":
        return f"{value:+.2f} s"
    return f"{value:.2f}"


def _range(pair: tuple[float, float] | None, unit: str = "") -> str:
    """``min..max`` with the unit's suffix (``x``, `` s``, none for counts and seconds of the rows)."""
    if pair is None:
        return "n/a"
    suffix = {"x": "x", "s": " s"}.get(unit, "")
    return f"{pair[0]:.2f}..{pair[1]:.2f}{suffix}"


def _measurement_lines(measured: Mapping[str, Sequence[float]], keys: Sequence[str], failed: set[str]) -> list[str]:
    rows = [("measurement", "median s", "min..max s", "runs s")]
    for key in keys:
        runs = list(measured.get(key, ()))
        mid = median(runs)
        mark = "  FAILED" if key in failed else ""
        every = " ".join(f"{r:.2f}" for r in runs) + mark
        rows.append((label_of(key), "n/a" if mid is None else f"{mid:.2f}", _range(spread(runs)), every))
    width = max(len(r[0]) for r in rows)
    spread_width = max(len(r[2]) for r in rows)
    return [f"{a:<{width}}  {b:>8}  {c:>{spread_width}}  {d}".rstrip() for a, b, c, d in rows]


def _ratio_lines(derived: Sequence[Ratio]) -> list[str]:
    ratio_rows = [("ratio", "value", "per run min..max", "target")]
    for r in derived:
        target = ""
        if r.target is not None:
            target = f"<= {_number(r.target, r.unit).lstrip('+')} {r.verdict}".rstrip()
        ratio_rows.append((r.name, _number(r.value, r.unit), _range(r.spread, r.unit), target))
    rwidth = max(len(r[0]) for r in ratio_rows)
    pwidth = max(len(r[2]) for r in ratio_rows)
    return [f"{a:<{rwidth}}  {b:>9}  {c:>{pwidth}}  {d}".rstrip() for a, b, c, d in ratio_rows]


def format_table(
    measured: Mapping[str, Sequence[float]],
    derived: Sequence[Ratio],
    keys: Sequence[str],
    failed: Iterable[str] = (),
) -> str:
    """The measurements (median, min..max and every run) and the ratios (with the min..max of the same
    ratio within each run), as fixed-width text."""
    lines = _measurement_lines(measured, keys, set(failed))
    return "\n".join([*lines, "", *_ratio_lines(derived)])


def summary_header(
    bench: Bench | None,
    args: argparse.Namespace,
    cli: EngineCli,
    info: Mapping[str, Any],
    started: datetime.datetime,
    runner: Runner | None,
) -> str:
    """The table's title, the machine and the load at start and end of the benchmark and of each run."""
    crate = bench.crate if bench else None
    title = (
        f"pytest-rustimage benchmark, {started:%Y-%m-%d %H:%M} UTC: "
        f"{crate.name + ' ' + crate.version if crate else '?'}, engine {cli.engine}, {args.runs} run(s) each"
    )
    mem = info["memory_bytes"] / 2**30
    machine_line = (
        f"machine: {info['nproc']} CPUs, {mem:.1f} GiB, docker {info['docker']}, {info['podman']}, {info['rustc']}, "
        f"load {info['loadavg_start'][0]:.2f} -> {info['loadavg_end'][0]:.2f}"
    )
    loads = [
        f"{run['run']}: {run['load_start'][0]:.2f} -> {run.get('load_end', [float('nan')])[0]:.2f}"
        for run in (runner.runs if runner else [])
    ]
    return "\n".join([title, machine_line, *(["load per run (1-min average): " + ", ".join(loads)] if loads else [])])


def _crate_json(bench: Bench | None, args: argparse.Namespace) -> dict[str, Any] | None:
    crate = bench.crate if bench else None
    if crate is None:
        return None
    return {
        "name": crate.name,
        "version": crate.version,
        "binary": crate.binary,
        "edited": crate.binary_src,
        "source": args.real_crate or str(args.crate),
    }


def _measurements_json(measured: Mapping[str, Sequence[float]], shown: Sequence[str]) -> dict[str, Any]:
    return {
        k: {
            "label": label_of(k),
            "seconds": measured[k],
            "median": median(measured[k]),
            "min": min(measured[k]),
            "max": max(measured[k]),
        }
        for k in shown
    }


def _ratio_json(r: Ratio) -> dict[str, Any]:
    return {
        "name": r.name,
        "value": r.value,
        "per_run_min": r.spread[0] if r.spread else None,
        "per_run_max": r.spread[1] if r.spread else None,
        "unit": r.unit,
        "target": r.target,
        "verdict": r.verdict,
    }


def report_json(
    runner: Runner | None,
    args: argparse.Namespace,
    info: Mapping[str, Any],
    started: datetime.datetime,
    shown: Sequence[str],
    derived: Sequence[Ratio],
    cli: EngineCli,
) -> dict[str, Any]:
    """The raw numbers: every run's seconds and load, medians, spreads and ratios, the machine."""
    bench = runner.bench if runner else None
    crate = bench.crate if bench else None
    # the recipes' text, when they were built and the crate's folder is still there (a --real-crate's copy
    # lives in the temp folder, removed before the report)
    recipes = {}
    if crate is not None and "recipes" not in args.skip and crate.path.is_dir():
        recipes = {name: render_recipe(name, crate.binary, sources_of(crate.path)) for name in RECIPES}
    return {
        "date": started.isoformat(timespec="seconds"),
        "machine": info,
        "crate": _crate_json(bench, args),
        "runs": args.runs,
        "order": ORDER,
        "engine": cli.engine,
        "engine_cli": f"{cli.exe} ({cli.mode})",
        "strategies": args.strategy,
        "builder_image": args.builder_image,
        "runtime_image": args.runtime_image,
        "expect_stdout": bench.expect_stdout if bench else None,
        "recipes": recipes,
        "measurements": _measurements_json(runner.measured if runner else {}, shown),
        "per_run": runner.runs if runner else [],
        "failures": runner.failures if runner else {},
        "ratios": [_ratio_json(r) for r in derived],
    }

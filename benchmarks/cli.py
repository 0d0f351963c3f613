"""The benchmark's command line (``python3 benchmarks/run.py CRATE_DIR [--runs N] ...``, docs/benchmarks.md):
its options, the set-up of one benchmark, the runs, and the table and JSON at the end."""

from __future__ import annotations

import argparse
import datetime
import json
import shlex
import shutil
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.copies import Bench, seed_plugin_cache
from benchmarks.crates import fetch_real_crate, read_crate
from benchmarks.engine_cli import EngineCli, find_engine_cli, machine
from benchmarks.measurements import measurement_keys, median, ratios, with_spread
from benchmarks.recipes import RECIPES, render_recipe, sources_of
from benchmarks.report import format_table, report_json, summary_header
from benchmarks.runner import Runner
from benchmarks.timing import loadavg
from pytest_rustimage.names import LOCAL_BUILDER, LOCAL_RUNTIME

DEFAULT_RUNS = 5
PARTS = {"host", "recipes", "plugin"}  # what --skip can leave out


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="benchmarks/run.py", description="pytest-rustimage's benchmark (docs/benchmarks.md)"
    )
    p.add_argument("crate", nargs="?", type=Path, help="a folder with Cargo.toml (one package)")
    p.add_argument("--real-crate", metavar="NAME@VERSION", help="fetch this crate from crates.io and benchmark it")
    p.add_argument(
        "--runs",
        type=int,
        default=DEFAULT_RUNS,
        help=f"runs of each measurement (median shown; default {DEFAULT_RUNS})",
    )
    p.add_argument("--engine", choices=("docker", "podman"), default="docker")
    p.add_argument("--strategy", action="append", help="plugin strategy to measure (repeatable; default chef)")
    p.add_argument("--bin", help="the binary, for packages with several")
    p.add_argument("--args", default="--version", help="arguments of the runs check (default --version)")
    p.add_argument("--expect-stdout", help="what the runs check expects (default: the host build's first line)")
    p.add_argument("--builder-image", default=LOCAL_BUILDER)
    p.add_argument("--runtime-image", default=LOCAL_RUNTIME)
    p.add_argument("--skip", default="", help="comma-separated parts to leave out: host, recipes, plugin")
    p.add_argument("--out", type=Path, help="write the raw numbers as JSON here")
    p.add_argument("--keep", action="store_true", help="keep the temp folder (images are removed anyway)")
    return p


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    p = _parser()
    args = p.parse_args(argv)
    if (args.crate is None) == (args.real_crate is None):
        p.error("give a CRATE_DIR or --real-crate NAME@VERSION")
    if args.runs < 1:
        p.error("--runs must be at least 1")
    args.strategy = args.strategy or ["chef"]
    args.skip = {s for s in args.skip.split(",") if s}
    if args.skip - PARTS:
        p.error("--skip takes host, recipes, plugin")
    return args


@dataclass
class Made:
    """What the set-up has made so far: the clean-up and the table need it even after an interruption."""

    bench: Bench | None = None
    runner: Runner | None = None


def prepare(args: argparse.Namespace, work: Path, cli: EngineCli, keys: Sequence[str], made: Made) -> Runner:
    """The crate, its copies' bench, the plugin's cache folder and the recipes' Dockerfiles (not measured)."""
    crate_dir = fetch_real_crate(args.real_crate, work / "real") if args.real_crate else args.crate.resolve()
    crate = read_crate(crate_dir, args.bin)
    bench = made.bench = Bench(crate, work, cli, args.builder_image, args.runtime_image)
    env = dict(cli.env)
    env["RUST_IMAGE_CACHE_DIR"] = str(seed_plugin_cache(work / "plugin-cache"))
    dockerfiles = work / "dockerfiles"
    dockerfiles.mkdir()
    sources = sources_of(crate.path)
    for recipe in RECIPES:
        (dockerfiles / f"Dockerfile.{recipe}").write_text(render_recipe(recipe, crate.binary, sources))
    runner = made.runner = Runner(args, bench, env, dockerfiles, shlex.split(args.args), len(keys) * args.runs)
    print(
        f"benchmark {bench.run_id}: {crate.name} {crate.version} (bin {crate.binary}, edit {crate.binary_src}), "
        f"{args.runs} run(s), engine {cli.engine} via {cli.exe} ({cli.mode}), work {work}",
        file=sys.stderr,
    )
    return runner


def measure(args: argparse.Namespace, work: Path, cli: EngineCli, keys: Sequence[str], made: Made) -> int:
    """Every run; the exit status (1 when a measured command failed, 130 when interrupted). Whatever
    happens, the images and containers made are removed, and the temp folder unless ``--keep``."""
    try:
        runner = prepare(args, work, cli, keys, made)
        for r in range(args.runs):
            runner.one_run(r)
    except KeyboardInterrupt:
        print("benchmark: interrupted; cleaning up", file=sys.stderr)
        return_code = 130
    else:
        return_code = 1 if made.runner is not None and made.runner.failures else 0
    finally:
        if made.bench is not None:
            made.bench.clean_engine()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return return_code


def report(
    args: argparse.Namespace,
    cli: EngineCli,
    info: dict[str, Any],
    started: datetime.datetime,
    keys: Sequence[str],
    made: Made,
) -> None:
    """The header and table on stdout, and the JSON with ``--out``."""
    runner = made.runner
    measured: Mapping[str, list[float]] = runner.measured if runner else {}
    shown = [k for k in keys if k in measured]
    medians = {k: median(v) for k, v in measured.items()}
    derived = with_spread(ratios(medians, args.strategy), runner.per_run_seconds() if runner else [], args.strategy)
    info["loadavg_end"] = loadavg()
    print(summary_header(made.bench, args, cli, info, started, runner))
    print()
    print(format_table(measured, derived, shown, runner.failures if runner else ()))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        data = report_json(runner, args, info, started, shown, derived, cli)
        args.out.write_text(json.dumps(data, indent=2) + "\n")


def main(argv: Sequence[str]) -> int:
    args = parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="rustimage-bench-"))
    cli = find_engine_cli(args.engine)
    started = datetime.datetime.now(datetime.timezone.utc)
    info = machine(cli)
    keys = measurement_keys(args.strategy)
    made = Made()
    return_code = measure(args, work, cli, keys, made)
    report(args, cli, info, started, keys, made)
    return return_code

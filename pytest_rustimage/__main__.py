"""Command line: ``python -m pytest_rustimage bases`` and ``python -m pytest_rustimage prune``."""

from __future__ import annotations

import argparse
import sys

from pytest_rustimage import names
from pytest_rustimage.engines import ENGINE_NAMES, make_engine
from pytest_rustimage.errors import EngineUnavailable, RustImageError
from pytest_rustimage.housekeeping import base_images as bases
from pytest_rustimage.housekeeping import prune, prune_mounts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pytest_rustimage")
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("bases", help="make the local builder and runtime base images")
    make.add_argument(
        "--engine", choices=ENGINE_NAMES, action="append", help="engine(s) to load the images into (default: docker)"
    )
    make.add_argument("--force", action="store_true", help="remake the images even when they are up to date")
    make.add_argument(
        "--source",
        action="append",
        dest="sources",
        metavar="LINE",
        help="an apt sources line for mmdebstrap (repeatable; default: deb.debian.org bookworm)",
    )
    make.add_argument(
        "--runtime-suite",
        action="append",
        dest="runtime_suites",
        metavar="SUITE",
        default=[],
        help="also make a runtime base of another Debian release, tagged pytest-rustimage/runtime:SUITE-slim "
        "(repeatable; e.g. bullseye: a runtime older than the builder)",
    )
    _add_prune(commands)
    args = parser.parse_args(argv)
    if args.command == "prune":
        return _prune(args)
    sources = tuple(args.sources) if args.sources else bases.DEFAULT_SOURCES
    chosen = list(dict.fromkeys(args.engine or ["docker"]))
    engines = [make_engine(name) for name in chosen]
    try:
        for engine in engines:
            engine.ping()
        bases.ensure_runtime(engines, sources=sources, force=args.force)
        bases.ensure_builder(engines, sources=sources, force=args.force)
        bases.ensure_cc_runtime(engines, sources=sources, force=args.force)
        for suite in dict.fromkeys(args.runtime_suites):
            if suite != bases.SUITE:
                bases.ensure_runtime(engines, sources=sources, force=args.force, suite=suite)
    except RustImageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        for engine in engines:
            engine.close()
    others = "".join(f"\nruntime: {bases.runtime_tag(suite)}" for suite in dict.fromkeys(args.runtime_suites))
    print(f"builder: {names.LOCAL_BUILDER}\nruntime: {names.LOCAL_RUNTIME}\nruntime: {names.LOCAL_CC_RUNTIME}{others}")
    return 0


def _add_prune(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cmd = commands.add_parser(
        "prune",
        help="remove the images and containers the plugin made and no longer uses",
        description="Remove, per engine, older builds of each crate and strategy (the latest session's stay), "
        "cache-probe leftovers, untagged images and stopped containers carrying the plugin's label. Images "
        "without the plugin's label and the base images are never touched (see docs/housekeeping.md).",
    )
    cmd.add_argument(
        "--engine", choices=ENGINE_NAMES, action="append", help="engine(s) to prune (default: every one that answers)"
    )
    cmd.add_argument("--dry-run", action="store_true", help="list what would be removed, remove nothing")
    cmd.add_argument(
        "--all", action="store_true", dest="everything", help="every image the plugin built, the latest ones too"
    )
    cmd.add_argument(
        "--bases", action="store_true", help="base images too: replaced ones (with --all: the current ones as well)"
    )
    cmd.add_argument(
        "--cache-mounts",
        action="store_true",
        help="the build cache mounts of the plugin's incremental strategy too (with --crate: those crates' "
        "target/ mounts); never other builds' cache",
    )
    cmd.add_argument("--keep", type=int, default=1, metavar="N", help="sessions kept per crate and strategy (1)")
    cmd.add_argument(
        "--grace",
        default=f"{prune.DEFAULT_GRACE:g}s",
        metavar="AGE",
        help="leave leftovers younger than AGE, which a running session may own (e.g. 0, 30m, 2h; default 1h)",
    )
    cmd.add_argument(
        "--crate", action="append", dest="crates", metavar="NAME", help="only this crate's images (repeatable)"
    )


def _prune(args: argparse.Namespace) -> int:
    try:
        policy = prune.Policy(
            keep=args.keep,
            everything=args.everything,
            bases=args.bases,
            grace=prune.parse_duration(args.grace),
            crates=tuple(names.tag_part(name) for name in args.crates or ()),
        )
    except RustImageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    asked = list(dict.fromkeys(args.engine or ()))
    failed = False
    answered = 0
    for name in asked or ENGINE_NAMES:
        engine = make_engine(name)
        try:
            engine.ping()
        except EngineUnavailable as exc:
            engine.close()
            print(f"{name}: skipped, {exc}", file=sys.stderr if asked else sys.stdout)
            failed = failed or bool(asked)
            continue
        answered += 1
        try:
            print(prune.describe(prune.prune_engine(engine, policy, dry_run=args.dry_run)))
            if args.cache_mounts:
                print(
                    prune_mounts.describe_mounts(
                        prune_mounts.prune_cache_mounts(engine, dry_run=args.dry_run, crates=policy.crates)
                    )
                )
        except RustImageError as exc:
            print(f"{name}: error: {exc}", file=sys.stderr)
            failed = True
        finally:
            engine.close()
    if not answered:
        print("error: no engine answered; nothing was pruned", file=sys.stderr)
    return 1 if failed or not answered else 0


if __name__ == "__main__":
    sys.exit(main())

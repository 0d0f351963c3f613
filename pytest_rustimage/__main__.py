"""Command line: ``python -m pytest_rustimage bases``."""

from __future__ import annotations

import argparse
import sys

from pytest_rustimage import bases
from pytest_rustimage.engines import ENGINE_NAMES, make_engine
from pytest_rustimage.errors import RustImageError


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
    args = parser.parse_args(argv)
    sources = tuple(args.sources) if args.sources else bases.DEFAULT_SOURCES
    names = list(dict.fromkeys(args.engine or ["docker"]))
    engines = [make_engine(name) for name in names]
    try:
        for engine in engines:
            engine.ping()
        bases.ensure_runtime(engines, sources=sources, force=args.force)
        bases.ensure_builder(engines, sources=sources, force=args.force)
    except RustImageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        for engine in engines:
            engine.close()
    print(f"builder: {bases.BUILDER_TAG}\nruntime: {bases.RUNTIME_TAG}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The background chapter's recipes written by hand (``naive`` and ``chef``) as the benchmark builds them:
offline, from vendored sources, copying the crate's sources by name (pure: texts only)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pytest_rustimage.names import DEFAULT_BUILDER, DEFAULT_RUNTIME

RECIPES = ("naive", "chef")
SKIPPED = ("target", "vendor")  # top-level entries that are not the crate's sources
VENDOR_LAYER = ["COPY .cargo .cargo", "COPY vendor vendor"]  # the vendored sources and cargo's replacement


def vendor_config(directory: str = "vendor") -> str:
    """``.cargo/config.toml`` for the hand recipes: crates.io replaced by ``directory`` (relative to the
    folder holding ``.cargo``), offline."""
    return (
        "# written by the pytest-rustimage benchmark: vendored sources, no network\n"
        '[source.crates-io]\nreplace-with = "vendored-sources"\n\n'
        f'[source.vendored-sources]\ndirectory = "{directory}"\n\n'
        "[net]\noffline = true\n"
    )


@dataclass(frozen=True)
class Sources:
    """The crate's top-level files and folders a hand recipe copies as its sources (``vendor/`` and
    ``.cargo/`` have a layer of their own)."""

    files: tuple[str, ...] = ("Cargo.lock", "Cargo.toml")
    folders: tuple[str, ...] = ("src",)


def source_entries(entries: Iterable[tuple[str, bool]]) -> Sources:
    """The sources among a crate folder's top-level ``(name, is_folder)`` entries: all but ``vendor/``,
    ``target/`` and hidden ones (``.cargo/`` among them), sorted."""
    kept = sorted((name, folder) for name, folder in entries if not name.startswith(".") and name not in SKIPPED)
    return Sources(tuple(n for n, f in kept if not f), tuple(n for n, f in kept if f))


def sources_of(folder: Path) -> Sources:
    """The sources of the crate in ``folder`` (a linked folder counts as a file: ``COPY`` keeps the link)."""
    return source_entries((p.name, p.is_dir() and not p.is_symlink()) for p in folder.iterdir())


def _copy(names: Sequence[str], dest: str) -> str:
    """A ``COPY`` line, in the JSON form when a name would need quoting."""
    if all(re.fullmatch(r"[A-Za-z0-9_.+@=-]+", n) for n in names):
        return f"COPY {' '.join(names)} {dest}"
    return f"COPY {json.dumps([*names, dest])}"


def copy_sources(sources: Sources) -> list[str]:
    """The ``COPY`` lines of the sources: the files in one, each folder in one of its own."""
    lines = [_copy(sources.files, "./")] if sources.files else []
    return lines + [_copy([d], f"{d}/") for d in sources.folders]


def _recipe_body(recipe: str, own: Sequence[str]) -> list[str]:
    """The build stages of ``recipe``, ``own`` being the ``COPY`` lines of the crate's sources."""
    if recipe == "naive":
        return ["FROM ${BUILDER_IMAGE} AS builder", "WORKDIR /app", *VENDOR_LAYER, *own, "RUN cargo build --release"]
    if recipe == "chef":
        return [
            "FROM ${BUILDER_IMAGE} AS chef",
            "RUN command -v cargo-chef >/dev/null || cargo install cargo-chef",
            "WORKDIR /app",
            "",
            "FROM chef AS planner",
            *own,
            "RUN cargo chef prepare --recipe-path recipe.json",
            "",
            "FROM chef AS builder",
            *VENDOR_LAYER,
            "COPY --from=planner /app/recipe.json recipe.json",
            "RUN cargo chef cook --release --recipe-path recipe.json",
            *own,
            "RUN cargo build --release",
        ]
    raise ValueError(f"no recipe {recipe!r}: {', '.join(RECIPES)}")


def render_recipe(recipe: str, binary: str, sources: Sources = Sources()) -> str:
    """The background chapter's recipe ``naive`` or ``chef`` as a Dockerfile, offline.

    As in the chapter, except: the base images are ``ARG``\\ s (defaulting to the plugin's defaults);
    cargo-chef is installed only when the builder lacks it; the context carries ``vendor/`` and
    ``.cargo/config.toml`` as a team that vendors would have them, copied in a layer of their own
    before the dependency step (the cook step, or the naive recipe's one build), and the source steps
    copy ``sources`` only, so an edit never copies the vendored sources again.
    """
    header = [
        f"# The chapter's {recipe} recipe, written by the pytest-rustimage benchmark",
        f"ARG BUILDER_IMAGE={DEFAULT_BUILDER}",
        f"ARG RUNTIME_IMAGE={DEFAULT_RUNTIME}",
        "",
    ]
    body = _recipe_body(recipe, copy_sources(sources))
    runtime = [
        "",
        "FROM ${RUNTIME_IMAGE}",
        f"COPY --from=builder /app/target/release/{binary} /usr/local/bin/",
        f'CMD ["{binary}"]',
        "",
    ]
    return "\n".join(header + body + runtime)

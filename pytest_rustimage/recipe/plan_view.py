"""The planner's view of the workspace: its files' names, but the contents only of what decides the recipe.

cargo-chef's ``prepare`` makes ``recipe.json`` from the workspace's manifests, its lockfile, its cargo
config and its toolchain file, and from which files exist (cargo discovers ``src/main.rs``,
``src/bin/*.rs``, ``build.rs``, ``tests/``, ``benches/``, ``examples/`` by their presence), never from
what a source file holds. So the planner stage is given a copy of the workspace (``plan/`` in the
context) in which every other file is empty: the recipe is the same, and an edit of a source file
leaves the planner's layer as it was. Without this, every edit reruns the planner (a container start
and ``cargo chef prepare``) before the cook layer can be found cached: time on every rebuild, for
nothing. A file added, removed or renamed still changes the view, as it may change the recipe.

Checked against ``cargo chef prepare`` itself on every sample crate: the recipe from the view is byte
for byte the recipe from the workspace. The view is updated in place, writing only what differs, so a
kept context sends BuildKit nothing new when only sources changed.
"""

from __future__ import annotations

import os
from pathlib import Path

from pytest_rustimage.recipe.tree import files_of, make_room, prune_beyond, under_link

# the files whose contents cargo-chef's recipe is made of, by name (a cargo config only under .cargo/)
SHAPING = frozenset({"Cargo.toml", "Cargo.lock", "rust-toolchain", "rust-toolchain.toml"})
CARGO_CONFIGS = frozenset({"config", "config.toml"})


def shapes_recipe(rel: str) -> bool:
    """Whether the file at ``rel`` (relative to the workspace, ``/``-separated) is read by the planner."""
    parts = rel.split("/")
    return parts[-1] in SHAPING or (len(parts) >= 2 and parts[-2] == ".cargo" and parts[-1] in CARGO_CONFIGS)


def plan_view(app: Path, dest: Path) -> None:
    """Make ``dest`` the planner's view of the workspace copy ``app``: the same paths and links, the
    files that shape the recipe with their bytes, every other file empty. A file a link in the
    workspace leads to (or one under a linked folder) keeps its bytes too, since it may be a manifest
    or a cargo config under another name (``Cargo.toml -> manifests/app.toml``, ``.cargo -> config/``)."""
    dest.mkdir(parents=True, exist_ok=True)
    linked = _reached_by_links(app)
    wanted: set[str] = set()
    real: set[str] = {"."}
    for rel, source in files_of(app):
        wanted.add(rel)
        target = dest / rel
        through_link = under_link(dest, target, real)  # an earlier view's link where a folder is now
        if source.is_symlink():
            _ensure_link(dest, target, os.readlink(source), through_link)
        else:
            filled = shapes_recipe(rel) or rel in linked
            _ensure_file(dest, target, source.read_bytes() if filled else b"", through_link)
    prune_beyond(dest, wanted)


def _reached_by_links(app: Path) -> set[str]:
    """The files of ``app`` (relative paths) that a link in it leads to, or that lie under a folder a
    link leads to; links that lead out of ``app`` are left out (the context refuses them)."""
    root = app.resolve()
    found: set[str] = set()
    for _rel, path in files_of(app):
        if not path.is_symlink():
            continue
        real = path.resolve()
        if not real.is_relative_to(root):
            continue
        if real.is_dir():
            found |= {p.relative_to(root).as_posix() for p in real.rglob("*") if p.is_file() or p.is_symlink()}
        elif real.is_file():
            found.add(real.relative_to(root).as_posix())
    return found


def _ensure_link(dest: Path, target: Path, link: str, through_link: bool) -> None:
    if not through_link and target.is_symlink() and os.readlink(target) == link:
        return
    make_room(dest, target)
    target.symlink_to(link)


def _ensure_file(dest: Path, target: Path, data: bytes, through_link: bool) -> None:
    same_size = not target.is_symlink() and target.is_file() and target.stat().st_size == len(data)
    if not through_link and same_size and (not data or target.read_bytes() == data):
        return  # unchanged: its time stays, and BuildKit sends nothing
    make_room(dest, target)
    target.write_bytes(data)

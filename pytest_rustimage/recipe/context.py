"""The build context: which files go in, and a digest of everything a build depends on.

The crate's workspace is copied under ``app/`` in a fresh folder, leaving out
``target/``, ``.git`` (both at the top), every file or folder whose name starts
with ``.env`` (``.env``, ``.env.local``, ``.envrc``, at any depth: they
usually hold secrets) and what the workspace's ``.dockerignore`` excludes
(:mod:`pytest_rustimage.recipe.dockerignore`).
``target/`` and ``.git`` cannot be brought back; a ``.env`` file can, by a
``!`` pattern in ``.dockerignore`` that spells out its ``.env`` name (such as
``!.env.example``), never by a wildcard alone (``!*``).

Only regular files, folders and symbolic links can go in. A link is kept as a
link (as ``COPY`` keeps it), also when its target is missing, but a link whose
target lies outside the workspace is refused, and so are named pipes, sockets
and device files (reading them would hang or fail): each with a message naming
the path and suggesting ``.dockerignore``.

In vendored mode ``cargo vendor`` runs on the host against that copy (so the
user's tree is never touched, even when it has no ``Cargo.lock``) and the
sources land beside ``app/`` under ``vendor/``.

The ``dockerfile`` strategy builds the crate's folder as it is; in vendored
mode it builds a copy of that folder instead (the same exclusions), with the
vendored sources under ``vendor/`` and the crate's own ``.cargo/config.toml``
(if any) merged with the source replacement (:func:`vendored_cargo_config`)
at its root, so that a ``COPY . .`` Dockerfile builds offline unchanged.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Collection, Iterator, Mapping, Sequence
from pathlib import Path

from pytest_rustimage.engines.protocol import Engine
from pytest_rustimage.errors import CrateError
from pytest_rustimage.folders import cache_folder
from pytest_rustimage.names import tag_part
from pytest_rustimage.recipe.cargo_config import vendored_cargo_config
from pytest_rustimage.recipe.dockerfile import Recipe, vendor_config
from pytest_rustimage.recipe.dockerignore import (
    engine_excluded,
    is_excluded,
    negated_below,
    outputs_below,
    read_dockerignore,
)
from pytest_rustimage.recipe.plan_view import plan_view
from pytest_rustimage.recipe.spec import ImageSpec
from pytest_rustimage.recipe.strategies import render
from pytest_rustimage.recipe.tree import sync


def context_files(
    root: Path, patterns: Sequence[str] | None = None, *, as_engine: bool = False
) -> Iterator[tuple[str, Path]]:
    """(relative posix path, path) of every file that goes into the context, sorted. ``as_engine``:
    what an engine sends of the folder, its ``.dockerignore`` alone (``target/``, ``.git`` and ``.env*``
    go in unless it leaves them out)."""
    patterns = read_dockerignore(root) if patterns is None else patterns
    if not as_engine:  # the session's reports and baseline are never build inputs (recipe/dockerignore.py)
        patterns = (*patterns, *outputs_below(root))
    excluded = engine_excluded if as_engine else is_excluded
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        rel_dir = here.relative_to(root).as_posix()
        rel_dir = "" if rel_dir == "." else rel_dir + "/"
        dirs[:] = sorted(
            d
            for d in dirs
            if not excluded(rel_dir + d, patterns)
            or (not as_engine and negated_below(rel_dir + d, patterns))
            or (as_engine and any(p.startswith("!") for p in patterns))
        )
        links = [d for d in dirs if (here / d).is_symlink()]  # links to folders are entries, not walked
        dirs[:] = [d for d in dirs if d not in links]
        for name in sorted(files + links):
            rel = rel_dir + name
            if not excluded(rel, patterns):
                yield rel, here / name


_SPECIAL = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def _unreadable(root: Path, rel: str, exc: OSError) -> CrateError:
    return CrateError(f"{rel}: cannot read: {exc.strerror or exc}; fix it, or list it in .dockerignore", root)


def _check_kind(root: Path, rel: str, path: Path, *, links_inside: bool) -> None:
    """Refuse what cannot go into a context: special files and (``links_inside``) links out of ``root``."""
    try:
        mode = path.lstat().st_mode
    except OSError as exc:
        raise _unreadable(root, rel, exc) from exc
    if stat.S_ISLNK(mode):
        # realpath, not Path.resolve: it neither raises on a loop nor needs the target to exist
        target = Path(os.path.realpath(path))
        if links_inside and not target.is_relative_to(os.path.realpath(root)):
            raise CrateError(
                f"{rel} is a symbolic link to {target}, outside the build context; copy the file into the "
                "crate instead, or list the link in .dockerignore",
                root,
            )
        return
    for test, kind in _SPECIAL:
        if test(mode):
            raise CrateError(
                f"{rel} is {kind}, not a regular file, and cannot go into a build context; "
                "remove it, or list it in .dockerignore",
                root,
            )


def checked_files(root: Path, *, links_inside: bool = True, as_engine: bool = False) -> Iterator[tuple[str, Path]]:
    """:func:`context_files`, each checked to be something a context can hold (see :func:`_check_kind`)."""
    for rel, path in context_files(root, as_engine=as_engine):
        _check_kind(root, rel, path, links_inside=links_inside)
        yield rel, path


def copy_tree(root: Path, dest: Path, *, keep: Collection[str] = (), as_engine: bool = False) -> list[str]:
    """Make ``dest`` hold the context files of ``root`` (links kept as links, as ``COPY`` keeps them),
    copying only what differs and removing what ``root`` no longer has, except the top-level names in
    ``keep``, which ``root``'s files under them do not touch either; refuse links that leave ``root`` and
    special files. Returns the files' relative paths.
    ``as_engine``: the files an engine would send of ``root`` (see :func:`context_files`)."""
    listed: list[str] = []

    def entries() -> Iterator[tuple[str, Path]]:
        for rel, path in checked_files(root, as_engine=as_engine):
            if rel.split("/")[0] in keep:
                continue
            listed.append(rel)
            yield rel, path

    sync(entries(), dest, keep=keep, on_error=lambda rel, exc: _unreadable(root, rel, exc))
    return listed


def digest_inputs(root: Path, extra: Mapping[str, str]) -> str:
    """A digest of the context files (names, modes, contents) and every other input.

    Links are hashed as their target text, wherever they point: for the ``dockerfile`` strategy the
    engine sends the crate folder as it is, and copies links as links.
    """
    digest = hashlib.sha256()
    for key, value in sorted(extra.items()):
        digest.update(f"{key}={value}\0".encode())
    for rel, path in checked_files(root, links_inside=False):
        name = os.fsencode(rel)  # names need not be UTF-8
        if path.is_symlink():
            digest.update(name + b"\0link\0" + os.fsencode(os.readlink(path)) + b"\0")
            continue
        try:
            digest.update(name + b"\0" + oct(path.stat().st_mode & 0o111).encode() + b"\0")
            with open(path, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
        except OSError as exc:
            raise _unreadable(root, rel, exc) from exc
        digest.update(b"\0")
    return digest.hexdigest()


def input_digest(root: Path, dockerfile: Path, extra: Mapping[str, str]) -> str:
    """:func:`digest_inputs` of ``root`` with the text of ``dockerfile`` among the other inputs, always:
    the engine reads the Dockerfile apart from the context, so a ``.dockerignore`` that lists it (or a
    place outside the context) leaves it out of the files, never out of the build."""
    return digest_inputs(root, {**extra, "dockerfile": dockerfile.read_text()})


def stable_folder(spec: ImageSpec) -> Path:
    """The folder that keeps ``spec``'s build context between runs (in the user's cache folder), so that
    each build updates it in place and BuildKit sends only what changed."""
    key = json.dumps([str(spec.crate.root.resolve()), str(spec.crate.manifest_path), spec.key])
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    return cache_folder("contexts") / f"{tag_part(spec.crate.name)}-{spec.strategy}-{spec.engine}-{digest}"


def probe_folder(spec: ImageSpec) -> Path:
    """The folder that keeps the cache probe's edited copy of ``spec``'s crate and its context between
    runs, beside :func:`stable_folder`'s: the copy is synced from the crate before each edit, so each
    probe starts from the crate as it is, and its context (with the vendored sources) is updated in place."""
    kept = stable_folder(spec)
    return kept.with_name(kept.name + "-probe")


def builder_key(spec: ImageSpec, engine: Engine) -> str:
    """What names the builder image in a generated Dockerfile that keeps a cache mount: its id in
    ``engine``, or its reference when the engine does not have it (yet); '' for other strategies."""
    if not spec.traits.cache_mounts:
        return ""
    return engine.image_id(spec.builder_image) or spec.builder_image


def prepare(
    spec: ImageSpec, workdir: Path, source: Path | None = None, *, folder: Path | None = None, builder: str = ""
) -> tuple[Path, Path, Path]:
    """The build context of ``spec``: (context folder, Dockerfile, folder whose files are build inputs).

    The build inputs are the crate's own files (``source``'s, when given), never the context's copy of
    them: the image's tag is their digest, so a copy that missed a change can never pass for it.

    A generated strategy's context has the workspace (``source``, default: the crate's) under ``app/``,
    its Dockerfile and, in vendored mode, the cargo config. The ``dockerfile`` strategy builds the
    crate's folder (in ``source``, a copy of the workspace, when given) as it is, or in vendored mode a
    copy of it: see :func:`own_context`. A context is made in ``folder`` (updated in place: see
    :func:`stable_folder`), else in a fresh folder in ``workdir``. ``builder`` (from :func:`builder_key`)
    names the ``incremental`` strategy's ``target/`` cache mount with the crate and binary.
    """
    if not spec.traits.generated:
        return own_context(spec, workdir, source, folder=folder)
    context = folder or _fresh(spec, workdir)
    copy_tree(source or spec.crate.root, context / "app")
    plan_view(context / "app", context / "plan")  # what the planner stage copies (recipe/plan_view.py)
    recipe = Recipe(
        strategy=spec.strategy,
        package=spec.binary.package,
        binary=spec.binary.name,
        locked=(context / "app" / "Cargo.lock").is_file(),
        vendored=spec.vendor,
        secrets=spec.secret_build_args,
        crate=spec.crate.name,
        builder=builder,
        auditable=spec.auditable,
    )
    dockerfile = context / "Dockerfile"
    _write_if_changed(dockerfile, render(recipe))
    if spec.vendor:
        _write_if_changed(context / "cargo-vendor.toml", vendor_config())
    else:  # left from a vendored build in this folder
        (context / "cargo-vendor.toml").unlink(missing_ok=True)
        shutil.rmtree(context / "vendor", ignore_errors=True)
    return context, dockerfile, source or spec.crate.root


def compiles_c(lock: Path) -> bool:
    """Whether the lockfile has the ``cc`` crate (a dependency compiles C); False without a lockfile."""
    try:
        return re.search(r'^name = "cc"$', lock.read_text(errors="replace"), re.M) is not None
    except OSError:
        return False


def _fresh(spec: ImageSpec, workdir: Path) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"{tag_part(spec.crate.name)}-{spec.strategy}-", dir=workdir))


def _write_if_changed(path: Path, text: str) -> None:
    """Write ``text`` unless ``path`` holds it already (its time stays, and BuildKit sends nothing)."""
    try:
        if path.read_text(encoding="utf-8") == text:
            return
    except (OSError, UnicodeDecodeError):
        pass
    path.write_text(text, encoding="utf-8")


def own_context(
    spec: ImageSpec, workdir: Path, source: Path | None = None, *, folder: Path | None = None
) -> tuple[Path, Path, Path]:
    """The context of the ``dockerfile`` strategy, as :func:`prepare` returns it.

    Without vendoring: the crate's folder itself. In vendored mode: a fresh folder in ``workdir`` with
    that folder's context files (:func:`copy_tree`), without its ``.dockerignore`` (applied already:
    the engine must not leave out ``vendor/`` or ``.cargo/`` because it lists them), and the crate's
    cargo config merged with the source replacement at ``.cargo/config.toml``; :func:`vendor_context`
    adds ``vendor/``. The Dockerfile stays where it is (a ``.dockerignore`` may leave it out).
    """
    assert spec.dockerfile is not None
    target = folder
    folder = spec.crate.manifest_path.parent
    dockerfile = spec.dockerfile
    if source is not None:  # a copy of the workspace root (the cache probe's edited copy)
        folder = source / folder.resolve().relative_to(spec.crate.root.resolve())
        dockerfile = dockerfile_of_copy(spec, source)
    if not spec.vendor:
        return folder, dockerfile, folder
    context = target or _fresh(spec, workdir)
    # the vendored sources replace the crate's own vendor/ (if any), and their record stays
    copy_tree(folder, context, keep=("vendor", ".vendor.entry", ".vendor.synced"))
    (context / ".dockerignore").unlink(missing_ok=True)
    cargo = context / ".cargo"
    # cargo reads .cargo/config (no extension) in preference to config.toml when both are there
    legacy, current = cargo / "config", cargo / "config.toml"
    crate_config = legacy if legacy.is_file() else current
    existing = crate_config.read_text(encoding="utf-8") if crate_config.is_file() else None
    where = folder / ".cargo" / crate_config.name
    merged = vendored_cargo_config(existing, where=str(where))
    legacy.unlink(missing_ok=True)
    cargo.mkdir(exist_ok=True)
    _write_if_changed(current, merged)
    return context, dockerfile, folder


OUTSIDE_DOCKERFILE = "dockerfile"  # beside a copy of the workspace: the folder of a Dockerfile from outside it
OWN_IGNORE_SUFFIXES = (".dockerignore", ".containerignore")  # Dockerfile.dockerignore: read before the context's


def dockerfile_of_copy(spec: ImageSpec, source: Path) -> Path:
    """The Dockerfile of a copy of the workspace (``source``, the cache probe's): at its own place in the
    copy when it lies in the workspace, else in a folder beside the copy (never in a build context).
    A spec whose Dockerfile is in the copy already keeps it."""
    assert spec.dockerfile is not None
    own = spec.dockerfile.parent.resolve() / spec.dockerfile.name  # the file's own name, even a link's
    if own.is_relative_to(source.resolve()):
        return spec.dockerfile
    root = spec.crate.root.resolve()
    if own.is_relative_to(root):
        return source / own.relative_to(root)
    return source.parent / OUTSIDE_DOCKERFILE / own.name


def bring_dockerfile(spec: ImageSpec, source: Path) -> Path:
    """Give the copy ``source`` of the workspace the image's own Dockerfile where
    :func:`dockerfile_of_copy` says, when the copy has none there: a ``.dockerignore`` that lists it
    left it out of the copy (the engine reads the Dockerfile apart from the context, so the image was
    built with it all the same), or it lies outside the workspace. Its own ignore files
    (``Dockerfile.dockerignore``, which the builder prefers to the context's) come along the same way.
    Returns its path in the copy."""
    assert spec.dockerfile is not None
    place = dockerfile_of_copy(spec, source)
    for suffix in ("", *OWN_IGNORE_SUFFIXES):
        original = spec.dockerfile.with_name(spec.dockerfile.name + suffix)
        there = place.with_name(place.name + suffix)
        if (not suffix or original.is_file()) and not os.path.lexists(there):
            there.parent.mkdir(parents=True, exist_ok=True)
            try:
                shutil.copyfile(original, there)
            except OSError as exc:
                raise CrateError(f"cannot read the Dockerfile: {exc.strerror or exc}", original) from exc
    return place

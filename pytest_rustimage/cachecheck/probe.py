"""The layer-cache probe: edit a copy of the crate, build it once more, and judge that rebuild.

The baseline is the session's own build of the image: its log shows which steps compiled the
third-party crates. Only when the session did not build the image (it was reused) is the unchanged
copy built first, with the cache, to stand in for it; ``--rust-image-cold-probe`` makes that baseline
a ``--no-cache`` build instead, for those who want cold numbers. Then the edit (default: a comment
appended to the binary's main source file, with a fresh stamp no build has seen) is applied to the
copy, which is built again with the cache, and :func:`pytest_rustimage.cachecheck.verdict.assess` judges
the rebuild: no step may compile a third-party crate.

Why one build proves the claim: the rebuild differs from the image's own inputs by the edit alone,
so a step that compiles a third-party crate after it is a step that the edit invalidated.

The check runs every edit kind the spec asks for (:mod:`pytest_rustimage.cachecheck.edits`), each on
its own fresh copy and one rebuild each, after the one baseline (:meth:`CacheProbe.matrix`); each
kind's report is kept per image for the session and, in the user's cache folder, with the image's tag
(which carries its input digest), image id, engine and the edit's key (the kind's edit without its
stamp), so a later run with the same inputs reports it without building; ``--rust-image-rebuild``
probes again, once per run (xdist workers of a run share a lock per kind and the stored report). A
``member`` edit whose build fails is reported, not raised: that kind is never gated.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from pytest_rustimage.cachecheck.assess import assess
from pytest_rustimage.cachecheck.edit import Edit
from pytest_rustimage.cachecheck.edits import make
from pytest_rustimage.cachecheck.matrix import CacheMatrix, MatrixRow, judge
from pytest_rustimage.cachecheck.verdict import CacheReport, from_data, to_data
from pytest_rustimage.engines import Engine
from pytest_rustimage.engines.protocol import BuildOutput, LineSink
from pytest_rustimage.errors import BuildFailed, ConfigError, RustImageError
from pytest_rustimage.folders import cache_folder, write_private
from pytest_rustimage.locks import exclusive, held_if_free, lock_folder, lock_path
from pytest_rustimage.names import probe_tag
from pytest_rustimage.recipe.context import bring_dockerfile, builder_key, copy_tree, prepare, probe_folder
from pytest_rustimage.recipe.request import build_request
from pytest_rustimage.recipe.spec import ImageSpec
from pytest_rustimage.recipe.vendored import vendor_context

Say = Callable[[str], None]


class BuildFacts(Protocol):
    """How the probed image came to be, as far as the probe reads it."""

    @property
    def reused(self) -> bool: ...
    @property
    def log(self) -> str: ...
    @property
    def duration(self) -> float: ...


class ProbedImage(Protocol):
    """What the probe reads of an image (the session's ``RustImage`` is one)."""

    @property
    def spec(self) -> ImageSpec: ...
    @property
    def tag(self) -> str: ...
    @property
    def id(self) -> str: ...
    @property
    def build(self) -> BuildFacts: ...


STORE_FORMAT = 2  # 2: reports say which steps hid cargo's output (a format-1 pass may be one of them)


class CacheProbe:
    """Probes for one session; each image's edit matrix is kept (:attr:`matrices`), each kind's row once."""

    def __init__(
        self,
        engines: Callable[[str], Engine],
        *,
        workdir: Path,
        session_id: str,
        run_id: str,
        labels: dict[str, str],
        say: Say,
        progress: Callable[[], LineSink | None],
        lock_dir: Path | None = None,
    ) -> None:
        self._engines = engines
        self._workdir = workdir
        self._session_id = session_id
        self._run_id = run_id
        self._labels = labels
        self._say = say
        self._progress = progress
        self._lock_dir = lock_dir
        self.matrices: dict[tuple[str, ...], CacheMatrix] = {}  # the edit matrix of each image, by ImageSpec.key
        self._rows: dict[tuple[tuple[str, ...], str], MatrixRow] = {}  # by (ImageSpec.key, kind)
        self._baselines: dict[tuple[str, ...], tuple[str, float | None, str]] = {}  # by ImageSpec.key

    def __call__(self, image: ProbedImage, edit: Edit | None = None, *, kind: str | None = None) -> CacheReport:
        """Apply ``edit`` (default: the ``kind`` edit, ``source`` unless said: a comment in the binary's main
        source file) to a copy of the crate, build it again with the cache, and report what it compiled.
        A kind that does not apply to the crate is a :class:`ConfigError` naming why."""
        if edit is not None:
            return self._measure(image, edit)
        row = self.row(image, kind or "source")
        if row.report is None:
            raise ConfigError(f"{image.spec.what}: the {row.kind} edit: {row.reason}")
        return row.report

    def matrix(self, image: ProbedImage) -> CacheMatrix:
        """Every edit kind the image's spec asks for, each on its own copy (kept per image, :attr:`matrices`)."""
        spec = image.spec
        if spec.key not in self.matrices:
            self.matrices[spec.key] = CacheMatrix(tuple(self.row(image, kind) for kind in spec.cache_edits))
        return self.matrices[spec.key]

    def measured(self) -> dict[tuple[str, ...], CacheMatrix]:
        """Every image's matrix: the check's, else the kinds probed through ``rebuild_after`` (in that order)."""
        found: dict[tuple[str, ...], list[MatrixRow]] = {}
        for (key, _), row in self._rows.items():
            found.setdefault(key, []).append(row)
        return {**{key: CacheMatrix(tuple(rows)) for key, rows in found.items()}, **self.matrices}

    def row(self, image: ProbedImage, kind: str) -> MatrixRow:
        """One kind's row: its edit measured once per session, its verdict stored per (image, kind)."""
        spec = image.spec
        if (spec.key, kind) not in self._rows:
            made = make(kind, spec.crate, spec.binary, uuid.uuid4().hex[:8])
            if kind == "non-rust" and spec.traits.copies_only_rust:  # no own crate may compile: gate it
                made = dataclasses.replace(made, allowed_own=frozenset())
            try:
                report = None if made.edit is None else self._stored_or_measured(image, made.edit, kind)
            except BuildFailed as exc:
                if made.gated:
                    raise
                self._say(f"rust-image: cache probe for {spec.what} ({kind} edit): {exc.reason}")  # reported only
                self._rows[spec.key, kind] = MatrixRow(kind, False, None, exc.reason.splitlines()[0][:300])
                return self._rows[spec.key, kind]
            self._rows[spec.key, kind] = judge(made, report)
        return self._rows[spec.key, kind]

    def _stored_or_measured(self, image: ProbedImage, edit: Edit, kind: str) -> CacheReport:
        spec = image.spec
        engine = self._engines(spec.engine)
        try:
            stored_at: Path | None = self._stored_path(engine, image, edit)
        except RustImageError:  # no usable cache folder: probe, and keep the verdict for this session only
            stored_at = None
        lock = lock_path(self._lock_dir or lock_folder(), engine.endpoint, f"cache probe {image.tag} {kind}")
        # the holder's builds (up to two, each after a Podman build's turn, and vendoring) are bounded
        bound = 3 * spec.build_timeout + 1800
        with exclusive(lock, what=f"the cache probe of {spec.what}", timeout=bound, say=self._say):
            found = _load(stored_at) if stored_at is not None else None
            if found is not None and (not spec.rebuild or found[1] == self._run_id):
                report = found[0]
                when = time.strftime("%Y-%m-%d %H:%M", time.localtime(report.measured_at))
                self._say(
                    f"rust-image: cache probe for {spec.what}: inputs unchanged, reporting the verdict of {when} "
                    f"for the {kind} edit"
                )
            else:
                report = self._measure(image, edit)
                if stored_at is not None:
                    with contextlib.suppress(RustImageError):  # a verdict that cannot be kept is only not kept
                        _save(stored_at, report, self._run_id)
        return report

    def _measure(self, image: ProbedImage, edit: Edit) -> CacheReport:
        spec = image.spec
        engine = self._engines(spec.engine)
        what = spec.what
        with contextlib.ExitStack() as stack:
            root, kept = self._folder(spec, stack)
            source = root / "crate"
            # what the image's own build read: the engine's view of the crate's folder for a crate's own
            # Dockerfile built from that folder (target/, .git go in unless its .dockerignore says not)
            copy_tree(spec.crate.root, source, as_engine=not (spec.traits.generated or spec.vendor))
            if not spec.traits.generated:  # the engine reads it apart from the context, wherever it is
                bring_dockerfile(spec, source)
            tag = probe_tag(spec.crate.name, spec.strategy, self._session_id)
            made: list[str] = []
            try:
                log, seconds, how = self._baseline(image, engine, source, tag, made)
                description = edit.apply(source)
                self._say(f"rust-image: cache probe for {what}: {description}; building again ...")
                try:
                    rebuild, dockerfile = self._build(spec, engine, source, f"{tag}-warm", made, no_cache=False)
                except BuildFailed as exc:
                    reason = f"the cache probe's build after the edit ({description}) failed: {exc.reason}"
                    raise BuildFailed(reason, exc.log) from exc
            finally:
                for ref in made:
                    engine.remove_image(ref)
                if not kept:
                    shutil.rmtree(root, ignore_errors=True)  # the copy and the contexts made from it
        report = assess(
            edit=description,
            strategy=spec.strategy,
            engine=engine.name,
            baseline_log=log,
            baseline=how,
            baseline_seconds=seconds,
            rebuild_log=rebuild.log,
            rebuild_seconds=rebuild.duration,
            own_crates=[p.name for p in spec.crate.packages],
            dockerfile=dockerfile,
            edited=self._edited(spec, edit),
            measured_at=time.time(),
        )
        self._say(f"rust-image: cache probe for {what}: {report.summary()}")
        return report

    def _baseline(
        self, image: ProbedImage, engine: Engine, source: Path, tag: str, made: list[str]
    ) -> tuple[str, float | None, str]:
        """The build the rebuilds are judged against (its log, seconds, and what it was), once per image:
        every edit kind of the matrix is judged against the same one, so a kind costs one rebuild."""
        spec = image.spec
        if spec.key in self._baselines:
            return self._baselines[spec.key]
        if spec.cold_probe:
            self._say(f"rust-image: cache probe for {spec.what}: cold build of the unchanged crate (no cache) ...")
            first, _ = self._build(spec, engine, source, f"{tag}-cold", made, no_cache=True)
            found = (first.log, first.duration, "a cold build of the unchanged crate (--no-cache)")
        elif not image.build.reused and image.build.log:
            found = (image.build.log, image.build.duration, "this session's build of the image")
        else:
            self._say(f"rust-image: cache probe for {spec.what}: building the unchanged crate (image reused) ...")
            first, _ = self._build(spec, engine, source, f"{tag}-base", made, no_cache=False)
            how = "a build of the unchanged crate with the cache (the image was reused, its own log not at hand)"
            found = (first.log, first.duration, how)
        self._baselines[spec.key] = found
        return found

    def _folder(self, spec: ImageSpec, stack: contextlib.ExitStack[bool | None]) -> tuple[Path, bool]:
        """Where the probe copies and builds the crate, and whether that folder is kept between runs: the
        image's kept probe folder (:func:`probe_folder`), held for this probe, so that the copy and its
        context are updated in place (the vendored sources copied once, and BuildKit sending only what
        changed); a fresh folder, removed after, when another process holds it or there is no cache folder."""
        try:
            folder = probe_folder(spec)
            lock = lock_path(self._lock_dir or lock_folder(), "context", str(folder))
            if stack.enter_context(held_if_free(lock)):
                _clear_beside(folder, keep=("crate", "context"))
                return folder, True
        except RustImageError:
            pass
        return Path(tempfile.mkdtemp(prefix="cache-probe-", dir=self._workdir)), False

    def _build(
        self, spec: ImageSpec, engine: Engine, source: Path, tag: str, made: list[str], *, no_cache: bool
    ) -> tuple[BuildOutput, str]:
        """Build the probe's copy of the crate as the image itself was built; the output and the Dockerfile."""
        # beside the probe's copy; the image's own cache mount, as its build had
        folder = source.parent / "context"
        context, dockerfile, _ = prepare(spec, source.parent, source, folder=folder, builder=builder_key(spec, engine))
        vendor_context(spec, context)
        request = build_request(
            spec, context=context, dockerfile=dockerfile, tag=tag, labels=self._labels, no_cache=no_cache
        )
        made.append(tag)
        return engine.build(request, on_line=self._progress()), dockerfile.read_text(errors="replace")

    @staticmethod
    def _edited(spec: ImageSpec, edit: Edit) -> str | None:
        """The edited file's path in the build context, when the edit names one."""
        if spec.traits.generated or edit.path is None:
            return edited_in_context(edit, generated=spec.traits.generated, crate_folder=".")
        # the context is the folder of the crate's Cargo.toml, wherever its Dockerfile lies
        folder = spec.crate.manifest_path.parent.resolve().relative_to(spec.crate.root.resolve()).as_posix()
        return edited_in_context(edit, generated=spec.traits.generated, crate_folder=folder)

    def _stored_path(self, engine: Engine, image: ProbedImage, edit: Edit) -> Path:
        key = json.dumps([STORE_FORMAT, engine.endpoint, image.tag, image.id, edit.key, image.spec.cold_probe])
        return cache_folder("verdicts") / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.json"


def _clear_beside(folder: Path, *, keep: tuple[str, ...]) -> None:
    """Remove what a kept probe folder holds besides ``keep`` (the copy, updated in place, and its
    context): a Dockerfile from outside the workspace, put beside the copy by an earlier probe, is
    brought again from where it is now, never taken from an earlier run."""
    if not folder.is_dir():
        return
    for entry in folder.iterdir():
        if entry.name in keep:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


def edited_in_context(edit: Edit, *, generated: bool, crate_folder: str) -> str | None:
    """The path of the file ``edit`` changes in the build context (None when the edit names no file, or
    one outside the context): under ``app/`` for a generated Dockerfile, else relative to ``crate_folder``
    (the folder of the crate's Cargo.toml, relative to the crate's root)."""
    if edit.path is None:
        return None
    if generated:
        return f"app/{edit.path}"
    prefix = "" if crate_folder == "." else f"{crate_folder}/"
    return edit.path.removeprefix(prefix) if edit.path.startswith(prefix) else None


def _load(path: Path) -> tuple[CacheReport, str] | None:
    """A stored report and the run that measured it; None when there is none (or it cannot be read)."""
    try:
        data = json.loads(path.read_text())
        return from_data(data["report"]), str(data["run"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _save(path: Path, report: CacheReport, run_id: str) -> None:
    write_private(path, json.dumps({"format": STORE_FORMAT, "run": run_id, "report": to_data(report)}, indent=1))

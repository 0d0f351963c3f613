"""Building images once per session: :class:`ImageFactory`, the build-or-reuse path.

The factory holds a cache keyed by :attr:`ImageSpec.key`: each (crate, strategy, engine, ...) is
obtained at most once per session, failures included. Across sessions and processes the image tag
is derived from every build input (:func:`pytest_rustimage.names.build_tag`), and a lock per engine
and tag (:mod:`pytest_rustimage.locks`) makes one process build while the others wait and reuse.
The engines are the :class:`EnginePool`'s, the cache probe the :class:`CacheProbe`'s.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from pytest_rustimage import __version__
from pytest_rustimage.cachecheck.matrix import CacheMatrix
from pytest_rustimage.cachecheck.probe import CacheProbe
from pytest_rustimage.engines import Engine
from pytest_rustimage.engines.protocol import LineSink
from pytest_rustimage.errors import BuilderUnsupported, BuildFailed, RustImageError, tail
from pytest_rustimage.locks import (
    exclusive,
    failure_of,
    held_if_free,
    last_run,
    lock_folder,
    lock_path,
    record_failure,
    record_run,
)
from pytest_rustimage.names import BUILT_LABEL, INPUTS_LABEL, PLUGIN_LABEL, RUN_LABEL, SESSION_LABEL, build_tag
from pytest_rustimage.recipe import oci
from pytest_rustimage.recipe.context import builder_key, input_digest, prepare, stable_folder
from pytest_rustimage.recipe.request import build_request
from pytest_rustimage.recipe.spec import ImageSpec
from pytest_rustimage.recipe.vendored import vendor_context
from pytest_rustimage.session.image import BuildRecord, RustImage
from pytest_rustimage.session.pool import EnginePool
from pytest_rustimage.session.pulls import pull_failure
from pytest_rustimage.session.twin import Reproducer

Say = Callable[[str], None]
_HOW = {"this run": "built earlier in this run", "concurrent run": "built by a concurrent run"}


class ImageFactory:
    """Builds (or reuses) and caches images for one session; closes what it opened."""

    def __init__(
        self,
        *,
        say: Say | None = None,
        progress: Callable[[], Say] | None = None,
        workdir: Path | None = None,
        run_id: str | None = None,
        lock_dir: Path | None = None,
    ) -> None:
        self.session_id = uuid.uuid4().hex[:12]
        # xdist workers of one run share the run id: an image is built once per run, even when rebuilt
        self.run_id = run_id or self.session_id
        self._lock_dir = lock_dir
        self._say = say or (lambda message: None)
        self._new_progress = progress  # makes one sink of output lines per build
        self._workdir = Path(tempfile.mkdtemp(prefix="rust-image-", dir=workdir))
        self._pool = EnginePool()
        self._images: dict[tuple[str, ...], RustImage | RustImageError] = {}
        self._oci: dict[tuple[str, str], dict[str, str]] = {}  # (crate root, package) -> OCI labels
        self.probe = CacheProbe(
            self._pool.get,
            workdir=self._workdir,
            session_id=self.session_id,
            run_id=self.run_id,
            labels=self.labels,
            say=self._say,
            progress=self._progress,
            lock_dir=lock_dir,
        )
        self.reproducer = Reproducer(
            workdir=self._workdir,
            session_id=self.session_id,
            labels=self.labels,
            say=self._say,
            progress=self._progress,
        )

    @property
    def labels(self) -> dict[str, str]:
        """The labels on everything this session makes (its cleanup finds them by these)."""
        return {PLUGIN_LABEL: __version__, SESSION_LABEL: self.session_id}

    @property
    def cache_matrices(self) -> dict[tuple[str, ...], CacheMatrix]:
        """The cache check's edit matrices (or the kinds tests probed), by :attr:`ImageSpec.key`."""
        return self.probe.measured()

    def engine(self, name: str) -> Engine:
        """The engine by name, checked to answer once per session."""
        return self._pool.get(name)

    def get(self, spec: ImageSpec) -> RustImage:
        """The image for ``spec``, built now, earlier this session, or in an earlier session."""
        if spec.key not in self._images:
            try:
                self._images[spec.key] = self._make(spec)
            except RustImageError as exc:
                self._images[spec.key] = exc
        found = self._images[spec.key]
        if isinstance(found, RustImageError):
            raise found
        return found

    def _make(self, spec: ImageSpec) -> RustImage:
        engine = self.engine(spec.engine)
        missing = engine.cache_mounts_missing() if spec.traits.cache_mounts else None
        if missing is not None:
            raise BuilderUnsupported(f"the {spec.strategy} strategy needs cache mounts, and {missing}")
        with contextlib.ExitStack() as stack:
            folder = self._stable_context(spec, stack)
            builder = builder_key(spec, engine)
            return self._make_in(spec, engine, prepare(spec, self._workdir, folder=folder, builder=builder))

    def _stable_context(self, spec: ImageSpec, stack: contextlib.ExitStack) -> Path | None:
        """The context folder kept for ``spec`` between runs, held for this build; None (a fresh folder)
        when another process is using it, or when the context is the crate's folder itself."""
        if not (spec.traits.generated or spec.vendor):
            return None
        try:
            folder = stable_folder(spec)
            held = stack.enter_context(held_if_free(lock_path(self._lock_dir or lock_folder(), "context", str(folder))))
        except RustImageError:  # no usable cache folder: a fresh one, as without it
            return None
        return folder if held else None

    def _make_in(self, spec: ImageSpec, engine: Engine, prepared: tuple[Path, Path, Path]) -> RustImage:
        what = spec.what
        context, dockerfile, source_root = prepared
        base_ids = {ref: engine.image_id(ref) or ref for ref in (spec.builder_image, spec.runtime_image)}
        oci_labels = self._oci_labels(spec)
        digest = input_digest(
            source_root,
            dockerfile,
            {
                "plugin": __version__,
                "engine": engine.name,
                "builder": engine.builder,
                "vendored": str(spec.vendor),  # a crate's own Dockerfile gets vendor/ and .cargo/ when vendored
                **{f"base:{ref}": ident for ref, ident in base_ids.items()},
                **{f"arg:{k}": v for k, v in spec.build_args.items()},
                "secrets": ",".join(spec.secret_build_args),  # names only: a value is no input
                **{f"label:{k}": v for k, v in oci_labels.items() if k not in oci.NOT_IN_DIGEST},
            },
        )
        tag = build_tag(spec.crate.name, spec.strategy, digest)
        lock = lock_path(self._lock_dir or lock_folder(), engine.endpoint, tag)
        before = last_run(lock)
        # the holder's build is bounded by the same timeout; on Podman it may first wait for another
        # build's turn (see PodmanEngine.build), and vendoring comes on top
        bound = 2 * spec.build_timeout + 900
        with exclusive(lock, what=f"{what} as {tag}", timeout=bound, say=self._say):
            previous = engine.image_id(tag)
            built_by = last_run(lock)
            failed = failure_of(lock, self.run_id) if previous is None else None
            if failed is not None:  # another worker of this run tried: one failing build per run is enough
                reason, log = failed
                raise BuildFailed(f"{reason} (in another worker of this run, which tried to build it first)", log)
            if previous is not None and (not spec.rebuild or built_by == self.run_id):
                # built by this run's workers, by a run that built it while we waited, or before we came
                origin = "this run" if built_by == self.run_id else "concurrent run"
                if built_by == before and built_by != self.run_id:
                    origin = "earlier run"
                self._say(f"rust-image: reusing {tag} for {what} ({_HOW.get(origin, 'inputs unchanged')})")
                record = BuildRecord(
                    tag, previous, engine.name, spec.strategy, reused=True, duration=0.0, log="", origin=origin
                )
            else:
                try:
                    record = self._build(spec, engine, context, dockerfile, tag, digest)
                except BuildFailed as exc:
                    record_failure(lock, self.run_id, exc.reason, tail(exc.log, 200))
                    raise
                record_run(lock, self.run_id)
                if previous is not None and previous != record.image_id:
                    engine.remove_image(previous)  # a rebuild took its tag: it would linger as <none>
        return RustImage(spec, engine, record, self.labels, self.probe)

    def _build(
        self, spec: ImageSpec, engine: Engine, context: Path, dockerfile: Path, tag: str, digest: str
    ) -> BuildRecord:
        what = spec.what
        if spec.vendor:
            self._say(f"rust-image: vendoring dependencies of {what} with `cargo vendor` ...")
            vendor_context(spec, context)
        self._say(f"rust-image: building {what} with {engine.name} ({engine.builder}) as {tag} ...")
        labels = {
            **self._oci_labels(spec),
            **self.labels,
            INPUTS_LABEL: digest,
            RUN_LABEL: self.run_id,
            BUILT_LABEL: f"{time.time():.3f}",  # an image's Created can repeat when its layers come from cache
        }
        request = build_request(spec, context=context, dockerfile=dockerfile, tag=tag, labels=labels)
        started = time.monotonic()
        try:
            output = engine.build(request, on_line=self._progress())
        except BuildFailed as exc:
            pulled = pull_failure(exc.log, request.build_args)
            if pulled is None:
                raise
            raise BuildFailed(pulled.advice(), exc.log, timed_out=exc.timed_out) from exc
        finally:
            self._say(f"rust-image: {what} build ended after {time.monotonic() - started:.1f}s")
        return BuildRecord(
            tag, output.image_id, engine.name, spec.strategy, reused=False, duration=output.duration, log=output.log
        )

    def _oci_labels(self, spec: ImageSpec) -> dict[str, str]:
        """OCI labels, made once per crate and package per session: every engine gets the same."""
        key = (str(spec.crate.root), spec.binary.package)
        if key not in self._oci:
            self._oci[key] = oci.crate_labels(spec.crate, spec.binary.package)
        return self._oci[key]

    def _progress(self) -> LineSink | None:
        return self._new_progress() if self._new_progress is not None else None

    def engine_lines(self) -> list[str]:
        """The engines this session reached, as the summary names them (no engine call)."""
        return self._pool.lines()

    def images(self) -> list[RustImage]:
        """The images this session obtained, in the order it obtained them."""
        return [image for image in self._images.values() if isinstance(image, RustImage)]

    def close(self) -> None:
        """Remove what this session left in the engines (containers, build leftovers), then let go."""
        self._pool.close({SESSION_LABEL: self.session_id}, self._say)
        shutil.rmtree(self._workdir, ignore_errors=True)

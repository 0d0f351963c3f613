"""Building images once per session, and the :class:`RustImage` tests receive.

:class:`ImageFactory` owns the engines and a cache keyed by
:attr:`ImageSpec.key`: each (crate, strategy, engine, ...) is built at most
once per session, failures included. Across sessions the image tag is
derived from every build input, so an unchanged crate is reused without
building.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import tarfile
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from pytest_rustimage import __version__, oci
from pytest_rustimage.archive import read_archive
from pytest_rustimage.cache import CacheReport, Edit, apply_edit, assess, comment_edit
from pytest_rustimage.context import copy_tree, digest_inputs, vendor
from pytest_rustimage.dockerfile import DEPS_STAGE, GENERATED, Recipe, binary_path, render, vendor_config
from pytest_rustimage.elf import inspect_elf
from pytest_rustimage.engines import Engine, make_engine
from pytest_rustimage.engines.base import (
    INPUTS_LABEL,
    PLUGIN_LABEL,
    RUN_LABEL,
    SESSION_LABEL,
    BuildOutput,
    BuildRequest,
)
from pytest_rustimage.errors import BuildFailed, ConfigError, EngineError, EngineUnavailable, RustImageError, tail
from pytest_rustimage.facts import BinaryFacts, BuildRecord, ImageConfig, ImageInfo, Layer, RunResult, image_info
from pytest_rustimage.locks import (
    exclusive,
    failure_of,
    last_run,
    lock_folder,
    lock_path,
    record_failure,
    record_run,
)
from pytest_rustimage.services import Service, start_service
from pytest_rustimage.settings import ImageSpec

Say = Callable[[str], None]


class RustImage:
    """A built image and what can be learnt from it."""

    def __init__(
        self,
        spec: ImageSpec,
        engine: Engine,
        build: BuildRecord,
        labels: Mapping[str, str],
        probe: Callable[[ImageSpec, Edit | None], CacheReport],
    ) -> None:
        self.spec = spec
        self.engine = engine
        self.build = build
        self._labels = dict(labels)
        self._probe = probe
        self._binaries: dict[str, BinaryFacts] = {}

    def __repr__(self) -> str:
        return f"<RustImage {self.tag} {self.spec.variant}>"

    @property
    def id(self) -> str:
        return self.build.image_id

    @property
    def tag(self) -> str:
        return self.build.tag

    @cached_property
    def info(self) -> ImageInfo:
        """Id, tags, config and measured layers (reads the image archive once)."""
        return measure(self.engine, self.id)

    @property
    def size(self) -> int:
        """Uncompressed sum of the image's layers, in bytes (the same definition on every engine)."""
        return self.info.size

    @property
    def layers(self) -> tuple[Layer, ...]:
        return self.info.layers

    @property
    def config(self) -> ImageConfig:
        return self.info.config

    @property
    def binary_path(self) -> str:
        """Where the checked binary lives in the image."""
        if self.spec.binary_path:
            return self.spec.binary_path
        if self.spec.strategy in GENERATED:
            return binary_path(self.spec.binary.name)
        for command in (self.config.entrypoint, self.config.cmd):
            if command and command[0].startswith("/"):
                return command[0]
        return binary_path(self.spec.binary.name)

    def run(self, *args: str, timeout: float | None = None, env: Mapping[str, str] | None = None) -> RunResult:
        """Run the binary with ``args`` in a new container, which is removed afterwards."""
        return self.engine.run(
            self.id,
            list(args),
            entrypoint=[self.binary_path],
            env=env,
            labels=self._labels,
            timeout=timeout or self.spec.run_timeout,
        )

    def serve(
        self,
        *args: str,
        port: int | Sequence[int] | None = None,
        wait: str = "port",
        timeout: float = 30.0,
        env: Mapping[str, str] | None = None,
    ) -> Service:
        """Start the binary with ``args`` as a long-running container and wait until it is ready.

        ``port``: the container port(s) to publish (default: the image's exposed tcp ports).
        ``wait``: ``"port"``, ``"log:TEXT"`` or ``"http:/PATH"`` (see :mod:`pytest_rustimage.services`).
        Use it as a context manager, or call ``stop()``; the session removes any left running.
        """
        if port is None:
            ports = [int(p.split("/")[0]) for p in self.config.exposed_ports if p.endswith("/tcp")]
        else:
            ports = [port] if isinstance(port, int) else list(port)
        return start_service(
            self.engine,
            self.tag,
            list(args),
            entrypoint=[self.binary_path],
            ports=ports,
            labels=self._labels,
            env=env,
            wait=wait,
            timeout=timeout,
        )

    def rebuild_after(self, edit: Edit | None = None) -> CacheReport:
        """Build a copy of the crate cold, apply ``edit``, build again: was the dependency layer reused?

        ``edit``: a callable receiving the copy's root folder, or a (relative path, new text) pair;
        default: a comment line appended to the checked binary's main source file (a source-only
        edit). The default probe runs once per session and is shared with the built-in cache check.
        """
        return self._probe(self.spec, edit)

    def measured_binary(self) -> BinaryFacts | None:
        """The checked binary's facts if this session already read them (no engine call)."""
        return self._binaries.get(self.binary_path)

    def binary(self, name: str | None = None) -> BinaryFacts:
        """The checked binary (or another by name or absolute path) read out of the image."""
        path = self.binary_path if name is None else (name if name.startswith("/") else binary_path(name))
        if path not in self._binaries:
            data = self.engine.read_file(self.id, path, labels=self._labels)
            self._binaries[path] = BinaryFacts(
                name=path.rsplit("/", 1)[-1],
                path=path,
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                elf=inspect_elf(data, name=f"{path} in {self.tag}"),
            )
        return self._binaries[path]


def measure(engine: Engine, ref: str) -> ImageInfo:
    """An image's facts, its size measured from its archive the same way on every engine."""
    raw = engine.inspect_raw(ref)
    with engine.open_archive(ref) as stream:
        try:
            archive = read_archive(stream)
        except (ValueError, OSError, tarfile.TarError) as exc:
            raise EngineError(f"cannot read the archive of image {ref} from {engine.name}: {exc}") from exc
    return image_info(raw, archive)


@dataclass
class _Failure:
    error: RustImageError


class ImageFactory:
    """Builds and caches images for one session; closes what it opened."""

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
        self._engines: dict[str, Engine | _Failure] = {}
        self._images: dict[tuple[str, ...], RustImage | _Failure] = {}
        self.cache_reports: dict[tuple[str, ...], CacheReport] = {}
        self._oci: dict[tuple[str, str], dict[str, str]] = {}  # (crate root, package) -> OCI labels

    @property
    def labels(self) -> dict[str, str]:
        return {PLUGIN_LABEL: __version__, SESSION_LABEL: self.session_id}

    def engine(self, name: str) -> Engine:
        """The engine by name, checked to answer once per session."""
        if name not in self._engines:
            engine = make_engine(name)
            try:
                engine.ping()
                self._engines[name] = engine
            except EngineUnavailable as exc:
                engine.close()
                self._engines[name] = _Failure(exc)
        found = self._engines[name]
        if isinstance(found, _Failure):
            raise found.error
        return found

    def get(self, spec: ImageSpec) -> RustImage:
        """The image for ``spec``, built now, earlier this session, or in an earlier session."""
        if spec.key not in self._images:
            try:
                self._images[spec.key] = self._make(spec)
            except RustImageError as exc:
                self._images[spec.key] = _Failure(exc)
        found = self._images[spec.key]
        if isinstance(found, _Failure):
            raise found.error
        return found

    def _make(self, spec: ImageSpec) -> RustImage:
        engine = self.engine(spec.engine)
        what = f"{spec.crate.name} ({spec.variant})"
        context, dockerfile, source_root = self._prepare(spec)
        base_ids = {ref: engine.image_id(ref) or ref for ref in (spec.builder_image, spec.runtime_image)}
        oci_labels = self._oci_labels(spec)
        digest = digest_inputs(
            source_root,
            {
                "plugin": __version__,
                "engine": engine.name,
                "builder": engine.builder,
                "dockerfile": dockerfile.read_text(),
                **{f"base:{ref}": ident for ref, ident in base_ids.items()},
                **{f"arg:{k}": v for k, v in spec.build_args.items()},
                "secrets": ",".join(spec.secret_build_args),  # names only: a value is no input
                **{f"label:{k}": v for k, v in oci_labels.items() if k not in oci.NOT_IN_DIGEST},
            },
        )
        tag = f"pytest-rustimage/{tag_part(spec.crate.name)}:{spec.strategy}-{digest[:16]}"
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
                how = {"this run": "built earlier in this run", "concurrent run": "built by a concurrent run"}
                self._say(f"rust-image: reusing {tag} for {what} ({how.get(origin, 'inputs unchanged')})")
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
        return RustImage(spec, engine, record, self.labels, self.probe_cache)

    def _build(
        self, spec: ImageSpec, engine: Engine, context: Path, dockerfile: Path, tag: str, digest: str
    ) -> BuildRecord:
        what = f"{spec.crate.name} ({spec.variant})"
        if spec.vendor and spec.strategy in GENERATED:
            self._say(f"rust-image: vendoring dependencies of {what} with `cargo vendor` ...")
            vendor(context / "app", context / "vendor")
        self._say(f"rust-image: building {what} with {engine.name} ({engine.builder}) as {tag} ...")
        request = BuildRequest(
            context=context,
            dockerfile=dockerfile,
            tag=tag,
            build_args={
                "BUILDER_IMAGE": spec.builder_image,
                "RUNTIME_IMAGE": spec.runtime_image,
                **spec.build_args,
            },
            labels={**self._oci_labels(spec), **self.labels, INPUTS_LABEL: digest, RUN_LABEL: self.run_id},
            target="runtime" if spec.strategy in GENERATED else None,
            timeout=spec.build_timeout,
            secrets=secret_values(spec),
        )
        started = time.monotonic()
        try:
            output = engine.build(request, on_line=self._progress())
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

    def _prepare(self, spec: ImageSpec, source: Path | None = None) -> tuple[Path, Path, Path]:
        """(context folder, Dockerfile, folder whose files are build inputs)."""
        if spec.strategy not in GENERATED:
            assert spec.dockerfile is not None
            return spec.dockerfile.parent, spec.dockerfile, spec.dockerfile.parent
        context = Path(tempfile.mkdtemp(prefix=f"{tag_part(spec.crate.name)}-{spec.strategy}-", dir=self._workdir))
        copy_tree(source or spec.crate.root, context / "app")
        recipe = Recipe(
            strategy=spec.strategy,
            package=spec.binary.package,
            binary=spec.binary.name,
            locked=(context / "app" / "Cargo.lock").is_file(),
            vendored=spec.vendor,
            secrets=spec.secret_build_args,
        )
        dockerfile = context / "Dockerfile"
        dockerfile.write_text(render(recipe))
        if spec.vendor:
            (context / "cargo-vendor.toml").write_text(vendor_config())
        return context, dockerfile, context / "app"

    def probe_cache(self, spec: ImageSpec, edit: Edit | None = None) -> CacheReport:
        """Build a copy of the crate cold, apply ``edit`` (default: a comment in the binary's main
        source file), build again, and judge whether the dependency layer was reused."""
        if spec.strategy not in GENERATED:
            raise ConfigError(
                f"the cache probe needs a generated strategy ({', '.join(GENERATED)}), not {spec.strategy}"
            )
        if edit is None and spec.key in self.cache_reports:
            return self.cache_reports[spec.key]
        engine = self.engine(spec.engine)
        what = f"{spec.crate.name} ({spec.variant})"
        work = Path(tempfile.mkdtemp(prefix="cache-probe-", dir=self._workdir))
        source = work / "crate"
        copy_tree(spec.crate.root, source)
        main = spec.binary.src_path.resolve().relative_to(spec.crate.root.resolve()).as_posix()
        tag = f"pytest-rustimage/{tag_part(spec.crate.name)}:probe-{spec.strategy}-{self.session_id}"
        deps_stage = DEPS_STAGE.get(spec.strategy)
        made: list[str] = []
        try:
            self._say(f"rust-image: cache probe for {what}: cold build (no cache) ...")
            cold, cold_deps = self._probe_build(spec, engine, source, f"{tag}-cold", deps_stage, made, no_cache=True)
            description = apply_edit(source, edit if edit is not None else comment_edit(main, uuid.uuid4().hex[:8]))
            self._say(f"rust-image: cache probe for {what}: {description}; building again ...")
            warm, warm_deps = self._probe_build(spec, engine, source, f"{tag}-warm", deps_stage, made, no_cache=False)
        finally:
            for ref in made:
                engine.remove_image(ref)
        report = assess(
            edit=description,
            strategy=spec.strategy,
            engine=engine.name,
            rebuild_log=warm.log,
            cold_seconds=cold.duration,
            rebuild_seconds=warm.duration,
            deps_ids=(cold_deps, warm_deps),
            own_crates=[p.name for p in spec.crate.packages],
        )
        self._say(f"rust-image: cache probe for {what}: {report.summary()}")
        if edit is None:
            self.cache_reports[spec.key] = report
        return report

    def _probe_build(
        self,
        spec: ImageSpec,
        engine: Engine,
        source: Path,
        tag: str,
        deps_stage: str | None,
        made: list[str],
        *,
        no_cache: bool,
    ) -> tuple[BuildOutput, str | None]:
        """Build the probe's copy; with a dependency stage, also that stage alone for its image id."""
        context, dockerfile, _ = self._prepare(spec, source)
        if spec.vendor:
            vendor(context / "app", context / "vendor")
        args = {"BUILDER_IMAGE": spec.builder_image, "RUNTIME_IMAGE": spec.runtime_image}
        request = BuildRequest(
            context=context,
            dockerfile=dockerfile,
            tag=tag,
            build_args=args,
            labels=self.labels,
            target="runtime",
            timeout=spec.build_timeout,
            no_cache=no_cache,
            secrets=secret_values(spec),
        )
        made.append(tag)
        output = engine.build(request, on_line=self._progress())
        if deps_stage is None:
            return output, None
        made.append(f"{tag}-deps")
        stage = engine.build(dataclasses.replace(request, tag=f"{tag}-deps", target=deps_stage, no_cache=False))
        return output, stage.image_id

    def _progress(self) -> Say | None:
        return self._new_progress() if self._new_progress is not None else None

    def engines(self) -> list[Engine]:
        """The engines this session reached."""
        return [engine for engine in self._engines.values() if not isinstance(engine, _Failure)]

    def images(self) -> list[RustImage]:
        """The images this session obtained, in the order it obtained them."""
        return [image for image in self._images.values() if isinstance(image, RustImage)]

    def close(self) -> None:
        """Remove what this session left in the engines (containers, build leftovers), then let go."""
        session = {SESSION_LABEL: self.session_id}
        for engine in self._engines.values():
            if isinstance(engine, _Failure):
                continue
            try:
                engine.remove_containers(session)
                engine.remove_build_leftovers(session)
            except RustImageError as exc:
                self._say(
                    f"rust-image: cleaning up {engine.name} failed: {exc}; once it answers again, "
                    "`python -m pytest_rustimage prune` removes what this session left"
                )
            finally:
                engine.close()
        shutil.rmtree(self._workdir, ignore_errors=True)


def secret_values(spec: ImageSpec) -> dict[str, str]:
    """The values of the spec's secret build args, from the environment (they are never stored)."""
    missing = [name for name in spec.secret_build_args if name not in os.environ]
    if missing:
        raise ConfigError(
            f"{spec.crate.manifest_path}: secret build arg(s) {', '.join(missing)} not set in the environment; "
            "export them before running pytest (they reach the build as build secrets, never as build args)"
        )
    return {name: os.environ[name] for name in spec.secret_build_args}


def tag_part(name: str) -> str:
    """A crate name as it appears in image tags (``pytest-rustimage/NAME:...``)."""
    cleaned = "".join(c if c.isalnum() or c in "._-" else "-" for c in name.lower()).strip("._-")
    return cleaned or "crate"

"""A built image, :class:`RustImage`, and the record of how it came to be.

A :class:`RustImage` is what tests receive: it runs the binary (:meth:`RustImage.run`), starts it as
a service (:meth:`RustImage.serve`), reads its facts (:attr:`RustImage.info`, :meth:`RustImage.binary`)
and probes its layer cache (:meth:`RustImage.rebuild_after`). Images are made by
:class:`pytest_rustimage.session.factory.ImageFactory`.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Protocol

from pytest_rustimage.cachecheck.edit import Edit, UserEdit, as_edit
from pytest_rustimage.cachecheck.edits import KINDS as EDIT_KINDS
from pytest_rustimage.cachecheck.matrix import CacheMatrix
from pytest_rustimage.cachecheck.verdict import CacheReport
from pytest_rustimage.engines import Engine
from pytest_rustimage.engines.protocol import RunResult
from pytest_rustimage.errors import ConfigError, RustImageError
from pytest_rustimage.inspect.base import BaseFacts, base_diff_ids, split, unknown
from pytest_rustimage.inspect.elf import inspect_elf
from pytest_rustimage.inspect.facts import BinaryFacts, ImageConfig, ImageInfo, Layer
from pytest_rustimage.inspect.imagefs import ImageFs
from pytest_rustimage.inspect.loader import resolve_loading
from pytest_rustimage.inspect.needs import Need, find_needs, scan_binary
from pytest_rustimage.inspect.runtimes import RuntimeVerdict
from pytest_rustimage.names import normalise_id
from pytest_rustimage.recipe import instructions
from pytest_rustimage.recipe.dockerfile import binary_path
from pytest_rustimage.recipe.spec import ImageSpec
from pytest_rustimage.recipe.strategies import RUNTIME_IMAGE, SCRATCH
from pytest_rustimage.session import binary_store
from pytest_rustimage.session.measure import measure, measure_with_files, read_files
from pytest_rustimage.session.packages import builder_image, package_hints
from pytest_rustimage.session.runtimes import matrix
from pytest_rustimage.session.services import Service, start_service


class Prober(Protocol):
    """The cache probe as an image calls it (:class:`~pytest_rustimage.cachecheck.probe.CacheProbe`)."""

    def __call__(self, image: RustImage, edit: Edit | None = None, *, kind: str | None = None) -> CacheReport: ...
    def matrix(self, image: RustImage) -> CacheMatrix: ...


if TYPE_CHECKING:  # an optional extra: imported when testcontainer() is called
    from testcontainers.core.container import DockerContainer


@dataclass(frozen=True)
class BuildRecord:
    """How an image came to be: built now, or reused (see :data:`ORIGINS`)."""

    tag: str
    image_id: str
    engine: str
    strategy: str
    reused: bool
    duration: float
    log: str = field(repr=False)
    origin: str = "built"  # one of ORIGINS


# where an image came from: built by this process; or found made by another worker of the same run,
# by another run that was building it at the same time, or by an earlier run
ORIGINS = ("built", "this run", "concurrent run", "earlier run")


class RustImage:
    """A built image and what can be learnt from it: what tests receive from the ``rust_image`` fixtures.

    ``spec`` is what it was built from, ``build`` how it came to be (built now or reused). Facts are
    read from the engine when first asked for and kept: :attr:`info` (size, layers, config) from one
    read of the image archive, :meth:`binary` from the binary's bytes.
    """

    def __init__(
        self,
        spec: ImageSpec,
        engine: Engine,
        build: BuildRecord,
        labels: Mapping[str, str],
        probe: Prober,
    ) -> None:
        self.spec = spec
        self.engine = engine
        self.build = build
        self._labels = dict(labels)
        self._probe = probe
        self._binaries: dict[str, binary_store.StoredBinary] = {}  # path -> its facts, scan, needs, runtimes
        self._runtimes: tuple[RuntimeVerdict, ...] | None = None
        self._needs: tuple[Need, ...] | None = None
        self.reproducible: tuple[bool, str] | None = None  # the reproducible check's verdict: same?, its summary
        # whether :attr:`info`, when it reads the archive, keeps the files from that read too (all layers
        # are then parsed: worth it when :attr:`files` will be asked for, as linkage and needs do)
        self.files_with_info = True

    def __repr__(self) -> str:
        return f"<RustImage {self.tag} {self.spec.variant}>"

    @property
    def id(self) -> str:
        """The image id (``sha256:...``), the same whatever tag the image has."""
        return self.build.image_id

    @property
    def tag(self) -> str:
        """The tag the plugin gave the image: ``pytest-rustimage/CRATE:STRATEGY-DIGEST``."""
        return self.build.tag

    @cached_property
    def info(self) -> ImageInfo:
        """Id, tags, config and measured layers (reads the image archive once, unless measured before;
        with :attr:`files_with_info`, keeps the image's :attr:`files` from that same read, so that they
        are not exported again)."""
        if not self.files_with_info:
            return measure(self.engine, self.id)
        info, files = measure_with_files(self.engine, self.id)
        if files is not None and "files" not in self.__dict__:
            self.__dict__["files"] = files  # the cached_property's value: read_files is not called
        return info

    @property
    def size(self) -> int:
        """Uncompressed sum of the image's layers, in bytes (the same definition on every engine)."""
        return self.info.size

    @cached_property
    def base(self) -> BaseFacts:
        """The runtime base the image stands on and its layers in it (see :mod:`pytest_rustimage.inspect.base`).

        ``scratch`` for the static strategy, the configured runtime image for the others the plugin
        writes; for a crate's own Dockerfile, the image its built stage finally stands on, read from its
        ``FROM`` lines with the build args substituted (:func:`instructions.final_base`). A base the
        engine does not hold, or whose name cannot be told, is ``known`` false: no own bytes then.
        """
        runtime = self.spec.traits.runtime
        if runtime == SCRATCH:
            return split(SCRATCH, "", self.layers, ())
        name = self.spec.runtime_image if runtime == RUNTIME_IMAGE else self._own_dockerfile_base()
        if name is None:
            return unknown("(cannot be told from the Dockerfile)")
        if name == SCRATCH:
            return split(SCRATCH, "", self.layers, ())
        if self.engine.image_id(name) is None:
            return unknown(name)
        raw = self.engine.inspect_raw(name)
        return split(name, normalise_id(str(raw["Id"])), self.layers, base_diff_ids(raw))

    def _own_dockerfile_base(self) -> str | None:
        spec = self.spec
        if spec.dockerfile is None:
            return None
        try:
            text = spec.dockerfile.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
        args = {"BUILDER_IMAGE": spec.builder_image, "RUNTIME_IMAGE": spec.runtime_image, **spec.build_args}
        return instructions.final_base(text, args, spec.traits.target)

    @property
    def own_size(self) -> int | None:
        """The project's own bytes: the layers above the runtime base (the whole image on scratch);
        None when the base is not ``known``."""
        return self.size - self.base.size if self.base.known else None

    @property
    def layers(self) -> tuple[Layer, ...]:
        """The image's layers, bottom first, each with its content bytes, wasted bytes and instruction."""
        return self.info.layers

    @property
    def config(self) -> ImageConfig:
        """The runtime config: user, entrypoint, cmd, env, workdir, exposed ports, labels."""
        return self.info.config

    @property
    def binary_path(self) -> str:
        """Where the checked binary lives in the image."""
        if self.spec.binary_path:
            return self.spec.binary_path
        if self.spec.traits.generated:
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
        ``wait``: ``"port"``, ``"log:TEXT"`` or ``"http:/PATH"`` (see :mod:`pytest_rustimage.session.services`).
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

    def testcontainer(self, *args: str) -> DockerContainer:
        """A testcontainers ``DockerContainer`` of this image: the checked binary as its entrypoint with
        ``args``, the plugin's labels (so the session's cleanup and ``prune`` know it), talking to this
        image's engine (Podman: the session's API service), and reaching its ports where the engine
        publishes them (:mod:`pytest_rustimage.session.testcontainer`). Chain testcontainers' own API on
        it (``with_exposed_ports``, ``with_env``, wait strategies) and use it as a context manager.
        Needs the extra: ``pip install 'pytest-rustimage[testcontainers]'``."""
        try:
            from pytest_rustimage.session.testcontainer import engine_container
        except ImportError as exc:
            if not (exc.name or "").startswith("testcontainers"):
                raise
            raise RustImageError(
                "rust_image.testcontainer() needs testcontainers: pip install 'pytest-rustimage[testcontainers]'"
            ) from exc
        container = engine_container(self.id, api=self.engine.api_endpoint(), host=self.engine.service_host)
        container.with_kwargs(entrypoint=[self.binary_path], labels=dict(self._labels))
        if args:
            container.with_command(list(args))
        return container

    def rebuild_after(self, edit: Edit | UserEdit | None = None, *, kind: str | None = None) -> CacheReport:
        """Apply ``edit`` to a copy of the crate and build it again: was the dependency layer reused?

        ``edit``: a callable receiving the copy's root folder, a (relative path, new text) pair, or an
        :class:`~pytest_rustimage.cachecheck.edit.Edit`; default: the edit of ``kind`` (one of the cache
        check's edit kinds, ``source`` unless said: a comment line appended to the checked binary's main
        source file). A kind's probe runs once per session and is shared with the built-in cache check;
        a kind that does not apply to the crate (``library`` on a single package) is a ConfigError.
        """
        if edit is not None and kind is not None:
            raise ConfigError("rebuild_after takes an edit or a kind, not both")
        if kind is not None and kind not in EDIT_KINDS:
            raise ConfigError(f"unknown cache edit kind {kind!r}; choose from: {', '.join(EDIT_KINDS)}")
        return self._probe(self, None if edit is None else as_edit(edit), kind=kind)

    def cache_matrix(self) -> CacheMatrix:
        """Every edit kind the image is configured with (``cache-edits``), each probed once: the cache check's."""
        return self._probe.matrix(self)

    def measured_binary(self) -> BinaryFacts | None:
        """The checked binary's facts if this session already read them (no engine call)."""
        found = self._binaries.get(self.binary_path)
        return found.facts if found is not None else None

    def binary(self, name: str | None = None) -> BinaryFacts:
        """The checked binary (or another by name or absolute path) read out of the image.

        For a dynamically linked binary, its interpreter, libraries and symbol versions are looked up
        in the image's own files the way glibc's loader would (``loads``, ``resolved``): no container
        is run, so it works on any base (see :mod:`pytest_rustimage.inspect.loader`). Read once per image
        id and path on this machine, then kept in the cache folder (:mod:`.binary_store`)."""
        path = self.binary_path if name is None else (name if name.startswith("/") else binary_path(name))
        if path not in self._binaries:
            stored = binary_store.load(self.id, path)
            if stored is None:
                self._keep(self._read_binary(path))
            else:
                self._binaries[path] = stored
        return self._binaries[path].facts

    def _keep(self, stored: binary_store.StoredBinary) -> None:
        """What was learnt of a binary since it was read, kept (only from an image read whole: a layer
        that could not be read leaves the files unknown, and this machine may read it later)."""
        self._binaries[stored.facts.path] = stored
        if "files" not in self.__dict__ or not self.files.unreadable:
            binary_store.save(self.id, stored.facts.path, stored)

    def _read_binary(self, path: str) -> binary_store.StoredBinary:
        """The binary at ``path`` read out of the image: its bytes, then the image's files when it is dynamic."""
        data = self.engine.read_file(self.id, path, labels=self._labels)
        elf = inspect_elf(data, name=f"{path} in {self.tag}")
        dynamic = elf.linkage == "dynamic"
        facts = BinaryFacts(
            name=path.rsplit("/", 1)[-1],
            path=path,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            elf=elf,
            loading=resolve_loading(self.files, path, elf, env=self.config.env) if dynamic else None,
        )
        return binary_store.StoredBinary(facts, scan_binary(data))

    def runtimes(self) -> tuple[RuntimeVerdict, ...]:
        """Whether the checked binary would load on each runtime of ``spec.runtimes`` (the linkage
        check's matrix, :mod:`pytest_rustimage.session.runtimes`): empty for a static binary, which
        loads anywhere. Read once per session."""
        if self._runtimes is None:
            facts = self.binary()
            if facts.is_static:
                self._runtimes = ()
                return self._runtimes
            stored = self._binaries[facts.path]
            kept = {load.runtime_id: load for load in stored.runtimes}
            runtimes = self.spec.runtimes
            self._runtimes = matrix(
                self.engine, facts.path, facts.elf, runtimes, listed=self.spec.runtimes_listed, kept=kept
            )
            if len(kept) > len(stored.runtimes):
                self._keep(dataclasses.replace(stored, runtimes=tuple(kept.values())))
        return self._runtimes

    def measured_runtimes(self) -> tuple[RuntimeVerdict, ...] | None:
        """The runtime matrix if this session already asked for it (no engine call)."""
        return self._runtimes

    def needs(self) -> tuple[Need, ...]:
        """What the checked binary and the image's command need from the image's files at run time (CA
        certificates, time zones, the user, name resolution, a shell), each with where the image has it
        or None: every need detected, satisfied or not (:mod:`pytest_rustimage.inspect.needs`). Read from
        the binary's bytes and the image's files (read once, shared with :meth:`binary`): no container.
        Kept with the binary's facts, by image id (:mod:`.binary_store`)."""
        if self._needs is None:
            facts = self.binary()
            stored = self._binaries[facts.path]
            if stored.needs is not None:
                self._needs = stored.needs.found
            else:
                static_glibc = facts.is_static and facts.libc == "glibc"
                self._needs = find_needs(stored.scan, static_glibc=static_glibc, config=self.config, fs=self.files)
                self._keep(dataclasses.replace(stored, needs=binary_store.Needs(self._needs)))
        return self._needs

    def unreadable_layers(self) -> Mapping[str, str]:
        """The image's layers that could not be read (layer -> why), which leave its files unknown; empty
        when its needs are kept (they are kept only from an image read whole), without reading it again."""
        if self._binaries[self.binary().path].needs is not None and "files" not in self.__dict__:
            return {}
        return self.files.unreadable

    def measured_needs(self) -> tuple[Need, ...] | None:
        """The needs if this session already looked for them (no engine call)."""
        return self._needs

    def packages_for(self, libraries: Sequence[str]) -> dict[str, str]:
        """Library file name -> the Debian package that has it in the image the binary was built in
        (``dpkg -S`` there; best effort: empty when that image has no dpkg or is gone)."""
        return package_hints(self.engine, builder_image(self.spec), libraries, self._labels)

    @cached_property
    def files(self) -> ImageFs:
        """The image's files as a container sees them (layers merged), with the bytes of its shared
        libraries and loader configuration: what :meth:`binary` resolves a dynamic binary against.
        Reads the image archive (once), unless :attr:`info` already read it and kept them."""
        return read_files(self.engine, self.id)

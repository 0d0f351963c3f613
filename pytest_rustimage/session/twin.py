"""The ``reproducible`` check's second build: the same crate built again, cold, from another folder.

The image is built a second time with ``--no-cache`` from a fresh copy of the crate in a folder of its
own (so no path of the first build's context is shared), as the image itself was built (the same
Dockerfile, build args, secrets and base images, and the ``SOURCE_DATE_EPOCH`` the image was built
with, read from its label, not the crate's source time now: a reused image may be older than the last
commit). The ``incremental`` strategy's ``target/`` cache mount outlives ``--no-cache``, so its second
build gets an empty mount of its own, named for this session (a binary relinked from the session's
mount would prove nothing), removed after the build (``python -m pytest_rustimage prune
--cache-mounts`` removes one an interrupted session left).

What is compared is the checked binary's bytes and the images' merged files (kind, size, link target
and the bytes of every file: both images are read whole for it), without the engines' stamps
(:mod:`pytest_rustimage.inspect.repro`). The verdict is kept by the image's id and tag (its inputs'
digest), like the cache check's, so a run whose image is reused pays nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_rustimage.engines import Engine
from pytest_rustimage.engines.protocol import EngineStore, LineSink
from pytest_rustimage.errors import RustImageError
from pytest_rustimage.folders import cache_folder, write_private
from pytest_rustimage.inspect.imagefs import ImageFs
from pytest_rustimage.names import cache_mount_id, probe_tag
from pytest_rustimage.recipe.context import bring_dockerfile, builder_key, copy_tree, prepare
from pytest_rustimage.recipe.request import build_request, image_epoch
from pytest_rustimage.recipe.vendored import vendor_context
from pytest_rustimage.session.measure import read_files

Say = Callable[[str], None]
STORE_FORMAT = 2  # 2: every file's bytes compared, the incremental twin's mount its own, the image's epoch


def twin_builder(session_id: str, builder: str) -> str:
    """The builder key of a second build: not an image id, so the ``target/`` mount's id is a digest of
    all of it (:func:`~pytest_rustimage.names.cache_mount_id`): a mount of this session's alone."""
    return f"reproduce-{session_id}-{builder}"


def every_file(path: str) -> bool:
    """Keep the bytes of every file (the images' files are compared by content)."""
    return True


@dataclass(frozen=True)
class SecondBuild:
    """What the second build made: the checked binary's bytes and the image's merged files, with the
    first image's files read the same way (every file's bytes kept)."""

    binary: bytes
    files: ImageFs
    seconds: float
    first_files: ImageFs


@dataclass(frozen=True)
class Verdict:
    """The reproducible check's verdict on an image: ``explanation`` is empty when it passed."""

    identical: bool
    explanation: str
    summary: str  # one line, for the check's property and the report
    measured_at: float


class Reproducer:
    """Second builds for one session (the factory's engines, labels and work folder)."""

    def __init__(
        self,
        *,
        workdir: Path,
        session_id: str,
        labels: dict[str, str],
        say: Say,
        progress: Callable[[], LineSink | None],
    ) -> None:
        self._workdir = workdir
        self._session_id = session_id
        self._labels = labels
        self._say = say
        self._progress = progress

    def build_again(self, image: Any) -> SecondBuild:
        """Build ``image`` (a :class:`~pytest_rustimage.session.image.RustImage`) again, cold, from a copy
        of its crate in another folder; the copy and the second image are removed afterwards."""
        spec = image.spec
        engine: Engine = image.engine
        root = Path(tempfile.mkdtemp(prefix="reproduce-", dir=self._workdir))
        tag = probe_tag(spec.crate.name, spec.strategy, self._session_id) + "-again"
        mount = ""
        try:
            source = root / "elsewhere" / "crate"
            copy_tree(spec.crate.root, source, as_engine=not (spec.traits.generated or spec.vendor))
            if not spec.traits.generated:  # the engine reads it apart from the context, wherever it is
                bring_dockerfile(spec, source)
            builder = builder_key(spec, engine)
            if builder:  # the incremental strategy's target/ mount: an empty one of this session's (docstring)
                builder = twin_builder(self._session_id, builder)
                mount = cache_mount_id(spec.crate.name, spec.binary.name, builder)
            context, dockerfile, _ = prepare(spec, source.parent, source, folder=root / "context", builder=builder)
            vendor_context(spec, context)
            request = build_request(
                spec,
                context=context,
                dockerfile=dockerfile,
                tag=tag,
                labels=self._labels,
                no_cache=True,
                epoch=image_epoch(image.config.labels),
            )
            self._say(f"rust-image: reproducible: building {spec.what} again, cold (--no-cache), from {source} ...")
            started = time.monotonic()
            output = engine.build(request, on_line=self._progress())
            seconds = time.monotonic() - started
            self._say(f"rust-image: reproducible: {spec.what}'s second build ended after {seconds:.1f}s; comparing ...")
            binary = engine.read_file(output.image_id, image.binary_path, labels=self._labels)
            files = read_files(engine, output.image_id, keep=every_file)
            return SecondBuild(binary, files, seconds, read_files(engine, image.id, keep=every_file))
        finally:
            engine.remove_image(tag)
            shutil.rmtree(root, ignore_errors=True)
            if mount:
                self._remove_mount(engine, mount)

    def _remove_mount(self, engine: Engine, mount: str) -> None:
        """Remove the second build's own cache mount (best effort: ``prune --cache-mounts`` finds it too)."""
        if not isinstance(engine, EngineStore):
            return
        try:
            for found in engine.cache_mounts():
                if found.name == mount:
                    engine.remove_cache_mount(found)
        except RustImageError as exc:
            self._say(f"rust-image: reproducible: could not remove the cache mount {mount}: {exc}")


def stored_path(engine: Engine, image: Any) -> Path:
    """Where the verdict on ``image`` is kept: by engine, tag (the inputs' digest) and image id."""
    key = json.dumps(["reproducible", STORE_FORMAT, engine.endpoint, image.tag, image.id])
    return cache_folder("verdicts") / f"reproducible-{hashlib.sha256(key.encode()).hexdigest()[:32]}.json"


def load(path: Path) -> Verdict | None:
    """A kept verdict, or None when there is none or it cannot be read as one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != STORE_FORMAT:
            return None
        return Verdict(
            identical=bool(data["identical"]),
            explanation=str(data["explanation"]),
            summary=str(data["summary"]),
            measured_at=float(data["measured_at"]),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def save(path: Path, verdict: Verdict) -> None:
    """Keep ``verdict`` (a failure to write is only a verdict not kept)."""
    data = {"format": STORE_FORMAT, **verdict.__dict__}
    with contextlib.suppress(OSError, RustImageError):
        write_private(path, json.dumps(data, indent=1))

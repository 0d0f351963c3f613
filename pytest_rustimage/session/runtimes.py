"""Would a binary load on other runtime bases? The linkage check's runtime matrix, against the engine.

Each runtime is looked up in the image's engine (the first of its references the engine holds) and
resolved with the loader (:mod:`pytest_rustimage.inspect.loader`) against that base's own files, as
they are: nothing of the checked image's layers, no ``LD_LIBRARY_PATH``. Nothing is built or run.

Reading a base's files means exporting the whole image, which is slow; what the loader reads of it
is small (:func:`pytest_rustimage.inspect.runtimes.index_of`). That index is kept in the user's cache
folder (``runtimes/ID.json``), by image id: an id names the image's content (its config, which lists
its layers' digests), so an index is never stale, and a warm run reads one small JSON file per base.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pytest_rustimage.engines import Engine
from pytest_rustimage.errors import RustImageError
from pytest_rustimage.folders import cache_folder, write_private
from pytest_rustimage.inspect.elf import ElfFacts
from pytest_rustimage.inspect.loader import resolve_loading
from pytest_rustimage.inspect.runtimes import (
    INDEX_FORMAT,
    IndexedFs,
    RuntimeVerdict,
    absent,
    index_of,
    runtime_glibc,
    verdict,
)
from pytest_rustimage.names import Runtime
from pytest_rustimage.session.binary_store import RuntimeLoad
from pytest_rustimage.session.measure import read_files


def _index_path(image_id: str) -> Path | None:
    try:
        return cache_folder("runtimes") / f"{image_id.removeprefix('sha256:')}.json"
    except RustImageError:  # no usable cache folder: read the image every time
        return None


def _stored(path: Path | None) -> IndexedFs | None:
    if path is None:
        return None
    try:
        data: Any = json.loads(path.read_text())
        if data.get("format") != INDEX_FORMAT:
            return None
        return IndexedFs(data["index"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError):
        return None  # unreadable or of another format: read the image again


_READ: dict[str, IndexedFs] = {}  # image id -> its files, read once per process (an id names its content)


def runtime_files(engine: Engine, ref: str, image_id: str) -> IndexedFs:
    """The files of the runtime ``ref`` (whose id is ``image_id``) as the loader reads them: from the
    stored index when there is one, else from the image's archive (then stored)."""
    if image_id in _READ:
        return _READ[image_id]
    path = _index_path(image_id)
    found = _stored(path)
    if found is None:
        index = index_of(read_files(engine, ref))
        if path is not None:
            with contextlib.suppress(RustImageError):  # a cache that cannot be written is only slower
                write_private(path, json.dumps({"format": INDEX_FORMAT, "ref": ref, "index": index}))
        found = IndexedFs(index)
    _READ[image_id] = found
    return found


_IDS: dict[tuple[str, str], str | None] = {}  # (engine, reference) -> image id, asked once per process


def held(engine: Engine, runtime: Runtime) -> tuple[str, str] | None:
    """The first of the runtime's references the engine holds, with its image id; None if none. Each
    reference is asked once per process (a run's images share the answer: Podman's costs a command)."""
    for ref in runtime.refs:
        key = (engine.name, ref)
        if key not in _IDS:
            _IDS[key] = engine.image_id(ref)
        image_id = _IDS[key]
        if image_id is not None:
            return ref, image_id
    return None


def matrix(
    engine: Engine,
    binary_path: str,
    elf: ElfFacts,
    runtimes: Sequence[Runtime],
    *,
    listed: bool,
    kept: dict[str, RuntimeLoad] | None = None,
) -> tuple[RuntimeVerdict, ...]:
    """Whether the dynamic binary ``elf`` (at ``binary_path``) would load on each of ``runtimes``.

    ``listed``: the user named them, so one the engine does not hold is a verdict of its own ("cannot
    tell", saying how to make it); otherwise (the plugin's own bases) it is left out. ``kept``: how the
    binary loads on runtime ids it was tried on before (:mod:`.binary_store`): used instead of the
    runtime's files, and given what is learnt here (but a verdict that cannot tell)."""
    kept = {} if kept is None else kept
    found: list[RuntimeVerdict] = []
    for runtime in runtimes:
        where = held(engine, runtime)
        if where is None:
            if listed:
                found.append(absent(runtime.name, runtime.refs, engine.name, runtime.make))
            continue
        ref, image_id = where
        load = kept.get(image_id)
        if load is None:
            fs = runtime_files(engine, ref, image_id)
            load = RuntimeLoad(image_id, resolve_loading(fs, binary_path, elf), runtime_glibc(fs, elf.machine))
            if not load.loading.cannot_tell:
                kept[image_id] = load
        found.append(verdict(runtime.name, ref, load.loading, load.glibc))
    return tuple(found)

"""Measuring an image: its facts from ``inspect`` and its archive, read as little as possible.

An image's size and layers come from its archive (:mod:`pytest_rustimage.inspect.archive`), which
the engine streams whole. Two things make that cheaper, both kept in the user's cache folder
(:func:`pytest_rustimage.folders.cache_folder`) and both exact, since ids name contents:

* what the archive of an image id measured (its layers and config), so an image measured once on
  this machine is not exported again (a warm run reads no archive at all);
* each layer's content by diff id, so a base layer is parsed once per machine rather than once per
  image per run: a new image on a known base reads only its own layers' bytes.
"""

from __future__ import annotations

import contextlib
import json
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pytest_rustimage.engines import Engine
from pytest_rustimage.errors import EngineError, RustImageError
from pytest_rustimage.folders import cache_folder, write_private
from pytest_rustimage.inspect.archive import (
    ArchiveFacts,
    ArchiveLayer,
    LayerContent,
    StaleGuess,
    layer_from_data,
    layer_to_data,
    read_archive,
)
from pytest_rustimage.inspect.facts import ImageInfo, image_info
from pytest_rustimage.inspect.imagefs import ImageFs, default_keep, read_image_fs
from pytest_rustimage.inspect.onepass import read_archive_and_fs
from pytest_rustimage.names import normalise_id

FORMAT = 1


def measure(engine: Engine, ref: str) -> ImageInfo:
    """An image's facts, its size measured from its archive the same way on every engine."""
    raw = engine.inspect_raw(ref)
    image_id = normalise_id(str(raw["Id"]))
    archive = _stored(image_id)
    if archive is None:
        archive = _read(engine, ref)
        _store(image_id, archive)
    return image_info(raw, archive)


def measure_with_files(engine: Engine, ref: str) -> tuple[ImageInfo, ImageFs | None]:
    """:func:`measure`, and when the archive has to be read for it, the image's merged files from the
    same read (:func:`pytest_rustimage.inspect.onepass.read_archive_and_fs`): one export where sizes and
    files would take two. None for the files when the facts were stored (nothing was read); every layer
    is then parsed, none passed over as known, and each is still kept by diff id as :func:`measure` keeps them."""
    raw = engine.inspect_raw(ref)
    image_id = normalise_id(str(raw["Id"]))
    archive = _stored(image_id)
    if archive is not None:
        return image_info(raw, archive), None
    learned: dict[str, LayerContent] = {}
    try:
        with engine.open_archive(ref) as stream:
            archive, files = read_archive_and_fs(stream, learned)
    except (ValueError, OSError, tarfile.TarError) as exc:
        raise EngineError(f"cannot read the archive of image {ref} from {engine.name}: {exc}") from exc
    for diff_id, content in learned.items():
        _write(_layer_path(diff_id), layer_to_data(content))
    _store(image_id, archive)
    return image_info(raw, archive), files


def read_files(engine: Engine, ref: str, keep: Callable[[str], bool] = default_keep) -> ImageFs:
    """The image's merged files, from one read of its archive (the bytes kept: those ``keep`` names, by
    default shared libraries and the loader's configuration, see
    :func:`pytest_rustimage.inspect.imagefs.default_keep`)."""
    try:
        with engine.open_archive(ref) as stream:
            return read_image_fs(stream, keep)
    except (ValueError, OSError, tarfile.TarError) as exc:
        raise EngineError(f"cannot read the files of image {ref} from {engine.name}: {exc}") from exc


def _read(engine: Engine, ref: str) -> ArchiveFacts:
    learned: dict[str, LayerContent] = {}
    try:
        try:
            archive = _read_once(engine, ref, _known_layer, learned)
        except StaleGuess:  # a layer was taken for a known one by its place, wrongly: read everything
            learned.clear()
            archive = _read_once(engine, ref, lambda diff_id: None, learned)
    except (ValueError, OSError, tarfile.TarError) as exc:
        raise EngineError(f"cannot read the archive of image {ref} from {engine.name}: {exc}") from exc
    for diff_id, content in learned.items():
        _write(_layer_path(diff_id), layer_to_data(content))
    return archive


def _read_once(
    engine: Engine, ref: str, known: Callable[[str], LayerContent | None], learned: dict[str, LayerContent]
) -> ArchiveFacts:
    with engine.open_archive(ref) as stream:
        return read_archive(stream, known, learned)


def _folder(part: str) -> Path | None:
    try:
        return cache_folder(part)
    except RustImageError:  # no usable cache folder: measure without it
        return None


def _layer_path(diff_id: str) -> Path | None:
    folder = _folder("layers")
    return folder / f"{diff_id.removeprefix('sha256:')}.json" if folder else None


def _image_path(image_id: str) -> Path | None:
    folder = _folder("images")
    return folder / f"{image_id.removeprefix('sha256:')}.json" if folder else None


def _known_layer(diff_id: str) -> LayerContent | None:
    data = _load(_layer_path(diff_id))
    try:
        return layer_from_data(data) if data is not None else None
    except ValueError:
        return None


def _stored(image_id: str) -> ArchiveFacts | None:
    data = _load(_image_path(image_id))
    if data is None:
        return None
    try:
        layers = tuple(ArchiveLayer(**layer) for layer in data["layers"])
        return ArchiveFacts(layers=layers, config=dict(data["config"]))
    except (KeyError, TypeError, ValueError):
        return None


def _store(image_id: str, archive: ArchiveFacts) -> None:
    layers = [
        {"diff_id": la.diff_id, "size": la.size, "created_by": la.created_by, "wasted": la.wasted}
        for la in archive.layers
    ]
    _write(_image_path(image_id), {"layers": layers, "config": dict(archive.config)})


def _load(path: Path | None) -> Any:
    if path is None:
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data.get("data") if isinstance(data, dict) and data.get("format") == FORMAT else None


def _write(path: Path | None, data: Any) -> None:
    if path is None:
        return
    with contextlib.suppress(RustImageError):  # a cache that cannot be written is only slower
        write_private(path, json.dumps({"format": FORMAT, "data": data}))

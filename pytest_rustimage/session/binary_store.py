"""What a binary in an image is, kept by image id: a warm run reads no image archive and no binary.

An image id is the digest of the image's config, which lists its layers' digests: the same id is the
same files, byte for byte. So what is read from a binary of an image (its ELF facts, how the image's
loader resolves it, the markers of what it looks for at run time) and what the image's files say of
its needs are exact for (image id, path), and how it would load on a runtime image for (image id,
path, runtime image id), and are kept in the user's cache folder
(``binaries/KEY.json``), as sizes are (:mod:`pytest_rustimage.session.measure`).

What would make a kept answer wrong is the code that computed it: each file names the plugin's
version and a digest of the source of :mod:`pytest_rustimage.inspect` and of the session modules
that call it (this one, ``image.py``, ``runtimes.py``), and a file written by other code is not
used. A file that cannot be read, of another format, for another image or path, or whose data does
not rebuild exactly (:mod:`pytest_rustimage.inspect.codec`) is ignored; the facts are then
read from the image again and the file rewritten.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_rustimage import __version__
from pytest_rustimage.errors import RustImageError
from pytest_rustimage.folders import cache_folder, write_private
from pytest_rustimage.inspect.codec import CodecError, from_data, to_data
from pytest_rustimage.inspect.facts import BinaryFacts
from pytest_rustimage.inspect.loader import Loading
from pytest_rustimage.inspect.needs import BinaryScan, Need

FORMAT = 1
_INSPECT = Path(__file__).resolve().parent.parent / "inspect"
_SESSION_CODE = ("binary_store.py", "image.py", "runtimes.py")  # what builds the kept facts from inspect's


@dataclass(frozen=True)
class Needs:
    """The image's run-time needs as :func:`pytest_rustimage.inspect.needs.find_needs` found them."""

    found: tuple[Need, ...]


@dataclass(frozen=True)
class RuntimeLoad:
    """How the loader would load the binary on the runtime image ``runtime_id`` (the linkage check's
    runtime matrix, :mod:`pytest_rustimage.session.runtimes`), and that runtime's glibc: exact for the
    binary's image id and path and the runtime's id, whatever name the runtime goes by."""

    runtime_id: str
    loading: Loading
    glibc: str | None


@dataclass(frozen=True)
class StoredBinary:
    """A binary's facts and scan; ``needs``: the image's needs when they were looked for with it;
    ``runtimes``: how it loads on the runtimes it was tried on."""

    facts: BinaryFacts
    scan: BinaryScan
    needs: Needs | None = None
    runtimes: tuple[RuntimeLoad, ...] = ()


@functools.cache
def code_digest() -> str:
    """The plugin's version and a digest of the code that reads binaries and images and makes what is
    kept: :mod:`pytest_rustimage.inspect`, this module, and the session's modules that call them."""
    digest = hashlib.sha256(__version__.encode())
    session = Path(__file__).resolve().parent
    for path in [*sorted(_INSPECT.glob("*.py")), *(session / name for name in _SESSION_CODE)]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:32]


def _path(image_id: str, path: str) -> Path | None:
    key = hashlib.sha256(f"{image_id}\0{path}".encode()).hexdigest()[:40]
    try:
        return cache_folder("binaries") / f"{key}.json"
    except RustImageError:  # no usable cache folder: read the image every time
        return None


def load(image_id: str, path: str) -> StoredBinary | None:
    """The kept facts of the binary at ``path`` in image ``image_id``; None when there are none that
    this code wrote for exactly that image and path."""
    file = _path(image_id, path)
    if file is None:
        return None
    try:
        data: Any = json.loads(file.read_text())
        if (data["format"], data["code"], data["image"], data["path"]) != (FORMAT, code_digest(), image_id, path):
            return None
        return from_data(StoredBinary, data["binary"])
    except (OSError, ValueError, KeyError, TypeError, CodecError):
        return None


def save(image_id: str, path: str, stored: StoredBinary) -> None:
    """Keep ``stored`` for the binary at ``path`` in image ``image_id`` (quietly not, when the cache
    folder cannot be written: that is only slower)."""
    file = _path(image_id, path)
    if file is None:
        return
    data = {"format": FORMAT, "code": code_digest(), "image": image_id, "path": path, "binary": to_data(stored)}
    with contextlib.suppress(RustImageError):
        write_private(file, json.dumps(data))

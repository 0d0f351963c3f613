"""An image archive read once for both of its uses: its sizes and its merged files.

The size of an image (:func:`pytest_rustimage.inspect.archive.read_archive`) and its files as a
container sees them (:func:`pytest_rustimage.inspect.imagefs.read_image_fs`) come from the same
archive. Each read on its own makes the engine export the whole image and Python parse every layer
tar, which is most of what measuring a fresh image costs; a run that checks both sizes and linkage
would pay it twice. :func:`read_archive_and_fs` reads the stream once and each layer tar once, every
member handled by the same code as those two functions (:func:`archive.count_member`, and the
layer tree's), so its answers are theirs exactly.

No layer is passed over as known here (the tree needs every layer's entries), so each layer read is
reported in ``learned`` as :func:`read_archive` reports it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import IO

from pytest_rustimage.inspect.archive import ArchiveFacts, LayerContent, read_archive_indexed, read_layer
from pytest_rustimage.inspect.imagefs import (
    ImageFs,
    LayerTree,
    assemble_fs,
    default_keep,
    is_layer_name,
    read_layer_both,
)


def read_archive_and_fs(
    stream: IO[bytes],
    learned: dict[str, LayerContent] | None = None,
    keep: Callable[[str], bool] = default_keep,
) -> tuple[ArchiveFacts, ImageFs]:
    """What :func:`read_archive` (with no layer known) and :func:`read_image_fs` give of the single
    image in a ``docker-archive`` stream, from one read of it.

    Raises as :func:`read_archive` does: ``ValueError`` when the stream is not an image archive with
    one image, :class:`LayerUnreadable` when a layer of its manifest cannot be read (the caller may
    then read the files alone, where that layer is named in :attr:`ImageFs.unreadable`)."""
    trees: dict[str, LayerTree] = {}

    def reader(name: str, layer: IO[bytes]) -> LayerContent:
        if not is_layer_name(name):  # read_image_fs takes layers by name only: it has no tree of this one
            return read_layer(layer)
        content, tree = read_layer_both(layer, keep)
        trees[name] = tree
        return content

    facts, index = read_archive_indexed(stream, learned=learned, reader=reader)
    return facts, assemble_fs(index.order, trees, index.aliases, index.failed)

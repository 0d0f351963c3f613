"""``parity``: the same crate and strategy built by each engine gives equivalent images.

When the binaries differ, both are read and compared (:mod:`pytest_rustimage.inspect.repro`): the
failure names the sections and strings that differ and whether the build is irreproducible (a time or a
path embedded: the ``reproducible`` check says the same of one engine) or an input differs."""

from __future__ import annotations

from collections.abc import Sequence

from pytest_rustimage.checks.base import Check, Context, Needs, Properties
from pytest_rustimage.inspect.repro import compare_binaries
from pytest_rustimage.report.parity import compare, observe
from pytest_rustimage.session.image import RustImage


def run(images: Sequence[RustImage], context: Context, properties: Properties) -> None:
    first = observe(images[0])
    for image in images[1:]:
        other = observe(image)
        diff = None
        if other.binary_sha256 != first.binary_sha256:  # what differs, and why: both binaries read (only then)
            diff = compare_binaries(_bytes(images[0]), _bytes(image))
        report = compare(first, other, context.parity_tolerance, binary_diff=diff)
        properties.append((f"rust_image_parity_{image.engine.name}", report.table()))
        report.assert_equivalent()  # raises ParityFailed, a RustImageError, with the side-by-side table


def _bytes(image: RustImage) -> bytes:
    return image.engine.read_file(image.id, image.binary_path)


PARITY = Check(
    name="parity",
    needs=Needs.ENGINES,
    run=run,
    about="one strategy built by each engine (`--rust-image-engine=all`) gives equivalent images",
)

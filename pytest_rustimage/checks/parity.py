"""``parity``: the same crate and strategy built by each engine gives equivalent images."""

from __future__ import annotations

from collections.abc import Sequence

from pytest_rustimage.checks.base import Check, Context, Needs, Properties
from pytest_rustimage.report.parity import compare, observe
from pytest_rustimage.session.image import RustImage


def run(images: Sequence[RustImage], context: Context, properties: Properties) -> None:
    first = observe(images[0])
    for other in images[1:]:
        report = compare(first, observe(other), context.parity_tolerance)
        properties.append((f"rust_image_parity_{other.engine.name}", report.table()))
        report.assert_equivalent()  # raises ParityFailed, a RustImageError, with the side-by-side table


PARITY = Check(
    name="parity",
    needs=Needs.ENGINES,
    run=run,
    about="one strategy built by each engine (`--rust-image-engine=all`) gives equivalent images",
)

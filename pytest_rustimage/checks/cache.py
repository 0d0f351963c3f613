"""``cache``: after a source-only edit, the rebuild reuses the dependency layer (the cache probe)."""

from __future__ import annotations

from collections.abc import Sequence

from pytest_rustimage.checks.base import Check, CheckFailed, CheckSkipped, Context, Needs, Properties
from pytest_rustimage.errors import BuildFailed
from pytest_rustimage.session.image import RustImage


def run(images: Sequence[RustImage], context: Context, properties: Properties) -> None:
    (image,) = images
    try:
        report = image.rebuild_after()
    except BuildFailed as exc:
        raise CheckFailed(f"{image.spec.what}: {exc}") from exc
    if report.skip_reason is not None:
        raise CheckSkipped(f"nothing to prove: {report.skip_reason}")
    if report.inconclusive:  # "cannot tell" is a failure with its reason, never a pass or a skip
        steps = "; ".join(f"[{h.stage}] {h.instruction[:100]}" for h in report.undecided)
        raise CheckFailed(
            f"{image.spec.crate.name} ({image.spec.variant}): cannot tell whether the dependency layer stays "
            f"cached across a source-only edit: cargo's output is hidden in {steps}\n{report.describe()}"
        )
    if not report.ok:
        raise CheckFailed(
            f"{image.spec.crate.name} ({image.spec.variant}): the dependency layer does not stay "
            f"cached across a source-only edit\n{report.describe()}"
        )
    properties.append(("rust_image_cache", report.summary()))


CACHE = Check(
    name="cache",
    needs=Needs.IMAGE,
    run=run,
    about="after a source-only edit the rebuild reuses the dependency layer: the cache probe ([cache](cache.md))",
)

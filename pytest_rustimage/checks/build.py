"""``build``: the image builds (or an image of the same inputs is reused); the one check that fails when it does not."""

from __future__ import annotations

from collections.abc import Sequence

from pytest_rustimage.checks.base import Check, Context, Needs, Properties
from pytest_rustimage.report.baseline import SizeVerdict
from pytest_rustimage.report.image_record import ImageRecord
from pytest_rustimage.report.parts import Column
from pytest_rustimage.session.image import RustImage


def run(images: Sequence[RustImage], context: Context, properties: Properties) -> None:
    (image,) = images
    how = "reused from an earlier session" if image.build.reused else f"built in {image.build.duration:.1f}s"
    properties.append(("rust_image_build", f"{image.tag} {how}"))


def _build_column(record: ImageRecord, verdict: SizeVerdict | None) -> str:
    return "reused" if record.build.reused else f"{record.build.seconds:.0f}s"


BUILD = Check(
    name="build",
    needs=Needs.IMAGE,
    run=run,
    about="the image builds, or an image of the same inputs is reused; fails with the build log's last lines",
    reports_build_failure=True,
    summary_columns=(Column("build", _build_column, width=6, numeric=True, at=4),),
)

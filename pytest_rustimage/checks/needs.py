"""``needs``: what the binary will look for in its image at run time is there (docs/needs.md).

CA certificates, the time-zone database, the image's user, name resolution of a static glibc binary
and the shell of a shell-form command, each told from the binary's bytes and the image's config and
files (:mod:`pytest_rustimage.inspect.needs`): no container is run. Every need detected is recorded,
satisfied or not; the check fails when one is not, and when the image's files cannot all be read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from pytest_rustimage.checks.base import Check, CheckFailed, Context, Needs, Properties
from pytest_rustimage.inspect.needs import Need
from pytest_rustimage.recipe.strategies import SCRATCH
from pytest_rustimage.report.baseline import SizeVerdict
from pytest_rustimage.report.image_record import ImageRecord
from pytest_rustimage.report.parts import Column
from pytest_rustimage.session.image import RustImage


def run(images: Sequence[RustImage], context: Context, properties: Properties) -> None:
    (image,) = images
    unreadable = image.unreadable_layers()
    if unreadable:
        layers = "; ".join(f"{layer}: {why}" for layer, why in unreadable.items())
        raise CheckFailed(
            f"what {image.binary_path} in {image.tag} needs from the image cannot be told: layers of it "
            f"could not be read ({layers})"
        )
    needs = image.needs()
    missing = [need for need in needs if not need.satisfied]
    if missing:
        raise CheckFailed(failure(image, missing))
    said = "; ".join(need.text() for need in needs) or "none detected"
    properties.append(("rust_image_needs", said))


def failure(image: RustImage, missing: Sequence[Need]) -> str:
    """What the image lacks, what shows the binary needs it, where it was looked for, and the fix."""
    kinds = ", ".join(need.kind for need in missing)
    lines = [f"{image.binary_path} in {image.tag} ({image.spec.variant}) needs what the image lacks: {kinds}"]
    for need in missing:
        lines += [
            f"  - {need.kind}: {need.evidence}",
            f"    looked for: {', '.join(need.looked_for)} (not found)",
            f"    fix: {need.fix}",
        ]
    where = _where_to_fix(image, missing)
    return "\n".join(lines + ([f"  where: {where}"] if where else []))


def _where_to_fix(image: RustImage, missing: Sequence[Need]) -> str:
    """Where a generated image can get the files: the plugin writes its Dockerfile, so the per-need fixes
    that edit a Dockerfile apply only through the runtime base or the user's own Dockerfile."""
    traits = image.spec.traits
    if not traits.generated or not {need.kind for need in missing} & FILE_KINDS:
        return ""
    own = "or build the image from your own Dockerfile (the dockerfile strategy, docs/strategies.md)"
    if traits.runtime == SCRATCH:
        return f"the {traits.name} strategy ships the binary alone on scratch: bundle them in the binary, {own}"
    return (
        f"the {traits.name} strategy's runtime is {image.spec.runtime_image} (rust_image_runtime): choose one "
        "that has them (gcr.io/distroless/cc-debian12 has CA certificates and time zones; the cc-bookworm base "
        f"that `python -m pytest_rustimage bases` makes has CA certificates), {own}"
    )


# its part of the summary and the HTML report


def _lines(images: Sequence[ImageRecord], verdicts: Mapping[str, SizeVerdict]) -> list[str]:
    lines = []
    for record in images:
        missing = [need.kind for need in record.needs or () if not need.satisfied]
        if missing:
            lines.append(f"needs what the image lacks: {record.tag} ({record.variant}): {', '.join(missing)}")
    return lines


FILE_KINDS = frozenset({"CA certificates", "time zones"})  # files a runtime base may carry


def _column(record: ImageRecord, verdict: SizeVerdict | None) -> str:
    """The overview's cell: the needs detected, and those the image lacks marked."""
    if record.needs is None:
        return "-"
    missing = [need.kind for need in record.needs if not need.satisfied]
    if missing:
        return f'<span class="over">lacks {escape(", ".join(missing))}</span>'
    return escape(", ".join(need.kind for need in record.needs) + " found") if record.needs else "none detected"


def _fact(need: Need) -> str:
    where = f"found at {need.found_at}" if need.found_at else "NOT FOUND"
    return f"{need.kind}: {need.evidence}; looked for {', '.join(need.looked_for)}; {where}"


def _facts(record: ImageRecord) -> list[tuple[str, str]]:
    if record.needs is None:
        return []
    if not record.needs:
        return [("needs", "none detected")]
    return [("needs", "<br>".join(escape(_fact(need)) for need in record.needs))]


NEEDS = Check(
    name="needs",
    needs=Needs.IMAGE,
    run=run,
    about="the files the binary reads at run time (CA certificates, time zones, its user, name resolution, "
    "a shell for a shell-form command) are in the image: [needs](needs.md)",
    summary_lines=_lines,
    overview_columns=(Column("needs", _column),),
    html_facts=_facts,
)

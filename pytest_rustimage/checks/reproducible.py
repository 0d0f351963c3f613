"""``reproducible``: a second build of the same sources, cold and from another folder, gives the same binary.

Opt-in (it costs one cold build): named in ``--rust-image-checks``, or ``reproducible = true`` in the
crate's metadata. The image is built again with ``--no-cache`` from a copy of the crate elsewhere
(:mod:`pytest_rustimage.session.twin`); the checked binaries are compared byte for byte and the
images' merged files by kind, size and link target, without what the engines stamp
(:mod:`pytest_rustimage.inspect.repro`, :mod:`pytest_rustimage.inspect.repro_files`). On a difference
the check names the ELF sections whose bytes changed, the strings that differ (build paths,
timestamps) and the likely cause with its fix. The verdict is kept by the image's id and inputs, so a
run that reuses the image reuses the verdict (docs/reproducible.md).
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections.abc import Sequence
from html import escape
from pathlib import Path

from pytest_rustimage.checks.base import Check, CheckFailed, Context, Needs, Properties
from pytest_rustimage.errors import BuildFailed, RustImageError
from pytest_rustimage.inspect.repro import compare_binaries, explain
from pytest_rustimage.inspect.repro_files import compare_files, entries_from_fs
from pytest_rustimage.recipe.oci import source_epoch
from pytest_rustimage.recipe.request import image_epoch
from pytest_rustimage.report.image_record import ImageRecord
from pytest_rustimage.session.image import RustImage
from pytest_rustimage.session.twin import SecondBuild, Verdict, load, save, stored_path

LABELS = ("first build", "second build")


def run(images: Sequence[RustImage], context: Context, properties: Properties) -> None:
    (image,) = images
    verdict = _verdict(image, context)
    image.reproducible = (verdict.identical, verdict.summary)  # for the reports
    properties.append(("rust_image_reproducible", verdict.summary))
    if not verdict.identical:
        raise CheckFailed(verdict.explanation)


def _verdict(image: RustImage, context: Context) -> Verdict:
    """The verdict kept for this image, else a second build compared with it now (and kept)."""
    try:
        path: Path | None = stored_path(image.engine, image)
    except RustImageError:  # no usable cache folder: measure, keep nothing
        path = None
    found = load(path) if path is not None and not image.spec.rebuild else None
    if found is not None:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(found.measured_at))
        return dataclasses.replace(found, summary=f"{found.summary} (the verdict of {when}: inputs unchanged)")
    if context.build_again is None:
        raise CheckFailed("the reproducible check needs the session's image factory (none was given)")
    try:
        second = context.build_again(image)
    except BuildFailed as exc:
        image.reproducible = (False, "the second build failed")
        raise CheckFailed(
            f"the second build of {image.spec.what} (cold, from another folder) failed: {exc.reason}"
        ) from exc
    verdict = judge(image, image.engine.read_file(image.id, image.binary_path), second)
    if path is not None:
        save(path, verdict)
    return verdict


def judge(image: RustImage, first: bytes, second: SecondBuild) -> Verdict:
    """The verdict on ``image`` whose binary is ``first``, against its ``second`` build."""
    binaries = compare_binaries(first, second.binary)
    files = compare_files(entries_from_fs(second.first_files), entries_from_fs(second.files))
    unread = {**second.first_files.unreadable, **second.files.unreadable}
    if binaries.identical and files.identical and (files.unchecked or unread):  # cannot tell: never a pass
        unseen = [f"layer {layer}: {why}" for layer, why in sorted(unread.items())]
        unseen += [f"{path}: contents not read" for path in files.unchecked[:5]]
        return Verdict(
            False,
            f"cannot tell whether {image.tag} ({image.spec.variant}) is reproducible: the binaries are the same, "
            "but not every file of the two images could be compared:\n  " + "\n  ".join(unseen),
            "cannot tell: not every file of the images could be compared",
            time.time(),
        )
    if binaries.identical and files.identical:
        summary = (
            f"a second build, cold and from another folder, gave the same binary (sha256 {_sha(first)}) "
            f"and the same files (every file's bytes compared), in {second.seconds:.1f}s"
        )
        return Verdict(True, "", summary, time.time())
    lines = [
        f"{image.binary_path} in {image.tag} ({image.spec.variant}) is not reproducible: a second build of the "
        "same sources, cold (--no-cache) and from another folder, differs",
        explain(None if binaries.identical else binaries, None if files.identical else files, LABELS),
    ]
    if image.spec.traits.generated:
        epoch = image_epoch(image.config.labels) or source_epoch(image.spec.crate.root)
        lines.append(
            f"note: the {image.spec.strategy} strategy builds at /app with SOURCE_DATE_EPOCH={epoch} (the crate's "
            "source time: SOURCE_DATE_EPOCH from the environment, else the HEAD commit's time, else the newest file "
            "time): what still differs does not follow it"
        )
    what = "the binary differs" if not binaries.identical else "the image's files differ"
    return Verdict(False, "\n".join(lines), f"{what} from a second build", time.time())


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def _facts(record: ImageRecord) -> list[tuple[str, str]]:
    verdict = record.reproducible
    if verdict is None:
        return []
    return [("reproducible", escape(("yes: " if verdict.identical else "NO: ") + verdict.summary))]


REPRODUCIBLE = Check(
    name="reproducible",
    needs=Needs.IMAGE,
    run=run,
    about="a second build, cold (`--no-cache`) and from another folder, gives the same binary and files; "
    "opt-in (one cold build): named, or `reproducible = true` ([reproducible](reproducible.md))",
    metadata_keys=("reproducible",),
    default=False,
    wanted_by=lambda spec: spec.reproducible,
    html_facts=_facts,
)

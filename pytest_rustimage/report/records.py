"""The machine-readable report (``--rust-image-report=PATH.json``): every measured fact, per image.

:func:`measure_sizes` is the one engine call of a record, made by the glue while the image is in use
(:mod:`pytest_rustimage.plugin.obtain`); :func:`image_record` then only gathers what was measured
(:class:`~pytest_rustimage.report.image_record.ImageRecord`), and :func:`render` writes the report
(docs/report.schema.json).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from pytest_rustimage import __version__
from pytest_rustimage.cachecheck.matrix import CacheMatrix, MatrixRow
from pytest_rustimage.errors import RustImageError
from pytest_rustimage.inspect.facts import BinaryFacts
from pytest_rustimage.inspect.runtimes import RuntimeVerdict
from pytest_rustimage.report.baseline import SizeVerdict, baseline_key
from pytest_rustimage.report.image_record import (
    BaselineRecord,
    BinaryRecord,
    BuildFacts,
    CacheRecord,
    EditRow,
    ImageRecord,
    ReproducibleRecord,
    Sizes,
    to_json,
)
from pytest_rustimage.session.image import RustImage

FORMAT = 1


def measure_sizes(image: RustImage) -> Sizes | str:
    """The image's sizes, layers, base and config (reads its archive: an engine call), or why not."""
    try:
        info = image.info
        return Sizes(info.size, info.wasted, info.layers, image.own_size, image.base, info.config)
    except RustImageError as exc:
        return str(exc)


def binary_record(facts: BinaryFacts, runtimes: tuple[RuntimeVerdict, ...] | None = None) -> BinaryRecord:
    loads = facts.loads
    return BinaryRecord(
        path=facts.path,
        size=facts.size,
        sha256=facts.sha256,
        elf=facts.elf,
        debug_bytes=facts.debug_size,
        loads=True if loads is True else tuple(loads),
        resolved=dict(facts.resolved),
        floor=facts.floor,
        runtimes=runtimes,
    )


def baseline_record(verdict: SizeVerdict) -> BaselineRecord:
    return BaselineRecord(
        size=verdict.baseline,
        own=verdict.baseline_own,
        change=verdict.change,
        status=verdict.status,
        base_changed=verdict.base_text() or None,
    )


def edit_row(row: MatrixRow) -> EditRow:
    report = row.report
    return EditRow(
        kind=row.kind,
        applicable=report is not None,
        reason=row.reason,
        edit=None if report is None else report.edit,
        deps_reused=None if report is None or report.inconclusive else report.deps_reused,
        third_party_recompiled=() if report is None else tuple(report.third_party_recompiled),
        own_recompiled=() if report is None else tuple(report.own_recompiled),
        rerun_steps=row.rerun_steps,
        rebuild_seconds=None if report is None else round(report.rebuild_seconds, 3),
        stored=report is not None and report.stored,
        gated=row.gated,
        ok=row.ok,
        problems=row.problems,
    )


def cache_record(matrix: CacheMatrix) -> CacheRecord | None:
    """The record of the cache check's matrix; None when no edit kind was measured."""
    cache = matrix.main
    if cache is None:
        return None
    return CacheRecord(
        edit=cache.edit,
        ok=cache.ok and matrix.ok,
        inconclusive=cache.inconclusive,
        deps_reused=cache.deps_reused,
        third_party_recompiled=tuple(cache.third_party_recompiled),
        own_recompiled=tuple(cache.own_recompiled),
        baseline=cache.baseline,
        baseline_seconds=round(cache.baseline_seconds, 3) if cache.baseline_seconds is not None else None,
        rebuild_seconds=round(cache.rebuild_seconds, 3),
        stored=cache.stored,
        measured_at=round(cache.measured_at, 3),
        deps_steps=tuple(cache.deps_steps),
        hidden=tuple(cache.hidden),
        edits=tuple(edit_row(row) for row in matrix.rows),
    )


def image_record(
    image: RustImage, sizes: Sizes | str | None, cache: CacheMatrix | None, verdict: SizeVerdict | None
) -> ImageRecord:
    """What the session learnt about one image; facts it did not measure are left out, not guessed.
    No engine call: ``sizes`` were measured while the image was in use, the binary's facts when a check
    or test read them."""
    spec = image.spec
    facts = image.measured_binary()
    return ImageRecord(
        crate=spec.crate.name,
        manifest=str(spec.crate.manifest_path),
        strategy=spec.strategy,
        engine=spec.engine,
        binary=spec.binary.name,
        variant=spec.variant,
        baseline_key=baseline_key(spec),
        tag=image.tag,
        id=image.id,
        build=BuildFacts(reused=image.build.reused, origin=image.build.origin, seconds=round(image.build.duration, 3)),
        budget=spec.max_size,
        sizes=sizes if isinstance(sizes, Sizes) else None,
        error=sizes if isinstance(sizes, str) else None,
        binary_facts=binary_record(facts, image.measured_runtimes()) if facts is not None else None,
        baseline=baseline_record(verdict) if verdict is not None else None,
        cache=cache_record(cache) if cache is not None else None,
        needs=image.measured_needs(),
        reproducible=ReproducibleRecord(*image.reproducible) if image.reproducible is not None else None,
    )


def records(
    images: Sequence[RustImage],
    sizes: Mapping[tuple[str, ...], Sizes | str],
    caches: Mapping[tuple[str, ...], CacheMatrix],
    verdicts: Mapping[str, SizeVerdict],
) -> list[ImageRecord]:
    """The records of ``images`` (``sizes`` and ``caches`` by spec key, ``verdicts`` by baseline key)."""
    return [
        image_record(i, sizes.get(i.spec.key), caches.get(i.spec.key), verdicts.get(baseline_key(i.spec)))
        for i in images
    ]


def render(records: Sequence[ImageRecord]) -> str:
    images = [to_json(record) for record in records]
    return json.dumps({"format": FORMAT, "plugin": __version__, "images": images}, indent=2, sort_keys=True) + "\n"

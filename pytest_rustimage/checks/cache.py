"""``cache``: after a source-only edit, the rebuild reuses the dependency layer (the cache probe)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from pytest_rustimage.checks.base import Check, CheckFailed, CheckSkipped, Context, Needs, Properties
from pytest_rustimage.errors import BuildFailed
from pytest_rustimage.report.baseline import SizeVerdict
from pytest_rustimage.report.image_record import CacheRecord, ImageRecord
from pytest_rustimage.report.parts import Column
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


# its part of the summary and the HTML report


def _column(record: ImageRecord, verdict: SizeVerdict | None) -> str:
    cache = record.cache
    if cache is None:
        return "-"
    if cache.inconclusive:  # cargo's output was hidden: neither reused nor a count can be told
        deps = "HIDDEN, ?"
    else:
        deps = f"{'reused' if cache.deps_reused else 'REBUILT'}, {len(cache.third_party_recompiled)}"
    if cache.stored:
        return f"{deps}, stored"  # an earlier run's verdict for the same inputs: its seconds are not this run's
    first = cache.baseline_seconds
    return f"{deps}, {'?' if first is None else f'{first:.1f}'}->{cache.rebuild_seconds:.1f}"


def _overview(record: ImageRecord, verdict: SizeVerdict | None) -> str:
    cache = record.cache
    if cache is None:
        return "-"
    if cache.inconclusive:
        return escape("INCONCLUSIVE: cargo's output hidden after the edit")
    said = "deps reused" if cache.deps_reused else "deps REBUILT"
    return escape(f"{said}, {len(cache.third_party_recompiled)} third-party recompiled")


def _fact(cache: CacheRecord) -> str:
    if cache.inconclusive:
        undecided = [h for h in cache.hidden if not h.settled and h.build == "after"]  # they leave the verdict open
        said = "inconclusive: cargo's output hidden in " + "; ".join(f"[{h.stage}] {h.instruction}" for h in undecided)
    else:
        said = (
            f"deps {'reused' if cache.deps_reused else 'rebuilt'}, "
            f"{len(cache.third_party_recompiled)} third-party recompiled"
        )
    return said + (" (an earlier run's verdict for the same inputs)" if cache.stored else "")


def _facts(record: ImageRecord) -> list[tuple[str, str]]:
    return [("cache", escape(_fact(record.cache)))] if record.cache is not None else []


CACHE = Check(
    name="cache",
    needs=Needs.IMAGE,
    run=run,
    about="after a source-only edit the rebuild reuses the dependency layer: the cache probe ([cache](cache.md))",
    summary_columns=(Column("cache: deps, 3rd-party, s", _column, at=5),),
    overview_columns=(Column("cache", _overview),),
    html_facts=_facts,
)

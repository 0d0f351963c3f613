"""``cache``: after a source-only edit, the rebuild reuses the dependency layer (the cache probe)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from pytest_rustimage.cachecheck.matrix import MatrixRow
from pytest_rustimage.checks.base import Check, CheckFailed, CheckSkipped, Context, Needs, Properties
from pytest_rustimage.errors import BuildFailed
from pytest_rustimage.report.baseline import SizeVerdict
from pytest_rustimage.report.image_record import CacheRecord, EditRow, ImageRecord
from pytest_rustimage.report.parts import Column
from pytest_rustimage.session.image import RustImage

WHAT = {
    "source": "a source-only edit",
    "library": "an edit of a workspace library",
    "non-rust": "an edit of a file no Rust code reads",
    "version": "a bump of the package's own version",
}


def run(images: Sequence[RustImage], context: Context, properties: Properties) -> None:
    (image,) = images
    try:
        matrix = image.cache_matrix()
    except BuildFailed as exc:
        raise CheckFailed(f"{image.spec.what}: {exc}") from exc
    if matrix.skip_reason is not None:
        raise CheckSkipped(f"nothing to prove: {matrix.skip_reason}")
    name = f"{image.spec.crate.name} ({image.spec.variant})"
    if matrix.failed:
        raise CheckFailed("\n\n".join(_failure(name, row) for row in matrix.failed) + _others(matrix.rows))
    main = matrix.main
    if main is not None:
        properties.append(("rust_image_cache", main.summary()))
    for row in matrix.rows:
        properties.append((f"rust_image_cache_{row.kind}", row.line()))


def _failure(name: str, row: MatrixRow) -> str:
    """A failing kind: what did not hold, the steps that ran again and the report's hints (its describe())."""
    assert row.report is not None
    report = row.report
    what = WHAT.get(row.kind, f"the {row.kind} edit")
    if report.inconclusive:  # "cannot tell" is a failure with its reason, never a pass or a skip
        steps = "; ".join(f"[{h.stage}] {h.instruction[:100]}" for h in report.undecided)
        head = (
            f"{name}: cannot tell whether the dependency layer stays cached across {what}: "
            f"cargo's output is hidden in {steps}"
        )
    elif report.third_party_recompiled:
        head = f"{name}: the dependency layer does not stay cached across {what}"
    else:
        head = f"{name}: after {what}: {'; '.join(row.problems)}"
    head += f"\n- the {row.kind} edit: {report.edit}"
    rerun = "".join(f"\n- ran again: {step}" for step in row.rerun_steps)
    return f"{head}\n{report.describe()}{rerun}"


def _others(rows: Sequence[MatrixRow]) -> str:
    """The whole matrix, after the failures."""
    return "\n\nthe edit matrix:\n" + "\n".join(f"  {row.line()}" for row in rows)


# its part of the summary and the HTML report


def _column(record: ImageRecord, verdict: SizeVerdict | None) -> str:
    cache = record.cache
    if cache is None:
        return "-"
    if cache.inconclusive:  # cargo's output was hidden: neither reused nor a count can be told
        deps = "HIDDEN, ?"
    else:
        deps = f"{'reused' if cache.deps_reused else 'REBUILT'}, {len(cache.third_party_recompiled)}"
    failed = _failed_kinds(cache)
    if cache.stored:
        return f"{deps}, stored{failed}"  # an earlier run's verdict for the same inputs: its seconds are not this run's
    first = cache.baseline_seconds
    return f"{deps}, {'?' if first is None else f'{first:.1f}'}->{cache.rebuild_seconds:.1f}{failed}"


def _failed_kinds(cache: CacheRecord) -> str:
    """The edit kinds (besides the one the column shows) that failed: ``, FAILED version,non-rust``."""
    failed = [row.kind for row in cache.edits if not row.ok and row.edit != cache.edit]
    return f", FAILED {','.join(failed)}" if failed else ""


def _row_text(row: EditRow) -> str:
    """One edit kind's row for people: the dependency layer, what was recompiled, the rebuild's time."""
    if not row.applicable:
        return row.reason
    deps = {True: "deps kept", False: "deps REBUILT", None: "deps not known (cargo's output hidden)"}[row.deps_reused]
    seconds = "stored" if row.stored else f"rebuild {row.rebuild_seconds or 0:.1f}s"
    said = f"{deps}, {len(row.third_party_recompiled)} third-party and {len(row.own_recompiled)} own recompiled"
    verdict = (
        "ok" if row.ok and row.gated else "reported, not gated" if row.ok else "FAILED: " + "; ".join(row.problems)
    )
    text = f"{said}, {seconds}: {verdict}"
    if row.own_recompiled:
        text += f" (own: {', '.join(row.own_recompiled)})"
    if row.reason:
        text += f" (nothing to prove: {row.reason})"
    return text


def _matrix_lines(images: Sequence[ImageRecord], verdicts: Mapping[str, SizeVerdict]) -> list[str]:
    """The edit matrix of each image whose cache check ran more than the ``source`` edit."""
    lines: list[str] = []
    for record in images:
        cache = record.cache
        if cache is None or [row.kind for row in cache.edits] in ([], ["source"]):
            continue
        lines.append(f"cache edits of {record.crate} ({record.variant}):")
        lines += [f"  {row.kind:<8} {_row_text(row)}" for row in cache.edits]
    return lines


def _overview(record: ImageRecord, verdict: SizeVerdict | None) -> str:
    cache = record.cache
    if cache is None:
        return "-"
    if cache.inconclusive:
        return escape("INCONCLUSIVE: cargo's output hidden after the edit")
    said = "deps reused" if cache.deps_reused else "deps REBUILT"
    return escape(f"{said}, {len(cache.third_party_recompiled)} third-party recompiled{_failed_kinds(cache)}")


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
    if record.cache is None:
        return []
    edits = [(f"cache: {row.kind} edit", escape(_row_text(row))) for row in record.cache.edits]
    return [("cache", escape(_fact(record.cache))), *edits]


CACHE = Check(
    name="cache",
    needs=Needs.IMAGE,
    run=run,
    about=(
        "after each configured edit (default: a source-only one) the rebuild reuses the dependency layer: "
        "the cache probe over an edit matrix ([cache](cache.md))"
    ),
    metadata_keys=("cache-edits",),
    summary_columns=(Column("cache: deps, 3rd-party, s", _column, at=5),),
    summary_lines=_matrix_lines,
    overview_columns=(Column("cache", _overview),),
    html_facts=_facts,
)

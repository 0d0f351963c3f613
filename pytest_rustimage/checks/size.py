"""``size``: the image within its budget (``max-size``) and waste (``max-wasted``), and against the baseline."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from pytest_rustimage.checks.base import Check, CheckFailed, Context, Needs, Properties
from pytest_rustimage.errors import RustImageError
from pytest_rustimage.inspect.facts import BinaryFacts
from pytest_rustimage.report.baseline import SizeVerdict, baseline_key, entry_of, judge
from pytest_rustimage.report.image_record import ImageRecord
from pytest_rustimage.report.parts import Column
from pytest_rustimage.session.image import RustImage
from pytest_rustimage.units import format_size

DEBUG_SHARE = 0.10  # debug info and symbols above this share of the binary are worth a line in the message


def debug_advice(facts: BinaryFacts) -> str | None:
    """What stripping would save, when debug info and symbols are more than a tenth of the binary."""
    debug = facts.debug_size
    if not facts.size or debug <= DEBUG_SHARE * facts.size:
        return None
    return (
        f"{facts.path} ({format_size(facts.size)}) carries {format_size(debug)} ({debug} bytes, "
        f"{100 * debug / facts.size:.0f}%) of debug info and symbols: `strip = true` (or `debug = 0`) under "
        "[profile.release] in Cargo.toml would save about that much."
    )


def _binary_advice(image: RustImage) -> str:
    try:
        advice = debug_advice(image.binary())
    except RustImageError:  # a Dockerfile's image whose binary is elsewhere: the layers still tell
        return ""
    return f"{advice}\n" if advice else ""


def _over_budget(image: RustImage) -> CheckFailed:
    spec, size = image.spec, image.size
    largest = sorted(image.layers, key=lambda layer: layer.size, reverse=True)[:3]
    lines = "\n".join(f"  {format_size(layer.size):>10}  {layer.created_by[:90]}" for layer in largest)
    return CheckFailed(
        f"{image.tag} is {format_size(size)} ({size} bytes), over its budget of "
        f"{format_size(spec.max_size)} ({spec.max_size} bytes) by {size - spec.max_size} bytes.\n"
        f"Largest layers:\n{lines}\n{_binary_advice(image)}"
        "Make the image smaller, or raise max-size under [package.metadata.rust-image]."
    )


def _too_wasteful(image: RustImage, wasted: int, limit: int) -> CheckFailed:
    worst = sorted(image.layers, key=lambda layer: layer.wasted, reverse=True)[:3]
    lines = "\n".join(f"  {format_size(la.wasted):>10}  {la.created_by[:90]}" for la in worst if la.wasted)
    return CheckFailed(
        f"{image.tag} wastes {format_size(wasted)} ({wasted} bytes): files that later layers delete or "
        f"overwrite, more than max-wasted {format_size(limit)}.\nLayers whose bytes are wasted:\n"
        f"{lines}\nDelete files in the same step that makes them, or copy only what the image needs."
    )


def run(images: Sequence[RustImage], context: Context, properties: Properties) -> None:
    (image,) = images
    spec = image.spec
    size = image.size
    if size > spec.max_size:
        raise _over_budget(image)
    wasted = image.info.wasted
    if spec.max_wasted is not None and wasted > spec.max_wasted:
        raise _too_wasteful(image, wasted, spec.max_wasted)
    base = image.base
    measured = entry_of(size, image.own_size, base.name, base.id)
    verdict = judge(baseline_key(spec), measured, context.baseline, context.size_tolerance, context.gate_base)
    context.verdicts[verdict.key] = verdict
    if verdict.failed and not context.update_baseline:
        raise CheckFailed(f"{verdict.message()}\nbaseline file: {context.baseline_path}")
    text = (
        f"{format_size(size)} of {format_size(spec.max_size)} budget; baseline: {verdict.change_text()}; "
        f"wasted {format_size(wasted)}"
    )
    properties.append(("rust_image_size", text))
    properties += [("rust_image_size_bytes", image.size), ("rust_image_layers", image.info.layer_count)]


# its part of the summary and the HTML report


def _size(record: ImageRecord, verdict: SizeVerdict | None) -> str:
    return format_size(record.sizes.size) if record.sizes is not None else "?"


def _layers(record: ImageRecord, verdict: SizeVerdict | None) -> str:
    return str(len(record.sizes.layers)) if record.sizes is not None else "?"


def _gate_lines(images: Sequence[ImageRecord], verdicts: Mapping[str, SizeVerdict]) -> list[str]:
    return [
        ("size gate FAILED: " if verdict.failed else "size gate: ") + verdict.message()
        for verdict in verdicts.values()
        if verdict.failed or verdict.status == "new" or verdict.base_changed
    ]


def _own(record: ImageRecord, verdict: SizeVerdict | None) -> str:
    own = record.sizes.own_bytes if record.sizes is not None else None
    return escape(format_size(own)) if own is not None else "?"


def _change(record: ImageRecord, verdict: SizeVerdict | None) -> str:
    baseline = record.baseline
    if baseline is None:
        return "-"
    change = baseline.change
    if change is None:
        return "new"
    text = "=" if change == 0 else f"{'+' if change > 0 else '-'}{format_size(abs(change))}"
    return f'<span class="over">{text}</span>' if baseline.status == "over" else text


def _facts(record: ImageRecord) -> list[tuple[str, str]]:
    size = record.sizes.size if record.sizes is not None else 0
    facts = [("size", f"{format_size(size)} ({size} bytes)"), ("budget", format_size(record.budget))]
    if record.sizes is not None and record.sizes.own_bytes is not None:
        own, base = record.sizes.own_bytes, record.sizes.base.name
        facts.append(("own bytes", f"{format_size(own)} above the base {base}"))
    facts = [(name, escape(text)) for name, text in facts]
    baseline = record.baseline
    if baseline is not None and baseline.size is not None:
        css = ' class="over"' if baseline.status == "over" else ""
        change = baseline.change or 0
        sign = "+" if change >= 0 else "-"
        facts.append(("vs baseline", f"<span{css}>{sign}{format_size(abs(change))} (own bytes)</span>"))
        if baseline.base_changed:
            facts.append(("base", escape(baseline.base_changed)))
    return facts


SIZE = Check(
    name="size",
    needs=Needs.IMAGE,
    run=run,
    about="the image within `max-size` and `max-wasted`, and within the size baseline's tolerance",
    metadata_keys=("max-size", "max-wasted"),
    summary_columns=(
        Column("size", _size, width=9, numeric=True, at=1),
        Column("vs baseline", lambda record, verdict: verdict.change_text() if verdict else "-", 17, True, at=2),
        Column("lay", _layers, width=3, numeric=True, at=3),
    ),
    summary_lines=_gate_lines,
    overview_columns=(
        Column("size", lambda record, verdict: escape(_size(record, verdict)), numeric=True),
        Column("own bytes", _own, numeric=True),
        Column("change (own)", _change, numeric=True),
        Column("budget", lambda record, verdict: escape(format_size(record.budget)), numeric=True),
    ),
    html_facts=_facts,
)

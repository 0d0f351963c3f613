"""``linkage``: the binary is linked as expected (``expect-linkage``) and, when dynamic, would load in its image."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from pytest_rustimage.checks.base import Check, CheckFailed, Context, Needs, Properties
from pytest_rustimage.inspect.facts import BinaryFacts
from pytest_rustimage.inspect.loader import fixes_for
from pytest_rustimage.inspect.runtimes import RuntimeVerdict
from pytest_rustimage.report.baseline import SizeVerdict
from pytest_rustimage.report.image_record import ImageRecord
from pytest_rustimage.report.parts import Column
from pytest_rustimage.session.image import RustImage
from pytest_rustimage.units import format_size


def run(images: Sequence[RustImage], context: Context, properties: Properties) -> None:
    (image,) = images
    facts = image.binary()
    wanted = image.spec.expect_linkage
    ok = wanted == "any" or (wanted == "static") == facts.is_static
    if not ok:
        detail = (
            f"interpreter {facts.interpreter}, needs {', '.join(facts.needed) or 'nothing'}"
            if not facts.is_static
            else "no interpreter, no shared libraries"
        )
        raise CheckFailed(
            f"{facts.path} in {image.tag} is linked {facts.linkage} ({detail}), "
            f"but {wanted} linkage is expected ({image.spec.strategy} strategy). "
            + ("Use the static strategy, or build with a static target." if wanted == "static" else "")
        )
    if facts.loads is not True:
        raise CheckFailed(load_failure(image, facts))
    loaded = f"; loads: {len(facts.resolved)} libraries found in the image" if facts.resolved else ""
    floor = f"; needs {', '.join(facts.floor)}" if facts.floor else ""
    properties.append(
        ("rust_image_linkage", f"{facts.linkage}, libc {facts.libc}, {format_size(facts.size)}{loaded}{floor}")
    )
    runtimes = image.runtimes()
    properties.append(("rust_image_loads_on", loads_on(runtimes, static=facts.is_static)))
    wanting = [r for r in runtimes if r.loads is not True]
    if image.spec.runtimes_listed and wanting:
        raise CheckFailed(runtime_failure(image, facts, wanting))


def loads_on(runtimes: Sequence[RuntimeVerdict], *, static: bool) -> str:
    """``loads on: bookworm-slim yes, bullseye-slim no (GLIBC_2.34 > 2.31)``."""
    if static:
        return "loads on: any runtime (static)"
    return "loads on: " + (", ".join(r.cell() for r in runtimes) or "no runtime base in the engine to ask")


def runtime_failure(image: RustImage, facts: BinaryFacts, wanting: Sequence[RuntimeVerdict]) -> str:
    """A listed runtime the binary would not load on (or that cannot tell): what it needs, what each has."""
    needs = f"it needs {', '.join(facts.floor)}" if facts.floor else "it needs no versioned symbols"
    lines = [
        f"{facts.path} in {image.tag} ({image.spec.variant}) would not load on "
        f"{', '.join(r.name for r in wanting)}, listed in runtimes; {needs}:"
    ]
    lines += ["- " + runtime.sentence().replace("\n", "\n  ") for runtime in wanting]
    if any(r.loads is False for r in wanting):
        lines.append(
            "what to do: build on the oldest runtime's release (its builder image), use the static strategy, "
            "or drop the runtime from runtimes"
        )
    return "\n".join(lines)


def load_failure(image: RustImage, facts: BinaryFacts) -> str:
    """What a binary that would not load lacks, where the loader looked, and what to do."""
    problems = facts.loading.problems if facts.loading is not None else ()
    packages = image.packages_for([p.library for p in problems if p.kind == "missing"])
    what = f"{facts.path} in {image.tag}"
    undecided = facts.loading is not None and facts.loading.cannot_tell
    head = f"whether {what} loads cannot be told" if undecided else f"{what} would not load"
    lines = [f"{head} ({image.spec.variant}):"]
    lines += [f"  - {problem.text()}" for problem in problems]
    runtime = image.spec.runtime_image if image.spec.traits.generated else ""  # a crate's own Dockerfile names its own
    fixes = fixes_for(problems, packages=packages, runtime=runtime)
    if fixes:
        lines += ["what to do:", *(f"  - {fix}" for fix in fixes)]
    return "\n".join(lines)


# its part of the summary and the HTML report


def _load_line(record: ImageRecord) -> str | None:
    loads = record.binary_facts.loads if record.binary_facts is not None else True
    if loads is True:
        return None
    more = f" (and {len(loads) - 1} more)" if len(loads) > 1 else ""
    first = str(loads[0]).split("; looked in ")[0] if loads else "?"  # where it looked: in the failure
    label = "cannot tell if it loads" if first.startswith("cannot tell") else "would not load"
    return f"{label}: {record.tag} ({record.variant}): {first}{more}"


def _matrix_line(record: ImageRecord) -> str | None:
    binary = record.binary_facts
    if binary is None or binary.runtimes is None:
        return None
    return f"{record.tag} ({record.variant}) " + loads_on(binary.runtimes, static=binary.elf.linkage != "dynamic")


def _load_lines(images: Sequence[ImageRecord], verdicts: Mapping[str, SizeVerdict]) -> list[str]:
    lines = [line for line in map(_load_line, images) if line is not None]
    return lines + [line for line in map(_matrix_line, images) if line is not None]


def _linkage(record: ImageRecord, verdict: SizeVerdict | None) -> str:
    """The binary's linkage, and ``would not load`` when the image lacks what it needs."""
    binary = record.binary_facts
    if binary is None:
        return "-"
    mark = "" if binary.loads is True else ' <span class="over">would not load</span>'
    elsewhere = [r.name for r in binary.runtimes or () if r.loads is not True]  # the matrix's, gated or not
    return escape(binary.elf.linkage) + mark + (f" (not on {escape(', '.join(elsewhere))})" if elsewhere else "")


def _facts(record: ImageRecord) -> list[tuple[str, str]]:
    binary = record.binary_facts
    if binary is None:
        return []
    facts = [
        ("binary", f"{binary.path}: {binary.elf.linkage}, libc {binary.elf.libc}"),
        ("debug info and symbols", format_size(binary.debug_bytes)),
    ]
    if binary.floor:
        facts.append(("needs at least", ", ".join(binary.floor)))
    if binary.runtimes is not None:
        facts.append(("loads on", loads_on(binary.runtimes, static=binary.elf.linkage != "dynamic")[10:]))
    if binary.loads is not True:
        facts.append(("would not load", "; ".join(binary.loads)))
    elif binary.resolved:
        libraries = ", ".join(f"{name} at {path}" for name, path in sorted(binary.resolved.items()))
        facts.append(("loads", libraries))
    return [(name, escape(text)) for name, text in facts]


LINKAGE = Check(
    name="linkage",
    needs=Needs.IMAGE,
    run=run,
    about="the binary is linked as `expect-linkage` says and, when dynamic, would load from the image's own files "
    "and on each runtime base listed in `runtimes`",
    metadata_keys=("expect-linkage", "runtimes"),
    summary_lines=_load_lines,
    overview_columns=(Column("binary linkage", _linkage),),
    html_facts=_facts,
)

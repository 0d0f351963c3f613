"""``sbom``: the dependency list the binary carries is there and true (docs/sbom.md).

``cargo auditable build`` embeds the crates a binary was built from in a ``.dep-v0`` section, which
vulnerability scanners read. The check reads that list from the binary in the image
(:mod:`pytest_rustimage.inspect.audit`, kept with the binary's facts) and compares it with what cargo
says the binary is built from: ``cargo metadata``'s resolved graph for the binary's package and target,
walked as cargo-auditable walks it (:mod:`pytest_rustimage.crate.dep_graph`). It fails naming each crate
missing or extra, with its version. A binary without the list fails: when auditable builds were asked
for (``auditable``) naming what removed it or what the Dockerfile lacks, else (the check was named) saying
how to turn them on. With ``--rust-image-sbom=DIR``
it writes the image's CycloneDX document there (:mod:`pytest_rustimage.report.cyclonedx`).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any

from pytest_rustimage.checks.base import Check, CheckFailed, Context, Needs, Properties
from pytest_rustimage.crate.dep_graph import ExpectedGraph, SbomDiff, cargo_metadata, compare, expected_packages
from pytest_rustimage.errors import RustImageError
from pytest_rustimage.inspect.audit import AuditData
from pytest_rustimage.inspect.facts import BinaryFacts
from pytest_rustimage.names import tag_part
from pytest_rustimage.report.cyclonedx import sbom_document, write_sbom
from pytest_rustimage.report.image_record import ImageRecord
from pytest_rustimage.session.image import RustImage

HOW_TO = (
    "build with cargo auditable to check it: --rust-image-auditable, or `auditable = true` in "
    "[package.metadata.rust-image] (generated strategies); in your own Dockerfile, `cargo install "
    "cargo-auditable --locked` and `cargo auditable build` in place of `cargo build`"
)


def run(images: Sequence[RustImage], context: Context, properties: Properties) -> None:
    (image,) = images
    facts = image.binary()
    where = f"{image.binary_path} in {image.tag}"
    if facts.elf.audit_error is not None:
        raise CheckFailed(f"{where}: its dependency list (.dep-v0) cannot be read: {facts.elf.audit_error}")
    audit = facts.elf.audit
    if audit is None:
        if image.spec.auditable:
            raise CheckFailed(_absent(image))
        # asked for by name, and nothing to compare: "cannot tell", a failure that says how, never a skip
        raise CheckFailed(f"{where} carries no dependency list (.dep-v0), so its crates cannot be checked; {HOW_TO}")
    diff = compare(audit, _expected(image, facts))
    if not diff.ok:
        raise CheckFailed(_failure(where, diff))
    if context.sbom_dir is not None:
        path = write(context.sbom_dir, image, facts, audit)
        properties.append(("rust_image_sbom_file", str(path)))
    runtime = sum(1 for p in audit.crates() if p.kind == "runtime")
    said = (
        f"{diff.matched} crates listed, as cargo's graph has them ({runtime} runtime, {diff.matched - runtime} build)"
    )
    properties.append(("rust_image_sbom", said))


def _absent(image: RustImage) -> str:
    where = f"{image.binary_path} in {image.tag}"
    if image.spec.traits.generated:
        return (
            f"{where} carries no dependency list (.dep-v0), though it was built with `cargo auditable build` "
            "(auditable = true): something removed the section after the build (`objcopy`, `sstrip`)"
        )
    return (
        f"{where} carries no dependency list (.dep-v0), and auditable builds were asked for (auditable = true): "
        f"the crate's own Dockerfile ({image.spec.dockerfile}) must build it with `cargo auditable build` "
        "(after `cargo install cargo-auditable --locked`)"
    )


def _failure(where: str, diff: SbomDiff) -> str:
    lines = [f"{where}: its dependency list (.dep-v0) is not what cargo's graph says it was built from"]
    if not diff.root_matches:
        listed = " ".join(diff.listed_root) if diff.listed_root else "none"
        lines.append(f"  root package: listed {listed}, expected {' '.join(diff.expected_root)}")
    if diff.missing:
        lines.append("  missing from the list: " + ", ".join(f"{n} {v}" for n, v in diff.missing))
    if diff.unexpected:
        lines.append("  listed but not in cargo's graph: " + ", ".join(f"{n} {v}" for n, v in diff.unexpected))
    for wrong in diff.kind_mismatches:
        lines.append(f"  {wrong.name} {wrong.version}: listed as {wrong.listed}, cargo's graph has {wrong.expected}")
    lines.append(
        f"  ({diff.matched} crates agree; the graph is `cargo metadata` for the binary's package and target, "
        "default features: a build with other features or another lockfile lists other crates)"
    )
    return "\n".join(lines)


def target_of(facts: BinaryFacts) -> str:
    """The Rust target the binary was built for, as ``--filter-platform`` takes it (Linux: gnu or musl)."""
    env = "musl" if facts.elf.libc == "musl" else "gnu"
    return f"{facts.elf.machine}-unknown-linux-{env}"


def _expected(image: RustImage, facts: BinaryFacts) -> ExpectedGraph:
    spec = image.spec
    package = next((p for p in spec.crate.packages if p.name == spec.binary.package), None)
    folder = package.manifest_path.parent if package is not None else spec.crate.root
    try:
        metadata = _metadata(str(folder), target_of(facts))
        return expected_packages(metadata, spec.binary.package)
    except RustImageError as exc:
        raise CheckFailed(
            f"what {spec.binary.package} is built from cannot be told, so its list cannot be checked: {exc}"
        ) from exc


@functools.cache
def _metadata(folder: str, target: str) -> dict[str, Any]:
    """``cargo metadata`` of the package's folder for ``target``, once per session (offline first)."""
    return cargo_metadata(Path(folder), target=target, online=True)


def write(folder: Path, image: RustImage, facts: BinaryFacts, audit: AuditData) -> Path:
    """The image's CycloneDX document in ``folder``: ``CRATE-VARIANT.cdx.json``."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{tag_part(image.spec.crate.name)}-{image.spec.variant}.cdx.json"
        write_sbom(path, sbom_document(image_tag=image.tag, image_id=image.id, binary=facts, audit=audit))
    except OSError as exc:
        raise CheckFailed(f"--rust-image-sbom: cannot write the CycloneDX document in {folder}: {exc}") from exc
    return path


# its part of the summary and the HTML report


def _crates(record: ImageRecord) -> list[tuple[str, str]]:
    facts = record.binary_facts
    if facts is None or facts.elf.audit is None:
        return []
    crates = facts.elf.audit.crates()
    listed = ", ".join(f"{p.name} {p.version}" + (" (build)" if p.kind == "build" else "") for p in crates)
    return [("crates (.dep-v0)", escape(f"{len(crates)}: {listed}"))]


SBOM = Check(
    name="sbom",
    needs=Needs.IMAGE,
    run=run,
    about="the dependency list `cargo auditable` embeds in the binary is there and matches cargo's graph; "
    "opt-in: on with `auditable`, or named ([sbom](sbom.md))",
    default=False,
    wanted_by=lambda spec: spec.auditable,
    html_facts=_crates,
)

"""Parity: are two builds of the same crate (say, by Docker and by Podman) the same image?

Compared: the binary's sha256 (Rust builds of the same inputs are
byte-identical, so a difference means different inputs, and the report says
which ones differ; given the two binaries' comparison, :func:`binary_diff_note`
tells an irreproducible build, which differs whatever the engine, from a real
input difference), the run result (exit code and stdout), the runtime config
(entrypoint, cmd, user, env, workdir, exposed ports), the layer count, and the
size under the one definition (:mod:`pytest_rustimage.inspect.archive`) within a
relative tolerance. Labels are not compared: engines add their own
(``io.buildah.version``) and the plugin's carry the session.

:func:`observe` gathers what one image shows; :func:`compare` is pure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pytest_rustimage.errors import RustImageError
from pytest_rustimage.inspect import repro
from pytest_rustimage.units import format_size

if TYPE_CHECKING:
    from pytest_rustimage.session.image import RustImage

DEFAULT_TOLERANCE = 0.01


class ParityFailed(RustImageError):
    """Two images that should be equivalent are not."""


@dataclass(frozen=True)
class Observation:
    """What one image shows, as parity compares it."""

    name: str  # e.g. "docker"
    tag: str
    builder_id: str
    build_args: Mapping[str, str]
    binary_sha256: str
    binary_size: int
    build_id: str | None
    exit_code: int
    stdout: str
    entrypoint: tuple[str, ...]
    cmd: tuple[str, ...]
    user: str
    env: Mapping[str, str]
    workdir: str
    exposed_ports: tuple[str, ...]
    layer_count: int
    size: int


@dataclass(frozen=True)
class Row:
    """One compared fact: both sides' values, whether they are the same, and a note on why not."""

    what: str
    left: str
    right: str
    same: bool
    note: str = ""


@dataclass(frozen=True)
class ParityReport:
    """Two images compared fact by fact (:meth:`table`); :meth:`assert_equivalent` fails on differences."""

    left: Observation
    right: Observation
    rows: tuple[Row, ...]
    tolerance: float

    @property
    def differences(self) -> tuple[Row, ...]:
        """The compared facts that differ."""
        return tuple(row for row in self.rows if not row.same)

    @property
    def equivalent(self) -> bool:
        """Whether every compared fact is the same (sizes within the tolerance)."""
        return not self.differences

    def table(self, width: int = 36) -> str:
        """A side-by-side table of every compared fact, differences marked."""

        def cut(text: str) -> str:
            return text if len(text) <= width else text[: width - 1] + "…"

        head = f"  {'':<2}{'what':<14} {cut(self.left.name):<{width}} {cut(self.right.name):<{width}}"
        lines = [head]
        for row in self.rows:
            mark = "  " if row.same else "≠ "
            lines.append(f"  {mark}{row.what:<14} {cut(row.left):<{width}} {cut(row.right):<{width}}")
        notes = [f"  {row.what}: {row.note}" for row in self.rows if row.note and not row.same]
        return "\n".join(lines + (["", *notes] if notes else []))

    def assert_equivalent(self) -> None:
        """Raise :class:`ParityFailed` naming the differing facts, with the side-by-side table."""
        if not self.equivalent:
            names = ", ".join(row.what for row in self.differences)
            raise ParityFailed(
                f"{self.left.tag} ({self.left.name}) and {self.right.tag} ({self.right.name}) differ in: {names}\n"
                + self.table()
            )


# Causes that make one engine's two builds differ as well: not a difference between the engines.
IRREPRODUCIBLE = frozenset({"timestamp", "build path", "build id"})


def binary_diff_note(diff: repro.BinaryDiff, labels: tuple[str, str] = ("a", "b"), inputs: Sequence[str] = ()) -> str:
    """What differs between two builds' binaries, and whether it looks like an irreproducible build
    (the build time or folder embedded, a random build id: it would differ on one engine too) or a
    real input difference (compilers, embedded text, code), each with its evidence and fix; ``labels``
    name the two sides (the engines), ``inputs`` are input differences known apart (builder images)."""
    if diff.identical:
        return ""
    found = repro.causes(diff)
    flaky = [c for c in found if c.kind in IRREPRODUCIBLE]
    real = [c for c in found if c.kind not in IRREPRODUCIBLE and not (flaky and c.kind == "layout")]
    sections = ", ".join(
        [*(s.describe() for s in diff.changed_sections[:4]), *(["the build id"] if diff.build_ids else [])]
    )
    count = "1 byte differs" if diff.differing_bytes == 1 else f"{diff.differing_bytes} bytes differ"
    parts = [count + (f" ({sections})" if sections else "")]
    if flaky:
        parts.append(
            "the build is not reproducible, whatever the engine: "
            + "; ".join(f"{c.evidence} (fix: {c.fix})" for c in flaky)
        )
    if real or inputs:
        parts.append("an input differs: " + "; ".join([*inputs, *(f"{c.evidence} (fix: {c.fix})" for c in real)]))
    elif flaky:
        parts.append("nothing else points at a difference between the engines")
    return repro.name_sides("; ".join(parts), labels)


def _binary_note(left: Observation, right: Observation, diff: repro.BinaryDiff | None = None) -> str:
    causes = []
    if left.builder_id != right.builder_id:
        causes.append(f"builder images differ ({left.builder_id[:19]} vs {right.builder_id[:19]})")
    if dict(left.build_args) != dict(right.build_args):
        keys = sorted(
            k for k in set(left.build_args) | set(right.build_args) if left.build_args.get(k) != right.build_args.get(k)
        )
        causes.append(f"build args differ ({', '.join(keys)})")
    if diff is not None and not diff.identical:
        return binary_diff_note(diff, (left.name, right.name), causes)
    if left.build_id != right.build_id:
        causes.append(f"ELF build ids differ ({left.build_id} vs {right.build_id}): the compiler saw different input")
    if left.binary_size != right.binary_size:
        causes.append(f"sizes differ ({left.binary_size} vs {right.binary_size} bytes)")
    reason = "; ".join(causes) or "same builder and build args: look for a build script reading the environment"
    return "same-input Rust builds are byte-identical, so an input differs: " + reason


def compare(
    left: Observation,
    right: Observation,
    tolerance: float = DEFAULT_TOLERANCE,
    binary_diff: repro.BinaryDiff | None = None,
) -> ParityReport:
    """Compare two observations; sizes may differ by ``tolerance`` (relative) and still count as the same.
    ``binary_diff``: the two binaries compared (:func:`~pytest_rustimage.inspect.repro.compare_binaries`,
    left first), which then tells what differs and why (:func:`binary_diff_note`)."""

    def row(what: str, a: object, b: object, note: str = "") -> Row:
        return Row(what, str(a), str(b), a == b, note)

    def env(values: Mapping[str, str]) -> str:
        return " ".join(f"{k}={v}" for k, v in sorted(values.items()))

    limit = tolerance * max(left.size, right.size)
    size_same = abs(left.size - right.size) <= limit
    rows = (
        row(
            "binary sha256",
            left.binary_sha256[:16],
            right.binary_sha256[:16],
            "" if left.binary_sha256 == right.binary_sha256 else _binary_note(left, right, binary_diff),
        ),
        row("exit code", left.exit_code, right.exit_code),
        row("stdout", left.stdout.strip(), right.stdout.strip()),
        row("entrypoint", " ".join(left.entrypoint), " ".join(right.entrypoint)),
        row("cmd", " ".join(left.cmd), " ".join(right.cmd)),
        row("user", left.user, right.user),
        row("env", env(left.env), env(right.env)),
        row("workdir", left.workdir, right.workdir),
        row("exposed ports", " ".join(left.exposed_ports), " ".join(right.exposed_ports)),
        row("layers", left.layer_count, right.layer_count),
        Row(
            "size",
            f"{left.size} B ({format_size(left.size)})",
            f"{right.size} B ({format_size(right.size)})",
            size_same,
            f"differ by {abs(left.size - right.size)} bytes, more than {tolerance:.2%} ({int(limit)} bytes)",
        ),
    )
    return ParityReport(left=left, right=right, rows=rows, tolerance=tolerance)


def observe(image: RustImage) -> Observation:
    """What ``image`` shows: runs its binary with the crate's configured arguments, reads binary and config."""
    spec = image.spec
    result = image.run(*spec.args)
    binary = image.binary()
    info = image.info
    return Observation(
        name=image.engine.name,
        tag=image.tag,
        builder_id=image.engine.image_id(spec.builder_image) or spec.builder_image,
        build_args=dict(spec.build_args),
        binary_sha256=binary.sha256,
        binary_size=binary.size,
        build_id=binary.elf.build_id,
        exit_code=result.exit_code,
        stdout=result.stdout,
        entrypoint=info.config.entrypoint,
        cmd=info.config.cmd,
        user=info.config.user,
        env=dict(info.config.env),
        workdir=info.config.workdir,
        exposed_ports=info.config.exposed_ports,
        layer_count=info.layer_count,
        size=info.size,
    )

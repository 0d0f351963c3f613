"""The cache check over an edit matrix: one row per edit kind, each judged from its rebuild's report.

A :class:`MatrixRow` holds a kind's :class:`~pytest_rustimage.cachecheck.verdict.CacheReport` (or why
the kind does not apply to the crate) and what must hold for that kind (:func:`judge`):

- ``source``, ``version``: no third-party crate compiled again;
- ``library``: no third-party crate, and no own crate other than the library and the members that
  depend on it;
- ``non-rust``: no third-party crate; the steps that ran again and the own crates they compiled are
  reported, and gated only where the Dockerfile copies nothing but manifests and ``src/``
  (``dummy-main``: the probe then allows no own crate). A build stage that copies the whole crate runs
  cargo again on a README edit, and cargo compiles the own crates of that stage afresh (docs/cache.md);
- ``member``: reported, never gated (a new member changes cargo-chef's recipe, so the dependency
  layer is built again: how much, and why, is what the row shows).

A report that cannot tell (cargo's output hidden) fails a gated kind; a rebuild that compiled nothing
after a ``source``, ``library`` or ``version`` edit proves nothing (the row says so, as today's skip),
and so does any kind's when the first build compiled no Rust either (the Dockerfile copies a binary in).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pytest_rustimage.cachecheck.cargo_steps import cargo_runs
from pytest_rustimage.cachecheck.edits import KindEdit
from pytest_rustimage.cachecheck.verdict import CacheReport

NEEDS_COMPILING = frozenset({"source", "library", "version"})  # nothing compiled after these proves nothing


@dataclass(frozen=True)
class MatrixRow:
    """One edit kind's result: its report (None when the kind does not apply) and its judgement."""

    kind: str
    gated: bool
    report: CacheReport | None
    reason: str = ""  # why the kind does not apply, or why its rebuild proves nothing
    problems: tuple[str, ...] = ()  # what failed to hold (a gated row with problems fails)

    @property
    def applicable(self) -> bool:
        return self.report is not None

    @property
    def proves(self) -> bool:
        """Measured, and its rebuild shows something to judge."""
        return self.report is not None and not self.reason

    @property
    def ok(self) -> bool:
        return not (self.gated and self.problems)

    @property
    def rerun_steps(self) -> tuple[str, ...]:
        """``[stage] instruction`` of each ``RUN`` step that ran again after the edit."""
        if self.report is None:
            return ()
        return tuple(
            f"[{s.stage}] {s.instruction[:100]}"
            for s in self.report.steps
            if not s.cached and s.instruction.upper().startswith("RUN ")
        )

    def line(self) -> str:
        """One line for people: the kind and what its rebuild showed (or why it does not apply)."""
        if self.report is None:
            return f"{self.kind}: {self.reason}"
        said = "FAILED" if not self.ok else "ok" if self.gated else "reported"
        head = f"{self.kind} ({said}): {self.report.summary()}"
        if self.reason:
            head += f" (nothing to prove: {self.reason})"
        return head + "".join(f"; {p}" for p in self.problems)


def compiles_rust(report: CacheReport) -> bool:
    """Whether the Dockerfile compiles Rust at all: a build showed it, or a ``RUN`` step of the rebuild runs
    a compiling cargo command (from cache or not: a baseline that came from cache shows nothing)."""
    runs = (s.instruction for s in report.steps if s.instruction.upper().startswith("RUN "))
    return report.baseline_compiled_rust or bool(report.compiled) or any(cargo_runs(run) for run in runs)


def judge(made: KindEdit, report: CacheReport | None) -> MatrixRow:
    """What holds of ``made``'s rebuild (``report``; None when the kind does not apply)."""
    if report is None or made.edit is None:
        return MatrixRow(made.kind, made.gated, None, f"not applicable: {made.reason}")
    problems: list[str] = []
    if report.inconclusive:
        steps = "; ".join(f"[{h.stage}] {h.instruction[:100]}" for h in report.undecided)
        problems.append(f"cannot tell: cargo's output is hidden in {steps}")
    elif report.third_party_recompiled:
        problems.append(
            f"{len(report.third_party_recompiled)} third-party crate(s) compiled again "
            f"(the dependency layer was {'kept' if report.deps_reused else 'rebuilt'})"
        )
    if made.allowed_own is not None:
        others = [c for c in report.own_recompiled if c.split(" v")[0] not in made.allowed_own]
        why = (
            f"neither {made.library} nor a member that depends on it"
            if made.library
            else "the Dockerfile copies only manifests and src/, so the edit should reach no step"
        )
        if others:
            problems.append(f"own crate(s) {', '.join(others)} compiled again: {why}")
    reason = ""
    # a build that never compiles Rust (a binary copied in) proves nothing after any edit
    if report.skip_reason is not None and (made.kind in NEEDS_COMPILING or not compiles_rust(report)):
        reason = report.skip_reason
    return MatrixRow(made.kind, made.gated, report, reason, tuple(problems))


@dataclass(frozen=True)
class CacheMatrix:
    """Every configured edit kind's row, in the order they were asked for."""

    rows: tuple[MatrixRow, ...]

    def row(self, kind: str) -> MatrixRow | None:
        return next((r for r in self.rows if r.kind == kind), None)

    @property
    def failed(self) -> tuple[MatrixRow, ...]:
        return tuple(r for r in self.rows if not r.ok)

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def skip_reason(self) -> str | None:
        """Why the check has nothing to prove: no row proves anything and none failed."""
        if self.failed or any(r.proves for r in self.rows):
            return None
        return "; ".join(f"{r.kind}: {r.reason}" for r in self.rows)

    @property
    def main(self) -> CacheReport | None:
        """The report the one-line column shows: ``source``'s, else the first kind measured."""
        source = self.row("source")
        if source is not None and source.report is not None:
            return source.report
        return next((r.report for r in self.rows if r.report is not None), None)


def matrix(rows: Sequence[MatrixRow]) -> CacheMatrix:
    return CacheMatrix(tuple(rows))

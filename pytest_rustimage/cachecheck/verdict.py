"""The layer-cache probe's verdict as a value: what the probe saw, and whether the dependency layer held.

A :class:`CacheReport` holds the edit, both builds (the baseline and the rebuild after the edit), the
steps that compiled the third-party crates in the baseline (:class:`DepsStep`), every step of the
rebuild (:class:`StepOutcome`) and the steps that hid cargo's output (:class:`HiddenStep`). Its
verdict, :attr:`CacheReport.ok`: no step of the rebuild compiled a third-party crate (a crate that is
not a package of the workspace and that cargo names without a local path), and no step that ran cargo
after the edit hid cargo's output unless the Dockerfile answers for it; a report that cannot tell is
*inconclusive* (:attr:`CacheReport.inconclusive`), which fails the check: silence is never a pass.
:func:`to_data` and :func:`from_data` keep a report between runs. The reports are made by
:func:`pytest_rustimage.cachecheck.assess.assess`, from the builds' logs alone.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pytest_rustimage.cachecheck.buildlog import Compiled


@dataclass(frozen=True)
class StepOutcome:
    """One step of the rebuild: its stage, its instruction, whether it came from cache, what it compiled."""

    stage: str
    instruction: str
    cached: bool
    compiled: tuple[Compiled, ...] = ()


@dataclass(frozen=True)
class DepsStep:
    """A step that compiled third-party crates in the baseline build, and what it did after the edit."""

    stage: str
    instruction: str
    crates: int | None  # third-party crates it compiled in the baseline (None: the baseline's log was not read)
    cached_after: bool | None  # from cache in the rebuild (None: the rebuild did not show the step)


@dataclass(frozen=True)
class HiddenStep:
    """A ``RUN`` step that ran cargo with its output out of the log's sight."""

    build: str  # "first" (the baseline build) or "after" (the rebuild after the edit)
    stage: str
    instruction: str
    reasons: tuple[str, ...]  # how the output was hidden
    settled: str = ""  # why the Dockerfile answers for the step all the same ("": nothing does)


SHOW_OUTPUT = (
    "to let the check see what cargo compiled: drop -q/--quiet, CARGO_TERM_QUIET and --config term.quiet; "
    "leave cargo's stderr in the build log (no `> file 2>&1`, `&> /dev/null`, `2>/dev/null` or `2>&1 | filter`: "
    "cargo writes its Compiling and Finished lines there); with JSON output use "
    "--message-format=json-render-diagnostics, or keep stderr in the log"
)


@dataclass(frozen=True)
class CacheReport:
    """What a cache probe saw: the edit, both builds, the dependency steps, what cargo compiled after the edit.

    :attr:`ok` is the verdict; :meth:`summary` one line, :meth:`describe` the whole story of a failure.
    """

    edit: str
    strategy: str
    engine: str
    baseline: str  # where the baseline build came from, for people
    baseline_seconds: float | None  # its duration, when it was timed
    rebuild_seconds: float
    deps_steps: tuple[DepsStep, ...]
    compiled: tuple[Compiled, ...]  # every crate the rebuild compiled, in every step
    own_crates: frozenset[str]
    steps: tuple[StepOutcome, ...]  # the rebuild's steps
    hints: tuple[str, ...] = ()  # why steps compiled third-party crates again (cachecheck/why.py)
    baseline_compiled_rust: bool = False
    measured_at: float = 0.0  # seconds since the epoch
    hidden: tuple[HiddenStep, ...] = ()  # steps of either build that ran cargo and hid its output
    stored: bool = field(default=False, compare=False)  # reported from an earlier run's probe

    def _own(self, crate: Compiled) -> bool:
        # cargo names the source folder of local (path) crates only: the workspace's own
        return crate.name in self.own_crates or (crate.path or "").startswith("/")

    @property
    def third_party_recompiled(self) -> tuple[str, ...]:
        """``NAME vVERSION`` of each crate from outside the workspace that the rebuild compiled."""
        return tuple(f"{c.name} v{c.version}" for c in self.compiled if not self._own(c))

    @property
    def own_recompiled(self) -> tuple[str, ...]:
        """``NAME vVERSION`` of each of the workspace's own crates that the rebuild compiled."""
        return tuple(f"{c.name} v{c.version}" for c in self.compiled if self._own(c))

    @property
    def undecided(self) -> tuple[HiddenStep, ...]:
        """The rebuild's steps that hid cargo's output and that nothing else answers for."""
        return tuple(h for h in self.hidden if h.build == "after" and not h.settled)

    @property
    def inconclusive(self) -> bool:
        """The logs cannot tell: no third-party crate shows, but a step after the edit hid cargo's output."""
        return not self.third_party_recompiled and bool(self.undecided)

    @property
    def deps_reused(self) -> bool:
        """No dependency step ran again and no third-party crate was compiled after the edit (False
        when that cannot be told)."""
        return (
            not self.third_party_recompiled
            and not self.undecided
            and all(step.cached_after is not False for step in self.deps_steps)
        )

    @property
    def ok(self) -> bool:
        """The verdict: no step of the rebuild compiled a third-party crate, and the logs show it."""
        return not self.third_party_recompiled and not self.undecided

    @property
    def skip_reason(self) -> str | None:
        """Why there is nothing to prove: nothing was compiled after the edit."""
        if self.compiled or any(h.build == "after" for h in self.hidden):
            return None
        if self.baseline_compiled_rust:
            return (
                "nothing was compiled after the edit: it reached no step that compiles Rust (is the edited "
                "file left out by .dockerignore, or never copied into the build?)"
            )
        return (
            "no step of the build compiled Rust, neither in the first build nor after the edit "
            "(the Dockerfile copies a binary in, or the edited file does not reach the build)"
        )

    def summary(self) -> str:
        """One line: the edit, the dependency layer, what was recompiled, both builds' times."""
        if self.inconclusive:
            deps = f"not known (cargo's output hidden in {len(self.undecided)} step(s) of the rebuild)"
            shown = " that the log shows"
        else:
            deps = "reused" if self.deps_reused else "rebuilt"
            shown = " that the log shows" if any(h.build == "after" for h in self.hidden) else ""
        first = f"{self.baseline_seconds:.1f}s" if self.baseline_seconds is not None else "not timed"
        return (
            f"{self.edit}: dependency layer {deps}; recompiled {len(self.third_party_recompiled)} third-party and "
            f"{len(self.own_recompiled)} own crate(s){shown}; first build {first}, rebuild {self.rebuild_seconds:.1f}s"
        )

    def describe(self) -> str:
        """Everything a person needs to read a failure."""
        lines = [self.summary(), f"- the first build: {self.baseline}"]
        if self.third_party_recompiled:
            shown = ", ".join(self.third_party_recompiled[:20])
            more = len(self.third_party_recompiled) - 20
            lines.append(f"- third-party crates compiled again: {shown}" + (f" and {more} more" if more > 0 else ""))
            for step in self.steps:
                third = [c for c in step.compiled if not self._own(c)]
                if third:
                    lines.append(f"  by [{step.stage}] {step.instruction[:140]}")
        for deps in self.deps_steps:
            crates = f" ({deps.crates} third-party crate(s))" if deps.crates else ""
            after = {True: "came from cache after the edit", False: "ran again after the edit", None: "not shown"}
            lines.append(
                f"- dependency step{crates}: [{deps.stage}] {deps.instruction[:140]}: {after[deps.cached_after]}"
            )
        first_hidden = [h for h in self.hidden if h.build == "first"]
        if not self.deps_steps and self.third_party_recompiled and not first_hidden:
            lines.append(
                "- the first build's log shows no step compiling third-party crates (a step from cache prints "
                "nothing; --rust-image-cold-probe makes the first build cold)"
            )
        for hidden in first_hidden:
            lines.append(
                f"- the first build hid cargo's output in [{hidden.stage}] {hidden.instruction[:140]} "
                f"({'; '.join(hidden.reasons)}): what it compiled is not known, so the dependency steps named "
                "here are only those whose output the first build showed"
            )
        for hidden in self.hidden:
            if hidden.build != "after":
                continue
            how = "; ".join(hidden.reasons)
            if hidden.settled:
                lines.append(
                    f"- cargo's output is hidden in [{hidden.stage}] {hidden.instruction[:140]} ({how}); "
                    f"judged all the same: {hidden.settled}"
                )
            else:
                lines.append(
                    f"- cargo's output is hidden in [{hidden.stage}] {hidden.instruction[:140]} ({how}): the log "
                    "cannot show whether it compiled third-party crates again, so the verdict is inconclusive"
                )
        if self.undecided or first_hidden:
            lines.append(f"- {SHOW_OUTPUT}")
        lines += [f"- {hint}" for hint in self.hints]
        lines.append("- steps after the edit:")
        for step in self.steps:
            lines.append(f"    {'CACHED' if step.cached else 'ran   '} [{step.stage}] {step.instruction[:100]}")
        return "\n".join(lines)


def to_data(report: CacheReport) -> dict[str, Any]:
    """The report as JSON-able data (kept between runs by the probe)."""
    data = dataclasses.asdict(report)
    data["own_crates"] = sorted(report.own_crates)
    data.pop("stored")
    return data


def from_data(data: Mapping[str, Any]) -> CacheReport:
    """A report from :func:`to_data`'s output; ``ValueError`` when it is not one."""
    try:
        return CacheReport(
            **{
                **data,
                "deps_steps": tuple(DepsStep(**step) for step in data["deps_steps"]),
                "compiled": tuple(Compiled(**crate) for crate in data["compiled"]),
                "own_crates": frozenset(data["own_crates"]),
                "steps": tuple(
                    StepOutcome(**{**step, "compiled": tuple(Compiled(**c) for c in step["compiled"])})
                    for step in data["steps"]
                ),
                "hints": tuple(data["hints"]),
                "hidden": tuple(HiddenStep(**{**h, "reasons": tuple(h["reasons"])}) for h in data["hidden"]),
                "stored": True,
            }
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"not a stored cache report: {exc}") from exc

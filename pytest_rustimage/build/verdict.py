"""The layer-cache probe's verdict: after a source-only edit, did any step compile a third-party crate?

The probe (:class:`pytest_rustimage.build.probe.CacheProbe`) has two builds to show: the baseline
(the session's own build of the image, or a build of the unchanged copy) and the rebuild of an
edited copy. This module judges them from their logs alone, for any Dockerfile: each builder's words
for "from cache" and cargo's ``Compiling`` lines in every ``RUN`` step, of every stage.

The verdict, :attr:`CacheReport.ok`: no step of the rebuild compiled a third-party crate (a crate
that is not a package of the workspace and that cargo names without a local path). The report also
names the steps that compiled the third-party crates in the baseline (the dependency steps) and
whether each came from cache after the edit, and, when one ran again, why it likely did, read from
the Dockerfile (:mod:`pytest_rustimage.build.instructions`): a dependency step after ``COPY . .``
runs again on every source edit. A build in which no step compiles Rust has nothing to prove.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_rustimage.build import instructions
from pytest_rustimage.build.buildlog import Compiled, Step, compiled_crates, marked, parse_steps
from pytest_rustimage.errors import ConfigError

Edit = Callable[[Path], object] | tuple[str, str]


def apply_edit(root: Path, edit: Edit) -> str:
    """Apply ``edit`` to the crate copy at ``root``; returns a description of it.

    ``edit`` is a callable that receives the copy's root folder, or a (relative path, new text) pair.
    """
    if callable(edit):
        edit(root)
        return getattr(edit, "__name__", "custom edit")
    if isinstance(edit, tuple) and len(edit) == 2 and all(isinstance(part, str) for part in edit):
        relative, text = edit
        target = (root / relative).resolve()
        if not target.is_relative_to(root.resolve()):
            raise ConfigError(f"edit {relative!r} points outside the crate")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        return f"rewrote {relative}"
    raise ConfigError(f"an edit is a callable or a (path, new text) pair, not {edit!r}")


def comment_edit(relative: str, stamp: str) -> Edit:
    """The default edit: a comment line appended to the checked binary's main source file."""

    def append_comment(root: Path) -> None:
        path = root / relative
        path.write_text(path.read_text() + f"\n// pytest-rustimage cache probe {stamp}\n")

    append_comment.__name__ = f"appended a comment to {relative}"
    return append_comment


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
    hints: tuple[str, ...] = ()  # why a dependency step likely ran again
    baseline_compiled_rust: bool = False
    measured_at: float = 0.0  # seconds since the epoch
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
    def deps_reused(self) -> bool:
        """No dependency step ran again and no third-party crate was compiled after the edit."""
        return not self.third_party_recompiled and all(step.cached_after is not False for step in self.deps_steps)

    @property
    def ok(self) -> bool:
        """The verdict: no step of the rebuild compiled a third-party crate."""
        return not self.third_party_recompiled

    @property
    def skip_reason(self) -> str | None:
        """Why there is nothing to prove: nothing was compiled after the edit."""
        if self.compiled:
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
        deps = "reused" if self.deps_reused else "rebuilt"
        first = f"{self.baseline_seconds:.1f}s" if self.baseline_seconds is not None else "not timed"
        return (
            f"{self.edit}: dependency layer {deps}; recompiled {len(self.third_party_recompiled)} third-party and "
            f"{len(self.own_recompiled)} own crate(s); first build {first}, rebuild {self.rebuild_seconds:.1f}s"
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
        if not self.deps_steps and self.third_party_recompiled:
            lines.append(
                "- the first build's log shows no step compiling third-party crates (a step from cache prints "
                "nothing; --rust-image-cold-probe makes the first build cold)"
            )
        lines += [f"- {hint}" for hint in self.hints]
        lines.append("- steps after the edit:")
        for step in self.steps:
            lines.append(f"    {'CACHED' if step.cached else 'ran   '} [{step.stage}] {step.instruction[:100]}")
        return "\n".join(lines)


def _third_party(crates: Iterable[Compiled], own: frozenset[str]) -> list[Compiled]:
    return [c for c in crates if c.name not in own and not (c.path or "").startswith("/")]


def _runs(steps: Iterable[Step]) -> list[Step]:
    return [step for step in steps if step.instruction.upper().startswith("RUN ")]


def assess(
    *,
    edit: str,
    strategy: str,
    engine: str,
    baseline_log: str,
    baseline: str,
    baseline_seconds: float | None,
    rebuild_log: str,
    rebuild_seconds: float,
    own_crates: Iterable[str],
    dockerfile: str = "",
    edited: str | None = None,
    measured_at: float = 0.0,
) -> CacheReport:
    """Judge the rebuild after ``edit`` against the baseline build.

    ``dockerfile`` (its text) and ``edited`` (the edited file's path in the build context) let the
    report say why a dependency step ran again.
    """
    own = frozenset(own_crates)
    first, after = parse_steps(baseline_log), parse_steps(rebuild_log)
    key = instructions.normalise
    rebuilt = {(s.stage, key(s.instruction)): s for s in after}
    deps: list[DepsStep] = []
    for step in _runs(first):
        crates = _third_party(compiled_crates(step.output), own)
        if crates:
            again = rebuilt.get((step.stage, key(step.instruction)))
            deps.append(DepsStep(step.stage, step.instruction, len(crates), None if again is None else again.cached))
    marked_deps = marked(after, "deps")
    if not deps and marked_deps is not None:  # the baseline showed nothing (it came from cache): the marker says
        deps.append(DepsStep(marked_deps.stage, marked_deps.instruction, None, marked_deps.cached))
    outcomes = tuple(
        StepOutcome(s.stage, s.instruction, s.cached, tuple(compiled_crates(s.output)) if not s.cached else ())
        for s in after
        if not s.instruction.upper().startswith("FROM ")
    )
    compiled = tuple(c for o in outcomes for c in o.compiled)
    return CacheReport(
        edit=edit,
        strategy=strategy,
        engine=engine,
        baseline=baseline,
        baseline_seconds=baseline_seconds,
        rebuild_seconds=rebuild_seconds,
        deps_steps=tuple(deps),
        compiled=compiled,
        own_crates=own,
        steps=outcomes,
        hints=tuple(_hints(outcomes, deps, own, dockerfile, edited)),
        baseline_compiled_rust=any(compiled_crates(s.output) for s in _runs(first)),
        measured_at=measured_at,
    )


def _hints(
    steps: tuple[StepOutcome, ...], deps: list[DepsStep], own: frozenset[str], dockerfile: str, edited: str | None
) -> list[str]:
    """Why the steps that compiled third-party crates after the edit likely ran again."""
    stages = instructions.parse(dockerfile) if dockerfile else []
    hints: list[str] = []
    for step in steps:
        if not _third_party(step.compiled, own):
            continue
        copy = instructions.invalidating_copy(stages, step.instruction, edited)
        if copy is not None:
            hints.append(
                f"the step that compiles the dependencies comes after `{copy.text}` in stage {copy.stage}: "
                "every source edit invalidates it; copy only the manifests (Cargo.toml, Cargo.lock) or "
                "cargo-chef's recipe.json before building the dependencies, and the sources after"
            )
        elif any(d.cached_after for d in deps):
            hints.append(
                "the dependency layer came from cache, yet cargo rebuilt them: something differs between the "
                "dependency step and the build step (RUSTFLAGS, features, profile, target or toolchain)"
            )
        else:
            hints.append(
                f"[{step.stage}] {step.instruction[:100]} ran again: an input before it changed "
                "(a file it copies, a build arg or a base image)"
            )
    return list(dict.fromkeys(hints))


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
                "stored": True,
            }
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"not a stored cache report: {exc}") from exc

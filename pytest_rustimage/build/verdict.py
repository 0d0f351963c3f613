"""The layer-cache probe's verdict: after an edit, was the dependency layer reused, and what did cargo compile?

The probe (:class:`pytest_rustimage.build.probe.CacheProbe`) builds a copy of the crate cold
(``--no-cache``), applies an edit to the copy, and builds again. This module
judges the two builds from what they left: the build logs (each builder's own
words for "from cache", and cargo's ``Compiling`` lines) and, where the
strategy has a dependency stage of its own (``cook``), that stage's image id
from ``--target`` builds before and after the edit.

The verdict, :attr:`CacheReport.ok`: the dependency step was reused, and the
final ``cargo build`` compiled none but the workspace's own crates. A layer
that says CACHED while cargo still recompiles third-party crates (a
``RUSTFLAGS`` or toolchain that differs between cook and build, say) fails.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

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
    """One step of the rebuild: its stage, its instruction, and whether it came from cache."""

    stage: str
    instruction: str
    cached: bool


@dataclass(frozen=True)
class CacheReport:
    """What a cache probe saw: the edit, both builds' times, the dependency step, what cargo compiled.

    :attr:`ok` is the verdict; :meth:`summary` one line, :meth:`describe` the whole story of a failure.
    """

    edit: str
    strategy: str
    engine: str
    cold_seconds: float
    rebuild_seconds: float
    has_deps_step: bool
    deps_cached_by_log: bool
    deps_id_before: str | None
    deps_id_after: str | None
    compiled: tuple[Compiled, ...]
    own_crates: frozenset[str]
    steps: tuple[StepOutcome, ...]

    @property
    def deps_reused(self) -> bool:
        """The engine's words say cached and, where there is a dependency stage, its id did not change."""
        same_id = self.deps_id_before is None or self.deps_id_before == self.deps_id_after
        return self.has_deps_step and self.deps_cached_by_log and same_id

    def _own(self, crate: Compiled) -> bool:
        # cargo names the source folder of local (path) crates only: the workspace's own
        return crate.name in self.own_crates or (crate.path or "").startswith("/app")

    @property
    def third_party_recompiled(self) -> tuple[str, ...]:
        """``NAME vVERSION`` of each crate from outside the workspace that the rebuild compiled."""
        return tuple(f"{c.name} v{c.version}" for c in self.compiled if not self._own(c))

    @property
    def own_recompiled(self) -> tuple[str, ...]:
        """``NAME vVERSION`` of each of the workspace's own crates that the rebuild compiled."""
        return tuple(f"{c.name} v{c.version}" for c in self.compiled if self._own(c))

    @property
    def ok(self) -> bool:
        """The verdict: the dependency layer was reused and no third-party crate was compiled again."""
        return self.deps_reused and not self.third_party_recompiled

    def summary(self) -> str:
        """One line: the edit, the dependency layer, what was recompiled, both builds' times."""
        deps = "reused" if self.deps_reused else "rebuilt"
        return (
            f"{self.edit}: dependency layer {deps}; recompiled {len(self.third_party_recompiled)} third-party and "
            f"{len(self.own_recompiled)} own crate(s); cold {self.cold_seconds:.1f}s, rebuild "
            f"{self.rebuild_seconds:.1f}s"
        )

    def describe(self) -> str:
        """Everything a person needs to read a failure."""
        lines = [self.summary()]
        if not self.has_deps_step:
            lines.append(f"- the {self.strategy} strategy has no dependency step: dependencies build with the code")
        elif not self.deps_cached_by_log:
            lines.append("- the dependency step ran again after the edit (the builder did not take it from cache)")
        elif self.deps_id_before != self.deps_id_after:
            lines.append(f"- the dependency stage's image changed: {self.deps_id_before} -> {self.deps_id_after}")
        if self.third_party_recompiled:
            shown = ", ".join(self.third_party_recompiled[:20])
            more = len(self.third_party_recompiled) - 20
            lines.append(f"- third-party crates compiled again: {shown}" + (f" and {more} more" if more > 0 else ""))
            if self.deps_cached_by_log:
                lines.append(
                    "  the dependency layer came from cache, yet cargo rebuilt them: something differs between the "
                    "dependency step and the build step (RUSTFLAGS, features, profile, target or toolchain)"
                )
        lines.append("- steps after the edit:")
        for step in self.steps:
            lines.append(f"    {'CACHED' if step.cached else 'ran   '} [{step.stage}] {step.instruction[:100]}")
        return "\n".join(lines)


def assess(
    *,
    edit: str,
    strategy: str,
    engine: str,
    rebuild_log: str,
    cold_seconds: float,
    rebuild_seconds: float,
    deps_ids: tuple[str | None, str | None],
    own_crates: Iterable[str],
) -> CacheReport:
    steps = parse_steps(rebuild_log)
    deps = marked(steps, "deps")
    build = marked(steps, "build")
    return CacheReport(
        edit=edit,
        strategy=strategy,
        engine=engine,
        cold_seconds=cold_seconds,
        rebuild_seconds=rebuild_seconds,
        has_deps_step=deps is not None,
        deps_cached_by_log=deps is not None and deps.cached,
        deps_id_before=deps_ids[0],
        deps_id_after=deps_ids[1],
        compiled=tuple(compiled_crates(build.output)) if build is not None and not build.cached else (),
        own_crates=frozenset(own_crates),
        steps=tuple(_outcome(step) for step in steps if _is_instruction(step)),
    )


def _is_instruction(step: Step) -> bool:
    return not step.instruction.upper().startswith("FROM ")


def _outcome(step: Step) -> StepOutcome:
    return StepOutcome(step.stage, step.instruction, step.cached)

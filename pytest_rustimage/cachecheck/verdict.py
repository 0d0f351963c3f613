"""The layer-cache probe's verdict: after a source-only edit, did any step compile a third-party crate?

The probe (:class:`pytest_rustimage.cachecheck.probe.CacheProbe`) has two builds to show: the baseline
(the session's own build of the image, or a build of the unchanged copy) and the rebuild of an
edited copy. This module judges them from their logs alone, for any Dockerfile: each builder's words
for "from cache" and cargo's ``Compiling`` lines in every ``RUN`` step, of every stage.

The verdict, :attr:`CacheReport.ok`: no step of the rebuild compiled a third-party crate (a crate
that is not a package of the workspace and that cargo names without a local path), and no step that
ran cargo after the edit hid cargo's output. A step hides it when its command does (``-q``,
``CARGO_TERM_QUIET``, stderr sent to a file, ``/dev/null`` or a filter: read by
:mod:`pytest_rustimage.cachecheck.cargo_steps`) or when its log shows no ``Finished`` line although cargo
surely ran (a cargo config, a wrapper, a clipped log): no ``Compiling`` line then proves nothing, so
the report is *inconclusive* (:attr:`CacheReport.inconclusive`), which fails the check; silence is
never a pass. Only where the Dockerfile answers without the log is a hidden step judged all the same
(:func:`_settled`). The report also
names the steps that compiled the third-party crates in the baseline (the dependency steps) and
whether each came from cache after the edit, and, when one ran again, why it likely did, read from
the Dockerfile (:mod:`pytest_rustimage.recipe.instructions`): a dependency step after ``COPY . .``
runs again on every source edit. A build in which no step compiles Rust has nothing to prove.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_rustimage.cachecheck import cargo_steps
from pytest_rustimage.cachecheck.buildlog import Compiled, Step, compiled_crates, marked, parse_steps
from pytest_rustimage.errors import ConfigError
from pytest_rustimage.recipe import instructions

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
    hints: tuple[str, ...] = ()  # why a dependency step likely ran again
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
    stages = instructions.parse(dockerfile) if dockerfile else []
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
        StepOutcome(
            s.stage or _stage_name(stages, s.instruction),  # BuildKit names no stage in a one-stage build
            s.instruction,
            s.cached,
            tuple(compiled_crates(s.output)) if not s.cached else (),
        )
        for s in after
        if not s.instruction.upper().startswith("FROM ")
    )
    compiled = tuple(c for o in outcomes for c in o.compiled)
    hidden = [h for s in _runs(first) if (h := _hidden("first", s, stages, edited)) is not None]
    for step in _runs(after):
        found = _hidden("after", step, stages, edited)
        if found is not None:
            settled = _settled(step, after, stages, edited, own)
            hidden.append(dataclasses.replace(found, settled=settled))
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
        baseline_compiled_rust=any(compiled_crates(s.output) for s in _runs(first))
        or any(h.build == "first" for h in hidden),
        measured_at=measured_at,
        hidden=tuple(hidden),
    )


_FINISHED = re.compile(r"^\s*(?:Finished|Ignored package) ")  # cargo's last word, also when nothing compiled
_CLIPPED = re.compile(r"\[output clipped, log limit [^\]]* reached\]")  # BuildKit's words


def _hidden(build: str, step: Step, stages: list[instructions.Stage], edited: str | None = None) -> HiddenStep | None:
    """``step`` as a :class:`HiddenStep` when it ran cargo and its log cannot show what cargo compiled,
    or when it ran with the edited sources copied in and runs a program that may run cargo unseen."""
    if step.cached:
        return None
    env = instructions.env_before(stages, step.instruction)
    runs = cargo_steps.cargo_runs(step.instruction, env)
    if not runs:
        opaque = _opaque(step, stages, edited, env)
        if opaque is None:
            return None
        return HiddenStep(build, step.stage or _stage_name(stages, step.instruction), step.instruction, (opaque,))
    reasons = [reason for run in runs for reason in run.hidden]
    if any(_CLIPPED.search(line) for line in step.output):
        reasons.append("the builder clipped the step's log")
    certain = any(run.command.certain for run in runs)
    if not reasons and certain and not any(_FINISHED.match(line) for line in step.output):
        reasons.append(
            "cargo ran, yet its log shows no `Finished` line (a cargo config's term.quiet, a wrapper or a filter "
            "may hide it)"
        )
    if not reasons:
        return None
    stage = step.stage or _stage_name(stages, step.instruction)
    return HiddenStep(build, stage, step.instruction, tuple(dict.fromkeys(reasons)))


_CARGO_SAID = re.compile(r"^\s*(?:Compiling|Finished|Ignored package) ")


def _opaque(step: Step, stages: list[instructions.Stage], edited: str | None, env: dict[str, str]) -> str | None:
    """Why a step without a cargo command in sight may still have run cargo unseen: it ran after a copy of
    the edited file and runs a program not known to leave cargo alone (``./build.sh``, ``make``)."""
    if edited is None or any(_CARGO_SAID.match(line) for line in step.output):
        return None
    if instructions.invalidating_copy(stages, step.instruction, edited) is None:
        return None
    unknown = [c.words[0] for c in cargo_steps.commands(step.instruction, env) if not cargo_steps.runs_no_cargo(c)]
    if "<<" in step.instruction:  # a heredoc: the log shows its first line only, the script is out of sight
        unknown.insert(0, "a heredoc script")
    if not unknown:
        return None
    what = unknown[0] if unknown[0] == "a heredoc script" else f"`{unknown[0]}`"
    return f"it ran with the edited sources copied in and runs {what}, which may run cargo, yet no cargo output shows"


def _stage_name(stages: list[instructions.Stage], step: str) -> str:
    found = instructions.before(stages, step)
    return found[0].name if found is not None else ""


_HARMLESS_BEFORE = frozenset({"set", "true", ":"})  # commands that may come before the judged cargo run


def _settled(
    step: Step, steps: list[Step], stages: list[instructions.Stage], edited: str | None, own: frozenset[str]
) -> str:
    """Why the Dockerfile answers for the hidden rebuild step ``step`` without its log; "" when it does not.

    Only one case is certain. The step comes after a ``COPY`` of the edited sources (so it runs on every
    edit); the last ``RUN`` before it in its stage (or the stages it is built ``FROM``), with nothing but
    copies of source files between them, ran the very same cargo command (same arguments apart from
    quietness, same variables and folder) and, after the edit, came from cache or showed its output;
    neither uses a cache mount (whose contents are not the layer's); the step runs nothing before its
    cargo but ``touch`` on sources, and that earlier step nothing after its cargo but ``rm`` of sources
    or of the workspace's own build outputs. Then every third-party crate the step's cargo needs was
    built by that command in the layer it starts from, with the same inputs: it finds them fresh. A
    different command (``cargo chef cook`` then ``cargo build``), flags, features, target, an ``ENV``,
    a ``RUN`` or a manifest copy between them could each make cargo build them again: not settled.
    """
    if not stages or edited is None:
        return ""
    copy = instructions.invalidating_copy(stages, step.instruction, edited)
    found = instructions.before(stages, step.instruction)
    if copy is None or found is None:
        return ""
    chain = found[1]
    earlier: instructions.Instruction | None = None
    for instruction in reversed(chain):
        if instruction.keyword == "RUN":
            earlier = instruction
            break
        if instruction.keyword == "FROM" or (instruction.keyword in ("COPY", "ADD") and _sources_only(instruction)):
            continue
        return ""
    if earlier is None:
        return ""
    shown = [s for s in steps if instructions.normalise(s.instruction) == earlier.text]
    if len({s.cached for s in shown}) != 1:
        return ""  # not in the rebuild's log, or twice with different fates
    if not shown[0].cached and _hidden("after", shown[0], stages) is not None:
        return ""
    env_h = instructions.env_before(stages, step.instruction)
    mine = cargo_steps.commands(step.instruction, env_h)
    theirs = cargo_steps.commands(earlier.text, instructions.env_before(stages, earlier.text))
    if any(c.mount for c in [*mine, *theirs]):
        return ""
    runs = [(i, run) for i, c in enumerate(mine) if (run := cargo_steps.judge(c)) is not None]
    their_runs = [(i, run) for i, c in enumerate(theirs) if (run := cargo_steps.judge(c)) is not None]
    if not runs or not their_runs:
        return ""
    keys = {run.key for _, run in their_runs}
    if any(run.key not in keys for _, run in runs):
        return ""
    if any(not _touches_sources(c) for c in mine[: runs[-1][0]] if cargo_steps.judge(c) is None):
        return ""
    if any(not _removes_own(c, own) for c in theirs[their_runs[-1][0] + 1 :]):
        return ""
    how = "came from cache" if shown[0].cached else "ran with its output shown"
    return (
        f"it runs after `{copy.text}` on every edit, and runs the same cargo command as `{earlier.text[:100]}`, "
        f"which {how} after the edit with only copies of sources between them: the third-party crates were "
        "already built for it"
    )


def _sources_only(instruction: instructions.Instruction) -> bool:
    """A ``COPY``/``ADD`` of source files only (``src/``, ``.rs`` files): no manifest, lockfile or config."""
    if any(flag.startswith("--from") for flag in instruction.arguments.split() if flag.startswith("--")):
        return False
    sources = instructions.copy_sources(instruction)
    return bool(sources) and all(_a_source(s) for s in sources)


def _a_source(path: str) -> bool:
    parts = [p for p in path.strip().removeprefix("./").rstrip("/").split("/") if p not in ("", ".")]
    return bool(parts) and ".." not in parts and (parts[-1] == "src" or "src" in parts or parts[-1].endswith(".rs"))


def _touches_sources(command: cargo_steps.Command) -> bool:
    if command.words[0] in _HARMLESS_BEFORE:
        return True
    return command.words[0] == "touch" and all(w.startswith("-") or _a_source(w) for w in command.words[1:])


def _removes_own(command: cargo_steps.Command, own: frozenset[str]) -> bool:
    """``rm`` of sources, or of files the workspace's own crates left in ``target/``."""
    if command.words[0] in ("true", ":"):
        return True
    if command.words[0] != "rm":
        return False
    names = {name.replace("-", "_") for name in own} | set(own)
    for word in command.words[1:]:
        if word.startswith("-") or _a_source(word):
            continue
        last = word.rstrip("/").rsplit("/", 1)[-1]
        inside = word.removeprefix("./").startswith("target/") or "/target/" in word
        if not (inside and any(last.startswith(name) for name in names)):
            return False
    return True


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
                "hidden": tuple(HiddenStep(**{**h, "reasons": tuple(h["reasons"])}) for h in data["hidden"]),
                "stored": True,
            }
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"not a stored cache report: {exc}") from exc

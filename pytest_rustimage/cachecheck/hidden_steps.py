"""Which ``RUN`` steps ran cargo out of the log's sight, and when the Dockerfile answers for one all the same.

A step hides cargo's output when its command does (``-q``, ``CARGO_TERM_QUIET``, stderr sent to a
file, ``/dev/null`` or a filter: read by :mod:`pytest_rustimage.cachecheck.cargo_steps`), when its log
shows no ``Finished`` line although cargo surely ran (a cargo config, a wrapper, a clipped log), or
when it ran with the edited sources copied in and runs a program that may run cargo unseen
(:func:`hidden_step`). No ``Compiling`` line then proves nothing. Only where the Dockerfile answers
without the log is a hidden step of the rebuild judged all the same (:func:`settled`).
"""

from __future__ import annotations

import re

from pytest_rustimage.cachecheck import cargo_steps
from pytest_rustimage.cachecheck.buildlog import Step
from pytest_rustimage.cachecheck.shell_commands import Command, commands
from pytest_rustimage.cachecheck.verdict import HiddenStep
from pytest_rustimage.recipe import instructions

_FINISHED = re.compile(r"^\s*(?:Finished|Ignored package) ")  # cargo's last word, also when nothing compiled
_CLIPPED = re.compile(r"\[output clipped, log limit [^\]]* reached\]")  # BuildKit's words


def hidden_step(
    build: str, step: Step, stages: list[instructions.Stage], edited: str | None = None
) -> HiddenStep | None:
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
        return HiddenStep(build, step.stage or stage_name(stages, step.instruction), step.instruction, (opaque,))
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
    stage = step.stage or stage_name(stages, step.instruction)
    return HiddenStep(build, stage, step.instruction, tuple(dict.fromkeys(reasons)))


_CARGO_SAID = re.compile(r"^\s*(?:Compiling|Finished|Ignored package) ")


def _opaque(step: Step, stages: list[instructions.Stage], edited: str | None, env: dict[str, str]) -> str | None:
    """Why a step without a cargo command in sight may still have run cargo unseen: it ran after a copy of
    the edited file and runs a program not known to leave cargo alone (``./build.sh``, ``make``)."""
    if edited is None or any(_CARGO_SAID.match(line) for line in step.output):
        return None
    if instructions.invalidating_copy(stages, step.instruction, edited) is None:
        return None
    unknown = [c.words[0] for c in commands(step.instruction, env) if not cargo_steps.runs_no_cargo(c)]
    if "<<" in step.instruction:  # a heredoc: the log shows its first line only, the script is out of sight
        unknown.insert(0, "a heredoc script")
    if not unknown:
        return None
    what = unknown[0] if unknown[0] == "a heredoc script" else f"`{unknown[0]}`"
    return f"it ran with the edited sources copied in and runs {what}, which may run cargo, yet no cargo output shows"


def stage_name(stages: list[instructions.Stage], step: str) -> str:
    found = instructions.before(stages, step)
    return found[0].name if found is not None else ""


_HARMLESS_BEFORE = frozenset({"set", "true", ":"})  # commands that may come before the judged cargo run


def settled(
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
    if not shown[0].cached and hidden_step("after", shown[0], stages) is not None:
        return ""
    env_h = instructions.env_before(stages, step.instruction)
    mine = commands(step.instruction, env_h)
    theirs = commands(earlier.text, instructions.env_before(stages, earlier.text))
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


def _touches_sources(command: Command) -> bool:
    if command.words[0] in _HARMLESS_BEFORE:
        return True
    return command.words[0] == "touch" and all(w.startswith("-") or _a_source(w) for w in command.words[1:])


def _removes_own(command: Command, own: frozenset[str]) -> bool:
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

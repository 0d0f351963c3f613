"""Why a step compiled third-party crates again after a source-only edit, told from evidence.

The verdict is the logs' (:mod:`pytest_rustimage.cachecheck.assess`); this module only explains a
failure, from the rebuild's steps and the Dockerfile (:mod:`pytest_rustimage.recipe.instructions`),
in order of the evidence's strength:

1. a *dependency step* (one that compiled the third-party crates in the baseline, or a step of the
   rebuild that came from cache and runs a compiling cargo command) came from cache, and the step that
   compiled them again is another one: the two cargo commands ask for other builds of the
   dependencies (features, profile, target, ``RUSTFLAGS`` and ``CARGO_*`` variables, toolchain,
   ``--config``, and, when nothing else differs, the package selection:
   :mod:`pytest_rustimage.cachecheck.invocation`);
2. the dependency step's ``target/`` does not reach the build with cargo's fingerprints (a cache mount
   the build does not mount, no ``COPY --from`` of it, only ``target/release/deps`` copied, copied to
   another folder), or the build runs in another folder (:mod:`pytest_rustimage.cachecheck.carry`);
3. the two stages stand on other base images (another toolchain: rustc's version is in every unit);
4. no dependency step came from cache, and the step comes after a ``COPY``/``ADD`` of the edited file:
   every source edit invalidates it;
5. else: the Dockerfile does not tell, and the explanation says what was looked at.

When the step printed cargo's fingerprint log (``CARGO_LOG=cargo::core::compiler::fingerprint=info``),
its first reason for a third-party unit is quoted as well (:func:`fingerprint_reason`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from pytest_rustimage.cachecheck import cargo_steps, invocation
from pytest_rustimage.cachecheck.buildlog import Compiled
from pytest_rustimage.cachecheck.carry import carried, copied_from, stands_on
from pytest_rustimage.cachecheck.verdict import DepsStep, StepOutcome
from pytest_rustimage.recipe import instructions

FINGERPRINT_LOG = (
    "a build with CARGO_LOG=cargo::core::compiler::fingerprint=info (an ARG or ENV of the build stage) "
    "prints cargo's reason for each dirty unit"
)


def _third_party(crates: Iterable[Compiled], own: frozenset[str]) -> list[Compiled]:
    return [c for c in crates if c.name not in own and not (c.path or "").startswith("/")]


def explain(
    steps: tuple[StepOutcome, ...],
    deps: list[DepsStep],
    own: frozenset[str],
    stages: list[instructions.Stage],
    edited: str | None,
    outputs: Mapping[str, Sequence[str]] | None = None,
) -> list[str]:
    """Why each step of the rebuild that compiled third-party crates did, one hint a cause; ``outputs``
    (the rebuild's step output by normalised instruction) lets it quote cargo's fingerprint log."""
    hints: list[str] = []
    for step in steps:
        if step.cached or not _third_party(step.compiled, own):
            continue
        hints.append(_why(step, steps, deps, stages, edited))
        said = fingerprint_reason((outputs or {}).get(instructions.normalise(step.instruction), ()), own)
        if said:
            hints.append(f"cargo's fingerprint log in [{step.stage}] {step.instruction[:100]}: {said}")
    return list(dict.fromkeys(hints))


def _why(
    step: StepOutcome,
    steps: tuple[StepOutcome, ...],
    deps: list[DepsStep],
    stages: list[instructions.Stage],
    edited: str | None,
) -> str:
    serving = _serving_step(step, steps, deps, stages)
    if serving is not None:
        return _not_served(step, serving, stages)
    copy = instructions.invalidating_copy(stages, step.instruction, edited)
    if copy is not None:
        return (
            f"the step that compiles the dependencies comes after `{copy.text}` in stage {copy.stage}: "
            "every source edit invalidates it; copy only the manifests (Cargo.toml, Cargo.lock) or "
            "cargo-chef's recipe.json before building the dependencies, and the sources after"
        )
    return (
        f"[{step.stage}] {step.instruction[:100]} ran again and no step that came from cache built the "
        "dependencies for it; the Dockerfile does not tell why (looked for a COPY of the edited file "
        "before it and for a dependency step from cache): an input before it changed (a file it "
        "copies, a build arg or a base image)"
    )


_UNIT = re.compile(r"fingerprint (?:dirty|error) for ([\w.+-]+) v([^\s/]+)( \()?")
_REASON = re.compile(r"cargo::core::compiler::fingerprint:\s+(?:dirty|err): (.*)$")


def fingerprint_reason(lines: Sequence[str], own: frozenset[str]) -> str:
    """The first reason cargo's fingerprint log (``CARGO_LOG=cargo::core::compiler::fingerprint=info``)
    gives for rebuilding a third-party unit, quoted; "" when the log has none."""
    for index, line in enumerate(lines):
        unit = _UNIT.search(line)
        if unit is None or unit.group(3) or unit.group(1) in own:
            continue
        for after in lines[index + 1 : index + 3]:
            reason = _REASON.search(after)
            if reason:
                text = reason.group(1).strip()
                meaning = (
                    " (no fingerprint of this unit in the target folder: never built there with these features, "
                    "profile, target and flags, or its fingerprints were not carried over)"
                    if text.startswith("failed to read") and "/.fingerprint/" in text
                    else ""
                )
                return f"{unit.group(1)} v{unit.group(2)}: {text[:300]}{meaning}"
    return ""


def _serving_step(
    step: StepOutcome, steps: tuple[StepOutcome, ...], deps: list[DepsStep], stages: list[instructions.Stage]
) -> tuple[str, str] | None:
    """The (stage, instruction) of the dependency step that came from cache and should have served
    ``step``: one that compiled the third-party crates in the baseline, else a cached ``RUN`` of the
    rebuild that runs a compiling cargo command before ``step`` in its stages, or in a stage it copies
    from. ``cargo install`` (a tool, in a target folder of its own) serves nothing."""
    key = instructions.normalise
    own_text = key(step.instruction)
    chain = instructions.before(stages, step.instruction)
    earlier = {i.text for i in chain[1]} if chain is not None else set()
    found = [
        (d.stage, d.instruction)
        for d in deps
        if d.cached_after and key(d.instruction) != own_text and _builds(d.instruction, stages)
    ]
    if not found:
        sources = {copied_from(i) for i in chain[1]} - {""} if chain is not None else set()
        found = [
            (s.stage, s.instruction)
            for s in steps
            if s.cached
            and s.instruction.upper().startswith("RUN ")
            and key(s.instruction) != own_text
            and (key(s.instruction) in earlier or _in_stages(s.instruction, sources, stages))
            and _builds(s.instruction, stages)
        ]
    if not found:
        return None
    inside = [f for f in found if key(f[1]) in earlier]
    return (inside or found)[-1]


def _builds(instruction: str, stages: list[instructions.Stage]) -> bool:
    """Whether the step runs a compiling cargo command other than ``cargo install``."""
    runs = cargo_steps.cargo_runs(instruction, instructions.env_before(stages, instruction))
    return any((cargo_steps.subcommand(run.command.words) or ("",))[0] != "install" for run in runs)


def _in_stages(instruction: str, names: set[str], stages: list[instructions.Stage]) -> bool:
    """Whether the step is in one of the stages ``names`` or a stage they are built FROM."""
    found = instructions.before(stages, instruction)
    if found is None:
        return False
    return any(stands_on(s, found[0], stages) for s in stages if s.name in names)


def _not_served(step: StepOutcome, serving: tuple[str, str], stages: list[instructions.Stage]) -> str:
    """Why the dependencies the cached step ``serving`` compiled did not serve ``step``."""
    stage, instruction = serving
    found = _command_differences(instruction, step.instruction, stages)
    found += carried(instruction, step.instruction, stages)
    lead = (
        f"the dependency step [{stage}] {instruction[:100]} came from cache after the edit, yet "
        f"[{step.stage}] {step.instruction[:100]} compiled third-party crates again: the dependencies it "
        "compiled did not reach that step"
    )
    if not found:
        read = instructions.before(stages, instruction) is not None and instructions.before(stages, step.instruction)
        looked = (
            "the compiled target/ reaches the step and the stages stand on the same image"
            if read
            else "how target/ reaches the step and the stages' images were not read (the Dockerfile does not "
            "show these steps)"
        )
        return (
            f"{lead}, and the Dockerfile does not tell why: the two cargo commands ask for the same features, "
            f"profile, target, variables and toolchain; {looked}; {FINGERPRINT_LOG}"
        )
    return f"{lead}: " + "; ".join(found)


def _command_differences(dep_text: str, build_text: str, stages: list[instructions.Stage]) -> list[str]:
    dep_runs = _invocations(dep_text, stages)
    build_runs = _invocations(build_text, stages)
    if not dep_runs or not build_runs:
        return []
    dep = dep_runs[-1]
    found = min((invocation.differences(dep, run) for run in build_runs), key=len)
    if not found:
        return []
    build = next(run for run in build_runs if invocation.differences(dep, run) == found)
    return [
        *found[:-1],
        f"{found[-1]}. cargo compiles a dependency once for each set of features, profile, target, flags and "
        f"compiler, so the ones {dep.name} compiled do not serve {build.name}: give both the same "
        f"({_fix(dep, build)})",
    ]


def _fix(dep: invocation.Invocation, build: invocation.Invocation) -> str:
    if dep.subcommand == "chef cook" and not invocation.same_features(dep, build):
        return f"cook with {invocation.feature_words(build).replace('default features and ', '')}"
    return "the same flags, and the same ENV/ARG variables in both stages"


def _invocations(text: str, stages: list[instructions.Stage]) -> list[invocation.Invocation]:
    env = instructions.env_before(stages, text)
    found = [invocation.read(run.command) for run in cargo_steps.cargo_runs(text, env)]
    return [run for run in found if run is not None]

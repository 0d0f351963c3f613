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
2. the two run in stages apart and the dependency step's ``target/`` does not reach the build with
   cargo's fingerprints (no ``COPY --from`` of it, only ``target/release/deps`` copied, copied to
   another folder), or the build runs in another folder than the dependency step;
3. the two stages stand on other base images (another toolchain: rustc's version is in every unit);
4. no dependency step came from cache, and the step comes after a ``COPY``/``ADD`` of the edited file:
   every source edit invalidates it;
5. else: the Dockerfile does not tell, and the explanation says what was looked at.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping, Sequence

from pytest_rustimage.cachecheck import cargo_steps, invocation
from pytest_rustimage.cachecheck.buildlog import Compiled
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
        sources = {_from(i) for i in chain[1]} - {""} if chain is not None else set()
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
    return any(_stands_on(s, found[0], stages) for s in stages if s.name in names)


def _not_served(step: StepOutcome, serving: tuple[str, str], stages: list[instructions.Stage]) -> str:
    """Why the dependencies the cached step ``serving`` compiled did not serve ``step``."""
    stage, instruction = serving
    found = _command_differences(instruction, step.instruction, stages)
    found += _carried(instruction, step.instruction, stages)
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


def _carried(dep_text: str, build_text: str, stages: list[instructions.Stage]) -> list[str]:
    """How the dependency step's ``target/`` reaches the build step, when it does not (with its
    fingerprints, in the build's own target folder), and whether their stages stand on one image."""
    dep_at = instructions.before(stages, dep_text)
    build_at = instructions.before(stages, build_text)
    if dep_at is None or build_at is None:
        return []
    dep_dir, build_dir = _workdir(dep_at[1]), _workdir(build_at[1])
    dep_target = _target_dir(dep_text, dep_dir, stages)
    build_target = _target_dir(build_text, build_dir, stages)
    mounted = _mount_finding(_cache_mounts(dep_text, dep_dir), dep_target, _cache_mounts(build_text, build_dir))
    if mounted:
        return [mounted]
    dep_cwd, build_cwd = _folder(dep_text, dep_dir, stages), _folder(build_text, build_dir, stages)
    moved = [] if dep_cwd == build_cwd else [_moved(dep_cwd, build_cwd)]
    if instructions.normalise(dep_text) in {i.text for i in build_at[1]}:
        if dep_target != build_target:
            return [
                f"folder: the dependency step's target folder is {dep_target}, the build's {build_target} "
                f"(its folder, or CARGO_TARGET_DIR): run both in the same folder"
            ]
        return moved
    found = _copies(dep_at[0], dep_target, build_at[1], build_target, build_dir, stages) or moved
    dep_base, build_base = _root(dep_at[0], stages), _root(build_at[0], stages)
    if dep_base != build_base:
        found.append(
            f"base image: the dependency step's stage stands on {dep_base}, the build's on {build_base}: where "
            "their toolchains differ (rustc's version is part of every unit cargo builds), every dependency is "
            "built again; build both stages FROM the same image"
        )
    return found


def _copies(
    dep_stage: instructions.Stage,
    dep_target: str,
    chain: list[instructions.Instruction],
    build_target: str,
    build_dir: str,
    stages: list[instructions.Stage],
) -> list[str]:
    """What the ``COPY --from`` instructions before the build bring of the dependency stage's target folder."""
    names = {s.name for s in stages if _stands_on(s, dep_stage, stages)}
    copies = [(i, _from(i)) for i in chain if i.keyword in ("COPY", "ADD")]
    ours = [i for i, source in copies if source in names]
    if not ours:
        return [
            f"stages: the build runs in another stage than the dependency step ({dep_stage.name}), and no "
            f"`COPY --from={dep_stage.name}` brings its {dep_target} into the build: copy the whole target folder "
            f"(`COPY --from={dep_stage.name} {dep_target} {build_target}`), or build in the same stage"
        ]
    for copy in ours:
        words = _copy_words(copy)
        sources, dest = words[:-1], posixpath.join(build_dir, words[-1]) if words else ""
        for source in sources:
            path = posixpath.normpath(posixpath.join("/", source))  # --from sources: from the stage's root
            if dep_target == path or dep_target.startswith(path.rstrip("/") + "/"):
                inside = posixpath.relpath(dep_target, path)
                landed = posixpath.normpath(posixpath.join(dest, inside))
                if landed == build_target:
                    return []
                return [
                    f"folder: `{copy.text}` puts the dependency step's target folder at {landed}, the build uses "
                    f"{build_target}: copy it to the build's target folder"
                ]
    shown = "`, `".join(c.text for c in ours)
    return [
        f"fingerprints: `{shown}` copies part of {dep_target} only: cargo's fingerprints (.fingerprint/) and "
        "build-script outputs (build/) stay behind, so cargo cannot know the dependencies are built and builds "
        f"them again; copy the whole folder (`COPY --from={dep_stage.name} {dep_target} {build_target}`)"
    ]


def _from(instruction: instructions.Instruction) -> str:
    for word in instruction.arguments.split():
        if not word.startswith("--"):
            break
        if word.startswith("--from="):
            return word.partition("=")[2]
    return ""


def _copy_words(instruction: instructions.Instruction) -> list[str]:
    words = instruction.arguments.split()
    while words and words[0].startswith("--"):
        words = words[1:]
    return words


def _stands_on(stage: instructions.Stage, ancestor: instructions.Stage, stages: list[instructions.Stage]) -> bool:
    """Whether ``stage`` is ``ancestor`` or built FROM it (through other stages)."""
    by_name = {s.name: s for s in stages}
    seen: set[str] = set()
    current: instructions.Stage | None = stage
    while current is not None and current.name not in seen:
        if current.name == ancestor.name:
            return True
        seen.add(current.name)
        current = by_name.get(current.base)
    return False


def _root(stage: instructions.Stage, stages: list[instructions.Stage]) -> str:
    """The image a stage finally stands on (through the stages it is built FROM)."""
    by_name = {s.name: s for s in stages}
    seen: set[str] = set()
    while stage.base in by_name and stage.name not in seen:
        seen.add(stage.name)
        stage = by_name[stage.base]
    return stage.base


def _workdir(chain: Iterable[instructions.Instruction]) -> str:
    folder = "/"
    for instruction in chain:
        if instruction.keyword == "WORKDIR":
            folder = posixpath.normpath(posixpath.join(folder, instruction.arguments.strip("\"'")))
    return folder


def _cache_mounts(text: str, folder: str) -> dict[str, str]:
    """The ``RUN --mount=type=cache`` mounts of a step: their folder (resolved in ``folder``) by their id."""
    words = text.split()[1:] if text.upper().startswith("RUN ") else []
    mounts: dict[str, str] = {}
    for word in words:
        if not word.startswith("--"):
            break
        if not word.startswith("--mount="):
            continue
        fields = dict(part.partition("=")[::2] for part in word.removeprefix("--mount=").split(","))
        target = fields.get("target") or fields.get("dst") or fields.get("destination")
        if fields.get("type") == "cache" and target:
            mounts[fields.get("id") or target] = posixpath.normpath(posixpath.join(folder, target))
    return mounts


def _mount_finding(dep_mounts: dict[str, str], dep_target: str, build_mounts: dict[str, str]) -> str:
    """Why a cache mount over the dependency step's target folder keeps it from the build: the build
    does not mount the same cache there."""
    for path in dep_mounts.values():
        if dep_target == path or dep_target.startswith(path.rstrip("/") + "/"):
            if path in build_mounts.values():
                return ""  # a cache mount at the same folder: the same cache unless their ids differ (not judged)
            return (
                f"cache mount: the dependency step builds into a cache mount ({path}), which is not "
                "part of its layer, and the build does not mount the same cache there, so it never sees the "
                "compiled dependencies: give the build step the same --mount, or drop it from the dependency step"
            )
    return ""


def _moved(dep_dir: str, build_dir: str) -> str:
    return (
        f"sources moved: the dependency step ran cargo in {dep_dir}, the build in {build_dir}; cargo keeps each "
        "dependency's source path in its fingerprint, so dependencies whose sources lie inside the workspace "
        '(vendored with `directory = "vendor"`, path dependencies) are built again (cargo says '
        "PathToSourceChanged; sources in CARGO_HOME's registry do not move): run both in the same folder"
    )


def _folder(text: str, folder: str, stages: list[instructions.Stage]) -> str:
    """The folder the step's last cargo command runs in: the WORKDIR, then its ``cd``s."""
    runs = cargo_steps.cargo_runs(text, instructions.env_before(stages, text))
    for step in runs[-1].command.cwd if runs else ():
        folder = posixpath.normpath(posixpath.join(folder, step))
    return folder


def _target_dir(text: str, folder: str, stages: list[instructions.Stage]) -> str:
    """The target folder of the step's last cargo command: CARGO_TARGET_DIR, else target/ in its folder."""
    runs = cargo_steps.cargo_runs(text, instructions.env_before(stages, text))
    if runs:
        command = runs[-1].command
        for step in command.cwd:
            folder = posixpath.normpath(posixpath.join(folder, step))
        target = dict(command.env).get("CARGO_TARGET_DIR")
        words = command.words
        for index, word in enumerate(words):
            if word == "--target-dir" and index + 1 < len(words):
                target = words[index + 1]
            elif word.startswith("--target-dir="):
                target = word.partition("=")[2]
        if target:
            return posixpath.normpath(posixpath.join(folder, target))
    return posixpath.join(folder, "target")

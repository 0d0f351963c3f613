"""How a dependency step's compiled ``target/`` reaches a later cargo build, read from the Dockerfile.

cargo finds the dependencies built when the build runs with the dependency step's target folder, its
fingerprints (``.fingerprint/``) and build-script outputs (``build/``) included, and its dependencies'
sources where they were: the same stage (or one built ``FROM`` it) and folder, or a ``COPY --from`` of
the whole folder into the build's own. :func:`carried` names what keeps it from the build: a cache
mount over it that the build does not mount, no copy, a copy of part of it (``target/release/deps``),
a copy to another folder, another folder or target folder for the build, a workspace at another path
(vendored sources inside it move: cargo says ``PathToSourceChanged``), stages on other base images.
Used by :mod:`pytest_rustimage.cachecheck.why`.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable

from pytest_rustimage.cachecheck import cargo_steps
from pytest_rustimage.recipe import instructions


def carried(dep_text: str, build_text: str, stages: list[instructions.Stage]) -> list[str]:
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
    names = {s.name for s in stages if stands_on(s, dep_stage, stages)}
    copies = [(i, copied_from(i)) for i in chain if i.keyword in ("COPY", "ADD")]
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


def copied_from(instruction: instructions.Instruction) -> str:
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


def stands_on(stage: instructions.Stage, ancestor: instructions.Stage, stages: list[instructions.Stage]) -> bool:
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

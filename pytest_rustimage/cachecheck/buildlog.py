"""Reading build output: which steps ran and which came from cache, and what cargo compiled.

Three builders, three ways of saying it, one result:

* BuildKit (``--progress=plain``): ``#7 [cook 4/4] RUN …`` opens a step;
  ``#7 CACHED`` says it came from cache; ``#7 0.385    Compiling …`` is output;
* buildah (``podman build``): ``[3/5] STEP 3/3: RUN …`` opens a step;
  ``--> Using cache ID`` says cached; ``--> ID`` closes it with its image id;
* the legacy Docker builder: ``Step 9/14 : RUN …``; `` ---> Using cache``;
  `` ---> ID``.

Steps the plugin generates carry a marker in their command
(``RUST_IMAGE_STEP=deps`` for the dependency step, ``RUST_IMAGE_STEP=build``
for the final ``cargo build``), so they are found the same way in every log.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

# How each builder opens a step, before the instruction: BuildKit's numbered steps (its other
# bracketed lines, "[internal]" and "[auth]", are work outside the Dockerfile's steps), buildah's
# (with the stage's index when it runs stages side by side), the legacy builder's.
_BUILDKIT_OPENS = r"#(\d+) \[(?:([\w.-]+) +)? *\d+/\d+\] "  # "[build  3/10]": padded
_BUILDAH_OPENS = r"(?:\[(\d+)/\d+\] )?STEP \d+/\d+: "
_LEGACY_OPENS = r"Step \d+/\d+ : "
_BUILDKIT_HEAD = re.compile(rf"^{_BUILDKIT_OPENS}(.*)$")
_BUILDKIT_LINE = re.compile(r"^#(\d+) (?:\d+\.\d+ )?(.*)$")
_BUILDAH_HEAD = re.compile(rf"^{_BUILDAH_OPENS}(.*)$")
_LEGACY_HEAD = re.compile(rf"^{_LEGACY_OPENS}(.*)$")
# what a build's progress shows: the steps' openings and every bracketed BuildKit line ("[internal]
# load build definition", "[auth] ..."), which say where a build spends time before its first step
_PROGRESS = re.compile(rf"^(?:#\d+ \[[^\]]+\] |{_LEGACY_OPENS}|{_BUILDAH_OPENS}).*$")
_STAGE = re.compile(r"^FROM \S+(?: AS ([\w.-]+))?", re.IGNORECASE)
_ARROW = re.compile(r"^\s*--?-> (?:Using cache(?: ([0-9a-f]+))?|([0-9a-f]{8,}))\s*$")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")  # the legacy builder colours what RUN writes to stderr
_COMPILING = re.compile(r"^\s*Compiling ([\w.+-]+) v(\S+)(?: \(([^)]*)\))?")


@dataclass(eq=False)
class Step:
    instruction: str
    stage: str = ""
    cached: bool = False
    image_id: str = ""
    output: list[str] = field(default_factory=list)

    def marker(self) -> str | None:
        found = re.search(r"RUST_IMAGE_STEP=(\w+)", self.instruction)
        return found.group(1) if found else None


@dataclass(frozen=True)
class Compiled:
    name: str
    version: str
    path: str | None  # the source folder cargo names for local crates, None for registry crates


def parse_steps(log: str) -> list[Step]:
    """The build's steps in the order they were opened."""
    steps: list[Step] = []
    by_id: dict[str, Step] = {}  # BuildKit: steps by their #N
    open_steps: list[Step] = []  # buildah, legacy: opened, no result yet (buildah runs stages side by side)
    stages: dict[str, str] = {}  # buildah: stage index -> stage name
    last_stage = ""
    repeat = ""  # buildah: the id of a step it just took from cache, which it repeats in short form
    for raw in log.splitlines():
        line = _ANSI.sub("", raw).rstrip()
        head = _BUILDKIT_HEAD.match(line)
        if head:
            if head.group(1) not in by_id:
                step = Step(head.group(3), head.group(2) or "")
                by_id[head.group(1)] = step
                steps.append(step)
            continue
        buildkit = _BUILDKIT_LINE.match(line)
        if buildkit and buildkit.group(1) in by_id:
            step = by_id[buildkit.group(1)]
            if buildkit.group(2) == "CACHED":
                step.cached = True
            else:
                step.output.append(buildkit.group(2))
            continue
        head = _BUILDAH_HEAD.match(line) or _LEGACY_HEAD.match(line)
        if head:
            instruction = head.groups()[-1]
            index = head.group(1) if head.re is _BUILDAH_HEAD else None
            named = _STAGE.match(instruction)
            if named:
                last_stage = named.group(1) or ""
                if index:
                    stages[index] = last_stage
            step = Step(instruction, stages.get(index, last_stage) if index else last_stage)
            steps.append(step)
            if not (named and head.re is _BUILDAH_HEAD):  # buildah gives FROM no result line
                open_steps.append(step)
            continue
        arrow = _ARROW.match(line)
        if arrow:
            if arrow.group(2) and repeat.startswith(arrow.group(2)):
                repeat = ""
                continue
            repeat = arrow.group(1) or ""
            _close(open_steps, arrow.group(1), arrow.group(2), cached="Using cache" in line)
            continue
        if open_steps:
            open_steps[-1].output.append(line)
    return steps


def _close(open_steps: list[Step], cached_id: str | None, result_id: str | None, cached: bool) -> None:
    """An arrow line: the result of the latest opened step that has none yet."""
    if not open_steps:
        return
    if cached and not cached_id:  # the legacy builder: " ---> Using cache", then the id on a line of its own
        open_steps[-1].cached = True
        return
    step = open_steps.pop()
    step.cached = step.cached or cached
    step.image_id = cached_id or result_id or ""


def opens_step(line: str) -> bool:
    """Whether a raw build output line opens a step, or a piece of BuildKit's own work: the lines a
    build's progress shows (:func:`parse_steps` counts only the Dockerfile's steps)."""
    return _PROGRESS.match(line) is not None


def compiled_crates(lines: Iterable[str]) -> list[Compiled]:
    """Every ``Compiling NAME vX`` cargo reported in ``lines``, in order."""
    found = []
    for line in lines:
        match = _COMPILING.match(line)
        if match:
            found.append(Compiled(match.group(1), match.group(2), match.group(3)))
    return found


def marked(steps: Iterable[Step], marker: str) -> Step | None:
    """The last step whose command carries ``RUST_IMAGE_STEP=marker``."""
    found = None
    for step in steps:
        if step.marker() == marker:
            found = step
    return found

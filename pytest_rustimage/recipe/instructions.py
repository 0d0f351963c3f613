"""Reading a Dockerfile's instructions: its stages, and what each step comes after.

Pure and forgiving: enough of the Dockerfile syntax to tell, for a step a build log names, which
instructions come before it in its stage (and the stages it is built ``FROM``), and whether one of
them copies the file an edit changed. The cache verdict uses it to say *why* a step ran again: a
dependency step after ``COPY . .`` runs again on every source edit.

Understood: line continuations (``\\``), comments, ``FROM IMAGE [AS NAME]``, ``COPY``/``ADD`` in shell
and JSON form with their ``--flags``, the variables ``ENV`` and ``ARG`` (with a default) give later
steps. Not understood (and not needed here): heredocs, parser directives other than the default escape
character.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
from dataclasses import dataclass

_WORD = re.compile(r"^\s*([A-Za-z]+)\s*(.*)$", re.DOTALL)


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: FROM, RUN, COPY, ...
    text: str  # the instruction as the logs show it: keyword and arguments on one line
    stage: str  # the name of its stage (``AS NAME``), else the stage's index as text

    @property
    def arguments(self) -> str:
        return self.text[len(self.keyword) :].strip()


@dataclass(frozen=True)
class Stage:
    name: str
    base: str  # the image or earlier stage it is built FROM
    instructions: tuple[Instruction, ...]


def normalise(text: str) -> str:
    """One line, single spaces: how instructions are compared between a log and a Dockerfile."""
    return " ".join(text.split())


def _logical_lines(dockerfile: str) -> list[str]:
    """The instructions of ``dockerfile``, one a line: continuations joined, comments dropped."""
    logical: list[str] = []
    current = ""
    for raw in dockerfile.splitlines():
        stripped = raw.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if current and stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if raw.rstrip().endswith("\\"):
            current += raw.rstrip()[:-1]
            continue
        logical.append(current + raw)
        current = ""
    if current:
        logical.append(current)
    return logical


def parse(dockerfile: str) -> list[Stage]:
    """The stages of ``dockerfile``, each with its instructions after ``FROM`` (which comes first)."""
    logical = _logical_lines(dockerfile)
    stages: list[Stage] = []
    name, base = "", ""
    body: list[Instruction] = []
    for line in logical:
        match = _WORD.match(line)
        if not match:
            continue
        keyword, rest = match.group(1).upper(), match.group(2).strip()
        if keyword == "FROM":
            if base:
                stages.append(Stage(name, base, tuple(body)))
            words = [w for w in rest.split() if not w.startswith("--")]
            base = words[0] if words else ""
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else str(len(stages))
            body = [Instruction("FROM", normalise(f"FROM {rest}"), name)]
        elif base:
            body.append(Instruction(keyword, normalise(f"{keyword} {rest}"), name))
    if base:
        stages.append(Stage(name, base, tuple(body)))
    return stages


def copy_sources(instruction: Instruction) -> tuple[str, ...]:
    """What a ``COPY``/``ADD`` copies from the build context (nothing for ``--from=`` copies)."""
    if instruction.keyword not in ("COPY", "ADD"):
        return ()
    rest = instruction.arguments
    words: list[str] = []
    while rest.startswith("--"):
        flag, _, rest = rest.partition(" ")
        if flag.startswith("--from"):
            return ()
        rest = rest.strip()
    if rest.startswith("["):
        try:
            words = [str(w) for w in json.loads(rest)]
        except ValueError:
            words = rest.strip("[]").replace(",", " ").split()
    else:
        words = rest.split()
    return tuple(words[:-1])


def covers(source: str, path: str) -> bool:
    """Whether copying ``source`` (a context path or pattern) copies the context file ``path``."""
    cleaned = source.strip().removeprefix("./").rstrip("/")
    if cleaned in ("", "."):
        return True
    if any(c in cleaned for c in "*?["):
        return fnmatch.fnmatch(path, cleaned) or fnmatch.fnmatch(path.split("/")[0], cleaned)
    return path == cleaned or path.startswith(cleaned + "/")


def before(stages: list[Stage], step: str) -> tuple[Stage, list[Instruction]] | None:
    """The stage of the step whose instruction text is ``step``, and every instruction that comes
    before it there, the ones of the stages it is built ``FROM`` first; None when no stage has it."""
    wanted = normalise(step)
    by_name = {stage.name: stage for stage in stages}
    for stage in reversed(stages):  # a later stage may repeat an instruction: the build's last wins
        for index, instruction in enumerate(stage.instructions):
            if instruction.keyword != "FROM" and instruction.text == wanted:
                chain: list[Instruction] = list(stage.instructions[:index])
                parent, seen = by_name.get(stage.base), {stage.name}
                while parent is not None and parent.name not in seen:
                    seen.add(parent.name)
                    chain = list(parent.instructions) + chain
                    parent = by_name.get(parent.base)
                return stage, chain
    return None


def invalidating_copy(stages: list[Stage], step: str, edited: str | None) -> Instruction | None:
    """The last ``COPY``/``ADD`` before ``step`` that copies the edited file (or the whole context)."""
    found = before(stages, step)
    if found is None:
        return None
    hit = None
    for instruction in found[1]:
        sources = copy_sources(instruction)
        if any(covers(s, edited) if edited else s.strip().removeprefix("./") in ("", ".") for s in sources):
            hit = instruction
    return hit


def global_args(dockerfile: str) -> dict[str, str | None]:
    """The ``ARG``s before the first ``FROM`` (the only ones a ``FROM`` line may use), with their defaults."""
    found: dict[str, str | None] = {}
    for line in _logical_lines(dockerfile):
        match = _WORD.match(line)
        if not match:
            continue
        keyword, rest = match.group(1).upper(), match.group(2).strip()
        if keyword == "FROM":
            break
        if keyword == "ARG":
            for word in rest.split():
                name, equals, default = word.partition("=")
                found[name] = default.strip("\"'") if equals else None
    return found


_VARIABLE = re.compile(r"\$(?:\{(\w+)(?::([-+])([^}]*))?\}|(\w+))")


def substitute(text: str, values: dict[str, str | None]) -> str | None:
    """``text`` with ``$NAME``, ``${NAME}``, ``${NAME:-word}`` and ``${NAME:+word}`` replaced as a
    Dockerfile's ``FROM`` does; None when a variable has no value (the name cannot be told)."""
    unknown = False

    def value(match: re.Match[str]) -> str:
        nonlocal unknown
        name = match.group(1) or match.group(4)
        known = values.get(name)
        if match.group(2) == "-":
            return known if known else match.group(3)
        if match.group(2) == "+":
            return match.group(3) if known else ""
        if known is None:
            unknown = True
            return ""
        return known

    replaced = _VARIABLE.sub(value, text)
    return None if unknown else replaced


def final_base(dockerfile: str, build_args: dict[str, str], target: str | None = None) -> str | None:
    """The image the built stage finally stands on: the ``FROM`` of ``target`` (or of the last stage),
    followed through earlier stages it is built from, with build args and global ``ARG`` defaults
    substituted; ``scratch`` for a stage from nothing; None when it cannot be told (no stage, an
    ``ARG`` without a value, a stage chain that loops)."""
    stages = parse(dockerfile)
    if not stages:
        return None
    values = {**global_args(dockerfile)}
    values.update({name: value for name, value in build_args.items() if name in values})
    by_name = {stage.name.lower(): stage for stage in stages}
    stage = by_name.get(target.lower()) if target else stages[-1]
    seen: set[str] = set()
    while stage is not None:
        if stage.name in seen:
            return None
        seen.add(stage.name)
        base = substitute(stage.base, values)
        if base is None:
            return None
        earlier = by_name.get(base.lower())
        if earlier is None or stages.index(earlier) >= stages.index(stage):
            return base
        stage = earlier
    return None


def env_before(stages: list[Stage], step: str) -> dict[str, str]:
    """The variables the ``ENV`` and ``ARG NAME=default`` instructions before ``step`` give it (what a
    ``--build-arg`` sets is not in the Dockerfile and not here)."""
    found = before(stages, step)
    env: dict[str, str] = {}
    for instruction in found[1] if found is not None else []:
        if instruction.keyword not in ("ENV", "ARG"):
            continue
        try:
            words = shlex.split(instruction.arguments)
        except ValueError:
            continue
        if instruction.keyword == "ENV" and len(words) >= 2 and "=" not in words[0]:
            env[words[0]] = " ".join(words[1:])  # the old form: ENV NAME value
            continue
        for word in words:
            name, sep, value = word.partition("=")
            if sep:
                env[name] = value
    return env

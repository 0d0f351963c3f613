"""The simple commands of a ``RUN`` step, as they would run, and where each one's output goes.

Reads a step's command the way a POSIX shell would, enough to tell where each simple command's
stdout and stderr go (the build log, a file, ``/dev/null``, a pipe into a filter): ``&&``/``||``/``;``
chains, pipelines (``|``, ``|&``), redirections in order (``> f 2>&1`` hides stderr, ``2>&1 > f``
does not), ``exec`` redirections, groups and subshells, ``sh -c``/``bash -c`` scripts, environment
prefixes and ``export``, ``cd``, ``env``/``time``/``nice`` wrappers, the JSON (exec) form of ``RUN``.
The words come from :mod:`pytest_rustimage.cachecheck.shell_tokens`; what cargo does with them is
:mod:`pytest_rustimage.cachecheck.cargo_steps`'s to read.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from pytest_rustimage.cachecheck.shell_tokens import Redirect, Token, tokens

_WRAPPERS = frozenset({"time", "nice", "nohup", "command", "exec", "stdbuf", "timeout", "env", "!"})
_KEYWORDS = frozenset({"if", "then", "else", "elif", "do", "while", "until", "{", "}", "fi", "done"})
_SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh"})
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
LOG = "log"  # where a file descriptor writes: the build log, or a description of elsewhere


@dataclass(frozen=True)
class Command:
    """One simple command of a step, as it would run: its words, and what the shell had set up for it."""

    words: tuple[str, ...]  # without assignments and redirections
    env: tuple[tuple[str, str], ...]  # variables set in the step's shell or as prefixes (sorted)
    cwd: tuple[str, ...]  # the ``cd`` targets before it in the step
    stdout: str  # "log" or where else it goes
    stderr: str
    mount: bool = False  # the step has RUN --mount flags (a cache mount's contents are not the layer's)
    certain: bool = True  # it ran if the step succeeded (not after ``||``, not inside ``if``/loops)


def commands(instruction: str, env: Mapping[str, str] | None = None) -> list[Command]:
    """The simple commands of ``RUN …`` (``instruction`` as a log or Dockerfile shows it), in order;
    ``env`` is the environment the Dockerfile gives the step (``ENV``, ``ARG``)."""
    text = instruction.strip()
    if text[:3].upper() == "RUN":
        text = text[3:].strip()
    mount = False
    while text.startswith("--"):  # RUN --mount=… --network=…
        flag, _, text = text.partition(" ")
        mount = mount or flag.startswith("--mount")
        text = text.strip()
    shell = _Shell(dict(env or {}), mount)
    if text.startswith("["):
        try:
            words = [str(w) for w in json.loads(text)]
        except ValueError:
            words = []
        if words:
            shell.simple(words, [], {1: LOG, 2: LOG})
            return shell.found
    shell.script(text, {1: LOG, 2: LOG})
    return shell.found


class _Shell:
    """Walks a script's commands with the state that decides where cargo's output goes."""

    def __init__(self, env: dict[str, str], mount: bool) -> None:
        self.env = env
        self.cwd: list[str] = []
        self.mount = mount
        self.found: list[Command] = []
        self.maybe = False  # after ``||`` in the current and-or list
        self.depth = 0  # inside if/while/until/for/case

    def script(self, text: str, fds: dict[int, str]) -> None:
        self._list(tokens(text), 0, dict(fds), closing=None)

    def _list(self, tokens: list[Token], pos: int, fds: dict[int, str], closing: str | None) -> int:
        """Run commands from ``pos`` to the end, or to ``closing`` (")" or "}"); returns where it stopped."""
        pipeline: list[tuple[list[str], list[Redirect], str]] = []  # words, redirections, the pipe after it
        words: list[str] = []
        redirs: list[Redirect] = []
        while pos < len(tokens):
            kind, value = tokens[pos]
            if not words and ((kind == "op" and value == "(") or (kind == "word" and value == "{")):
                inner = ")" if value == "(" else "}"
                saved = (dict(self.env), list(self.cwd)) if inner == ")" else None
                group_fds = dict(fds)
                start = len(self.found)
                pos = self._list(tokens, pos + 1, group_fds, closing=inner)
                # redirections after the group apply to every command in it
                after: list[Redirect] = []
                while pos < len(tokens) and tokens[pos][0] == "redir":
                    after.append(tokens[pos][1])  # type: ignore[arg-type]
                    pos += 1
                if after:
                    outer = _apply(dict(fds), after)
                    self.found[start:] = [_rehome(c, outer, fds) for c in self.found[start:]]
                if saved is not None:
                    self.env, self.cwd = saved
                continue
            if closing is not None and (
                (kind == "op" and value == closing == ")") or (kind == "word" and value == closing == "}" and not words)
            ):
                self._pipeline(pipeline, words, redirs, fds)
                return pos + 1
            if kind == "word":
                words.append(str(value))
            elif kind == "redir":
                redirs.append(value)  # type: ignore[arg-type]
            elif value in ("|", "|&"):
                pipeline.append((words, redirs, str(value)))
                words, redirs = [], []
            else:  # && || ; & newline
                self._pipeline(pipeline, words, redirs, fds)
                pipeline, words, redirs = [], [], []
                self.maybe = value == "||" or (self.maybe and value == "&&")
            pos += 1
        self._pipeline(pipeline, words, redirs, fds)
        return pos

    def _pipeline(
        self,
        pipeline: list[tuple[list[str], list[Redirect], str]],
        words: list[str],
        redirs: list[Redirect],
        fds: dict[int, str],
    ) -> None:
        parts = [*pipeline, (words, redirs, "")]
        for index, (part_words, part_redirs, pipe) in enumerate(parts):
            own = dict(fds)
            if pipe:
                consumer = _program(parts[index + 1][0])
                into = LOG if consumer in ("tee", "cat") else f"a pipe into `{consumer or '?'}`"
                own[1] = into
                if pipe == "|&":
                    own[2] = into
            self.simple(part_words, part_redirs, own, persistent=fds if not pipeline else None)

    def simple(
        self,
        words: list[str],
        redirs: list[Redirect],
        fds: dict[int, str],
        persistent: dict[int, str] | None = None,
    ) -> None:
        assigned: dict[str, str] = {}
        while words and _ASSIGNMENT.match(words[0]):
            name, _sep, value = words[0].partition("=")
            assigned[name] = value
            words = words[1:]
        while words and words[0] in _KEYWORDS:
            self.depth += {"if": 1, "while": 1, "until": 1, "fi": -1, "done": -1}.get(words[0], 0)
            words = words[1:]
        if words and words[0] in ("for", "case", "esac"):
            self.depth += 1 if words[0] != "esac" else -1
            return
        if not words:
            if not redirs:
                self.env.update(assigned)  # VAR=value on its own: for the rest of the script
            return
        own = _apply(dict(fds), redirs)
        name = words[0]
        if name == "exec" and len(words) == 1 and persistent is not None:
            persistent.update(own)  # ``exec >/dev/null 2>&1``: for the rest of the script
            return
        if name == "export":
            for word in words[1:]:
                if "=" in word:
                    key, _sep, value = word.partition("=")
                    self.env[key] = value
            return
        if name == "cd":
            self.cwd.append(words[1] if len(words) > 1 else "~")
            return
        words = _unwrap(words, assigned)
        env = {**self.env, **assigned}
        if words and words[0].rsplit("/", 1)[-1] in _SHELLS:
            script = _dash_c(words)
            if script is not None:
                inner = _Shell(env, self.mount)
                inner.cwd = list(self.cwd)
                inner.script(script, own)
                unsure = self.maybe or self.depth > 0
                self.found += [dataclasses.replace(c, certain=False) if unsure else c for c in inner.found]
                return
        if not words:
            return
        self.found.append(
            Command(
                tuple(words),
                tuple(sorted(env.items())),
                tuple(self.cwd),
                own.get(1, LOG),
                own.get(2, LOG),
                self.mount,
                certain=not self.maybe and self.depth <= 0,
            )
        )


def _apply(fds: dict[int, str], redirs: list[Redirect]) -> dict[int, str]:
    for redir in redirs:
        if redir.dup:
            source = "closed" if redir.target == "-" else fds.get(int(redir.target), LOG)
            if redir.fd is not None:
                fds[redir.fd] = source
            continue
        target = redir.target or "?"
        if redir.fd is None:
            fds[1] = fds[2] = target
        else:
            fds[redir.fd] = target
    return fds


def _rehome(command: Command, outer: dict[int, str], inner: dict[int, str]) -> Command:
    """A command of a group whose output the group's own redirections send elsewhere."""
    stdout = outer[1] if command.stdout == inner.get(1, LOG) == LOG else command.stdout
    stderr = outer[2] if command.stderr == inner.get(2, LOG) == LOG else command.stderr
    return Command(command.words, command.env, command.cwd, stdout, stderr, command.mount)


def _program(words: list[str]) -> str:
    rest = [w for w in words if not _ASSIGNMENT.match(w)]
    rest = _unwrap(rest, {})
    return rest[0].rsplit("/", 1)[-1] if rest else ""


def _unwrap(words: list[str], assigned: dict[str, str]) -> list[str]:
    """The command under ``env``/``time``/``nice``/… wrappers; ``env``'s assignments go to ``assigned``."""
    while words and words[0].rsplit("/", 1)[-1] in _WRAPPERS:
        wrapper, words = words[0].rsplit("/", 1)[-1], words[1:]
        if wrapper == "env":
            while words and (words[0].startswith("-") or _ASSIGNMENT.match(words[0])):
                if _ASSIGNMENT.match(words[0]):
                    key, _sep, value = words[0].partition("=")
                    assigned[key] = value
                elif words[0] in ("-u", "--unset", "-C", "--chdir", "-S"):
                    words = words[1:]
                words = words[1:]
        elif wrapper in ("nice", "stdbuf", "timeout", "time"):
            while words and words[0].startswith("-"):
                takes = wrapper == "nice" and words[0] == "-n"
                words = words[2:] if takes else words[1:]
            if wrapper == "timeout" and words:
                words = words[1:]  # the duration
        elif wrapper in ("command", "exec"):
            while words and words[0].startswith("-"):
                words = words[1:]
    return words


def _dash_c(words: list[str]) -> str | None:
    """The script of ``sh -c SCRIPT`` (flags may be grouped: ``sh -ec``); None without ``-c``."""
    for index, word in enumerate(words[1:], start=1):
        if word.startswith("-") and not word.startswith("--") and "c" in word[1:]:
            return words[index + 1] if index + 1 < len(words) else ""
        if not word.startswith("-"):
            return None
    return None

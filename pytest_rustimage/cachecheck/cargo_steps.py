"""Which cargo commands a ``RUN`` step runs, and whether cargo's output can reach the build log.

The cache verdict reads cargo's ``Compiling`` lines; a step whose cargo prints none may have compiled
nothing, or may have hidden what it compiled: ``-q``/``--quiet``, ``CARGO_TERM_QUIET``, ``--config
term.quiet=true``, or its stderr (where cargo writes ``Compiling`` and ``Finished``, also with
``--message-format=json``, whose JSON goes to stdout) sent to a file, ``/dev/null`` or a filter.
This module reads a step's command the way a POSIX shell would, enough to tell: ``&&``/``||``/``;``
chains, pipelines (``|``, ``|&``), redirections in order (``> f 2>&1`` hides stderr, ``2>&1 > f``
does not), ``exec`` redirections, groups and subshells, ``sh -c``/``bash -c`` scripts, environment
prefixes and ``export``, ``env``/``time``/``nice`` wrappers, the JSON (exec) form of ``RUN``.

It only reads text: what it cannot follow it leaves to the verdict's second test, the log itself
(a step that ran cargo and shows no ``Finished`` line hid its output somehow).
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

# cargo subcommands that compile crates (and print Compiling/Finished); chef and auditable take a second word
COMPILING = frozenset({"build", "b", "rustc", "install", "test", "t", "bench", "run", "r", "doc", "d", "zigbuild"})
TWO_WORDS = {"chef": frozenset({"cook"}), "auditable": frozenset({"build", "install"})}
_CARGO_VALUE_FLAGS = frozenset({"--config", "-Z", "-C", "--color", "--explain"})  # before the subcommand
_SHORT_VALUE_FLAGS = "pjFZC"  # short flags of the subcommands that take a value (``-p NAME``)
_WRAPPERS = frozenset({"time", "nice", "nohup", "command", "exec", "stdbuf", "timeout", "env", "!"})
_KEYWORDS = frozenset({"if", "then", "else", "elif", "do", "while", "until", "{", "}", "fi", "done"})
_SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh"})
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_LOG = "log"  # where a file descriptor writes: the build log, or a description of elsewhere


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


@dataclass(frozen=True)
class CargoRun:
    """A cargo command that compiles, and why its output cannot reach the log (empty: it can)."""

    command: Command
    hidden: tuple[str, ...] = ()
    key: tuple[object, ...] = field(default=(), compare=False)  # the run without what only hides output


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
            shell.simple(words, [], {1: _LOG, 2: _LOG})
            return shell.found
    shell.script(text, {1: _LOG, 2: _LOG})
    return shell.found


def cargo_runs(instruction: str, env: Mapping[str, str] | None = None) -> list[CargoRun]:
    """The compiling cargo commands of a ``RUN`` step, each with the reasons its output is hidden."""
    return [run for command in commands(instruction, env) if (run := judge(command)) is not None]


# programs that do not run cargo, and cargo's subcommands that compile nothing: a step that runs only
# these after the edited sources came in compiled nothing; any other program (``./build.sh``, ``make``)
# may run cargo out of the command's sight
NOT_CARGO = frozenset({
    "ls", "cp", "mv", "rm", "mkdir", "rmdir", "touch", "chmod", "chown", "ln", "cat", "echo", "printf", "true",
    "false", "test", "[", "sed", "awk", "grep", "find", "tar", "gzip", "gunzip", "unzip", "strip", "install",
    "apt-get", "apt", "apk", "dnf", "yum", "microdnf", "useradd", "groupadd", "adduser", "addgroup", "sha256sum",
    "md5sum", "cut", "tr", "sort", "uniq", "head", "tail", "wc", "date", "sleep", "pwd", "id", "whoami", "which",
    "readlink", "realpath", "basename", "dirname", "tee", "file", "du", "df", "stat", "env", "mktemp", "curl", "wget",
})  # fmt: skip
QUIET_CARGO = frozenset({
    "fetch", "metadata", "vendor", "generate-lockfile", "update", "tree", "version", "pkgid", "locate-project",
    "verify-project", "clean", "help", "new", "init", "add", "remove", "search", "login", "owner", "yank",
    "read-manifest", "--version", "-V", "--list",
})  # fmt: skip


def runs_no_cargo(command: Command) -> bool:
    """Whether ``command`` is a program known not to run cargo, or a cargo subcommand that compiles nothing."""
    name = command.words[0].rsplit("/", 1)[-1]
    if name != "cargo":
        return name in NOT_CARGO
    rest = [w for w in command.words[1:] if not w.startswith("+")]
    if rest[:2] == ["chef", "prepare"]:
        return True
    return bool(rest) and rest[0] in QUIET_CARGO


def subcommand(words: tuple[str, ...]) -> tuple[str, int] | None:
    """The compiling subcommand of a ``cargo`` command (``chef cook`` as one) and where its arguments
    start; None for another program or a subcommand that does not compile."""
    if not words or words[0].rsplit("/", 1)[-1] != "cargo":
        return None
    index = 1
    while index < len(words):
        word = words[index]
        if word.startswith("+") or (word.startswith("-") and "=" in word):
            index += 1
        elif word in _CARGO_VALUE_FLAGS:
            index += 2
        elif word.startswith("-"):
            index += 1
        else:
            break
    if index >= len(words):
        return None
    name = words[index]
    if name in TWO_WORDS:
        following = words[index + 1] if index + 1 < len(words) else ""
        return (f"{name} {following}", index + 2) if following in TWO_WORDS[name] else None
    return (name, index + 1) if name in COMPILING else None


def judge(command: Command) -> CargoRun | None:
    """The command as a :class:`CargoRun` when it is a compiling cargo command, else None."""
    found = subcommand(command.words)
    if found is None:
        return None
    name, start = found
    hidden: list[str] = []
    kept: list[str] = []
    words = command.words
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        if word == "--" and index > start:
            kept += words[index - 1 :]
            break
        if word == "--quiet" or (index > 1 and word[:1] == "-" and word[1:2] != "-" and _short_quiet(word[1:])):
            hidden.append(f"`{word}` (cargo's quiet flag)")
        elif word == "--config" and index < len(words) and _quiet_config(words[index]):
            hidden.append(f"`--config {words[index]}`")
            index += 1
        elif word.startswith("--config=") and _quiet_config(word.partition("=")[2]):
            hidden.append(f"`{word}`")
        else:
            kept.append(word)
    quiet_env = dict(command.env).get("CARGO_TERM_QUIET", "")
    if quiet_env.lower() not in ("", "false"):
        hidden.append(f"CARGO_TERM_QUIET={quiet_env}")
    if command.stderr != _LOG:
        json_note = (
            " (with --message-format=json cargo still writes Compiling/Finished to stderr)"
            if any("--message-format" in w and "json" in w for w in command.words)
            else ""
        )
        hidden.append(f"cargo's stderr goes to {command.stderr}{json_note}")
    env = tuple((k, v) for k, v in command.env if k != "CARGO_TERM_QUIET")
    return CargoRun(command, tuple(hidden), (name, tuple(kept), env, command.cwd))


def _short_quiet(letters: str) -> bool:
    """``-q``, or a cluster of short flags with ``q`` before any flag that takes a value (``-rq``)."""
    for letter in letters:
        if letter == "q":
            return True
        if letter in _SHORT_VALUE_FLAGS or not letter.isalpha():
            return False
    return False


def _quiet_config(value: str) -> bool:
    compact = value.replace(" ", "").replace("'", "").replace('"', "")
    return compact.startswith("term.quiet=") and compact.split("=", 1)[1].lower() != "false"


# --- a small shell reader -------------------------------------------------------------------------------

_OPERATORS = ("&&", "||", ";;", "|&", ";", "|", "&", "(", ")", "\n")


@dataclass
class _Redirect:
    fd: int | None  # None: both stdout and stderr (``&>``, ``>& file``)
    target: str
    dup: bool  # ``N>&M``: a copy of descriptor M


def _tokens(text: str) -> list[tuple[str, object]]:
    """("word", str), ("op", str) and ("redir", _Redirect) tokens of a shell script."""
    out: list[tuple[str, object]] = []
    i, n = 0, len(text)
    word: list[str] = []
    started = False  # a word is under way (quotes make an empty word)

    def end() -> None:
        nonlocal started
        if started:
            out.append(("word", "".join(word)))
        word.clear()
        started = False

    while i < n:
        c = text[i]
        if c in " \t":
            end()
            i += 1
        elif c == "#" and not started:
            while i < n and text[i] != "\n":
                i += 1
        elif c == "\\":
            if i + 1 < n and text[i + 1] == "\n":
                i += 2
                continue
            word.append(text[i + 1] if i + 1 < n else "")
            started = True
            i += 2
        elif c == "'":
            close = text.find("'", i + 1)
            close = n if close < 0 else close
            word.append(text[i + 1 : close])
            started = True
            i = close + 1
        elif c == '"':
            i += 1
            while i < n and text[i] != '"':
                if text[i] == "\\" and i + 1 < n and text[i + 1] in '"\\$`':
                    i += 1
                word.append(text[i])
                i += 1
            started = True
            i += 1
        elif c == "$" and text[i + 1 : i + 2] == "(":
            depth, j = 0, i + 1
            while j < n:
                depth += {"(": 1, ")": -1}.get(text[j], 0)
                j += 1
                if depth == 0:
                    break
            word.append(text[i:j])
            started = True
            i = j
        elif c == "`":
            close = text.find("`", i + 1)
            close = n if close < 0 else close
            word.append(text[i : close + 1])
            started = True
            i = close + 1
        elif c in "<>" or (c == "&" and text[i + 1 : i + 2] == ">"):
            fd: int | None
            if c == "&":
                fd, i = None, i + 1
            elif started and "".join(word).isdigit():
                fd = int("".join(word))
                word.clear()
                started = False
            else:
                end()
                fd = 0 if c == "<" else 1
            op = text[i]
            i += 1
            while i < n and text[i] in "<>&|-":
                if text[i] == "&" and op.endswith("&"):
                    break
                op += text[i]
                i += 1
                if op in (">&", "<&", ">>", "<<", ">|"):
                    if op in (">>",) and i < n and text[i] == "&":
                        continue
                    break
            while i < n and text[i] in " \t":
                i += 1
            target_tokens = _tokens(_first_word(text, i))
            target = str(target_tokens[0][1]) if target_tokens and target_tokens[0][0] == "word" else ""
            i += len(_first_word(text, i))
            if op.startswith("<"):
                continue  # input: no effect on where output goes
            dup = op.endswith("&") and (target.isdigit() or target == "-")
            if op.endswith("&") and not dup:  # ``>& file``: both descriptors
                fd = None
            out.append(("redir", _Redirect(fd, target, dup)))
        else:
            for op in _OPERATORS:
                if text.startswith(op, i):
                    end()
                    out.append(("op", op))
                    i += len(op)
                    break
            else:
                word.append(c)
                started = True
                i += 1
    end()
    return out


def _first_word(text: str, i: int) -> str:
    """The raw text of the shell word starting at ``i`` (quotes kept)."""
    j, quote = i, ""
    while j < len(text):
        c = text[j]
        if quote:
            if c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
        elif c in " \t\n;&|()<>":
            break
        elif c == "\\":
            j += 1
        j += 1
    return text[i:j]


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
        tokens = _tokens(text)
        self._list(tokens, 0, dict(fds), closing=None)

    def _list(self, tokens: list[tuple[str, object]], pos: int, fds: dict[int, str], closing: str | None) -> int:
        """Run commands from ``pos`` to the end, or to ``closing`` (")" or "}"); returns where it stopped."""
        pipeline: list[tuple[list[str], list[_Redirect], str]] = []  # words, redirections, the pipe after it
        words: list[str] = []
        redirs: list[_Redirect] = []
        while pos < len(tokens):
            kind, value = tokens[pos]
            if not words and ((kind == "op" and value == "(") or (kind == "word" and value == "{")):
                inner = ")" if value == "(" else "}"
                saved = (dict(self.env), list(self.cwd)) if inner == ")" else None
                group_fds = dict(fds)
                start = len(self.found)
                pos = self._list(tokens, pos + 1, group_fds, closing=inner)
                # redirections after the group apply to every command in it
                after: list[_Redirect] = []
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
        pipeline: list[tuple[list[str], list[_Redirect], str]],
        words: list[str],
        redirs: list[_Redirect],
        fds: dict[int, str],
    ) -> None:
        parts = [*pipeline, (words, redirs, "")]
        for index, (part_words, part_redirs, pipe) in enumerate(parts):
            own = dict(fds)
            if pipe:
                consumer = _program(parts[index + 1][0])
                into = _LOG if consumer in ("tee", "cat") else f"a pipe into `{consumer or '?'}`"
                own[1] = into
                if pipe == "|&":
                    own[2] = into
            self.simple(part_words, part_redirs, own, persistent=fds if not pipeline else None)

    def simple(
        self,
        words: list[str],
        redirs: list[_Redirect],
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
                own.get(1, _LOG),
                own.get(2, _LOG),
                self.mount,
                certain=not self.maybe and self.depth <= 0,
            )
        )


def _apply(fds: dict[int, str], redirs: list[_Redirect]) -> dict[int, str]:
    for redir in redirs:
        if redir.dup:
            source = "closed" if redir.target == "-" else fds.get(int(redir.target), _LOG)
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
    stdout = outer[1] if command.stdout == inner.get(1, _LOG) == _LOG else command.stdout
    stderr = outer[2] if command.stderr == inner.get(2, _LOG) == _LOG else command.stderr
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

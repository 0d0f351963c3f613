"""Which cargo commands a ``RUN`` step runs, and whether cargo's output can reach the build log.

The cache verdict reads cargo's ``Compiling`` lines; a step whose cargo prints none may have compiled
nothing, or may have hidden what it compiled: ``-q``/``--quiet``, ``CARGO_TERM_QUIET``, ``--config
term.quiet=true``, or its stderr (where cargo writes ``Compiling`` and ``Finished``, also with
``--message-format=json``, whose JSON goes to stdout) sent to a file, ``/dev/null`` or a filter.
The shell reading (chains, pipelines, redirections in order, groups, ``sh -c`` scripts, environment
prefixes and wrappers) is :mod:`pytest_rustimage.cachecheck.shell_commands`'s; this module reads each
simple command it finds for cargo: the subcommand that compiles, its quiet flags and configs, and
whether its stderr reaches the log.

It only reads text: what it cannot follow it leaves to the verdict's second test, the log itself
(a step that ran cargo and shows no ``Finished`` line hid its output somehow).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from pytest_rustimage.cachecheck.shell_commands import LOG, Command, commands

# cargo subcommands that compile crates (and print Compiling/Finished); chef and auditable take a second word
COMPILING = frozenset({"build", "b", "rustc", "install", "test", "t", "bench", "run", "r", "doc", "d", "zigbuild"})
TWO_WORDS = {"chef": frozenset({"cook"}), "auditable": frozenset({"build", "install"})}
_CARGO_VALUE_FLAGS = frozenset({"--config", "-Z", "-C", "--color", "--explain"})  # before the subcommand
_SHORT_VALUE_FLAGS = "pjFZC"  # short flags of the subcommands that take a value (``-p NAME``)


@dataclass(frozen=True)
class CargoRun:
    """A cargo command that compiles, and why its output cannot reach the log (empty: it can)."""

    command: Command
    hidden: tuple[str, ...] = ()
    key: tuple[object, ...] = field(default=(), compare=False)  # the run without what only hides output


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
    if command.stderr != LOG:
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

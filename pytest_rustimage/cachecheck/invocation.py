"""What a compiling cargo command asks of cargo that decides which build of a dependency it needs.

cargo keeps one build of a dependency per *unit*: its profile, the features it is compiled with, the
target, the compiler and its flags. A dependency step (``cargo chef cook``, or ``cargo build`` against
a placeholder) serves a later ``cargo build`` only where the two ask for the same units. This module
reads a command (from :mod:`pytest_rustimage.cachecheck.shell_commands`) into an :class:`Invocation`
and names the differences between two of them (:func:`differences`), for the cache verdict's "why it
rebuilt" (:mod:`pytest_rustimage.cachecheck.why`).

Read: ``--release``/``-r``, ``--profile``, ``--debug`` (``cargo install``), ``--features``/``-F`` (comma
or space separated, repeated), ``--all-features``, ``--no-default-features``, ``--target``,
``-p``/``--package``, ``--workspace``/``--all``, ``--config`` values, a ``+toolchain``,
and the variables that change a unit (``RUSTFLAGS``, ``CARGO_ENCODED_RUSTFLAGS``, ``RUSTUP_TOOLCHAIN``,
``CARGO_BUILD_*``, ``CARGO_PROFILE_*``, ``CARGO_TARGET_*``) from the step's ``ENV``/``ARG`` or an inline prefix.
"""

from __future__ import annotations

from dataclasses import dataclass

from pytest_rustimage.cachecheck import cargo_steps
from pytest_rustimage.cachecheck.shell_commands import Command

_ENV_PREFIXES = ("CARGO_BUILD_", "CARGO_PROFILE_", "CARGO_TARGET_")
_ENV_NAMES = frozenset({"RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "RUSTUP_TOOLCHAIN", "RUSTC"})
_VALUED = {
    "--profile": "profile",
    "--features": "features",
    "-F": "features",
    "--target": "target",
    "-p": "packages",
    "--package": "packages",
    "--config": "config",
}


@dataclass(frozen=True)
class Invocation:
    """The parts of a compiling cargo command that choose the units it builds."""

    subcommand: str  # "build", "chef cook", ...
    profile: str  # "dev", "release" or a custom profile's name
    features: tuple[str, ...]  # as given with --features, in their order
    all_features: bool
    default_features: bool  # False with --no-default-features
    target: str  # "" for the host
    packages: tuple[str, ...]  # -p/--package, sorted ("": the default members)
    workspace: bool
    config: tuple[str, ...]  # --config values, sorted
    toolchain: str  # +toolchain ("" for none)
    env: tuple[tuple[str, str], ...]  # the variables that change a unit, sorted

    @property
    def name(self) -> str:
        """How a person calls the command: "the cook", "the build"."""
        return "the cook" if self.subcommand == "chef cook" else f"`cargo {self.subcommand}`"


def read(command: Command) -> Invocation | None:
    """The command as an :class:`Invocation`; None when it is no compiling cargo command."""
    found = cargo_steps.subcommand(command.words)
    if found is None:
        return None
    name, start = found
    values: dict[str, list[str]] = {key: [] for key in set(_VALUED.values())}
    flags: set[str] = set()
    words = command.words
    index = start
    while index < len(words):
        word = words[index]
        index += 1
        if word == "--":
            break
        key, sep, value = word.partition("=")
        if sep and key in _VALUED:
            values[_VALUED[key]].append(value)
        elif word in _VALUED and index < len(words):
            values[_VALUED[word]].append(words[index])
            index += 1
        elif word[:2] in ("-p", "-F") and len(word) > 2:
            values[_VALUED[word[:2]]].append(word[2:])
        else:
            flags.add(word)
    profile = values["profile"][-1] if values["profile"] else ""
    if not profile:
        release = "--release" in flags or "-r" in flags or (name == "install" and "--debug" not in flags)
        profile = "release" if release else "dev"
    features = dict.fromkeys(f for given in values["features"] for f in given.replace(",", " ").split())
    env = dict(command.env)
    toolchain = next((w[1:] for w in words[1:start] if w.startswith("+")), "")
    return Invocation(
        subcommand=name,
        profile=profile,
        features=tuple(features),
        all_features="--all-features" in flags,
        default_features="--no-default-features" not in flags,
        target=values["target"][-1] if values["target"] else env.get("CARGO_BUILD_TARGET", ""),
        packages=tuple(sorted(set(values["packages"]))),
        workspace="--workspace" in flags or "--all" in flags,
        config=tuple(sorted(values["config"])),
        toolchain=toolchain,
        env=tuple(sorted((k, v) for k, v in env.items() if k in _ENV_NAMES or k.startswith(_ENV_PREFIXES))),
    )


def feature_words(run: Invocation) -> str:
    """The features a command asks for, as a person would say them."""
    if run.all_features:
        return "--all-features"
    listed = f"--features {','.join(run.features)}" if run.features else ""
    if not run.default_features:
        return f"--no-default-features {listed}".strip()
    return f"default features and {listed}" if listed else "default features"


def _selection(run: Invocation) -> str:
    parts = [f"-p {','.join(run.packages)}"] if run.packages else []
    if run.workspace:
        parts.append("--workspace")
    return " ".join(parts) or "the default members"


def _env_words(run: Invocation) -> str:
    return " ".join(f"{k}={v}" for k, v in run.env) or "none of them set"


def same_features(a: Invocation, b: Invocation) -> bool:
    """Whether two commands ask for the same features (in any order)."""
    return (a.all_features, a.default_features, sorted(a.features)) == (
        b.all_features,
        b.default_features,
        sorted(b.features),
    )


def differences(dep: Invocation, build: Invocation) -> list[str]:
    """What differs between the dependency step's command and the build's, each as
    ``"what: the cook …; the build …"``, in the order of how often it is the cause. ``--bin`` is not
    compared (it picks targets of the same packages: their dependencies' units stay the same), and the
    package selection only when nothing else differs (it changes the units only where it changes the
    features cargo unifies)."""
    a, b = dep.name, build.name
    found: list[str] = []
    if not same_features(dep, build):
        found.append(f"features: {a} built with {feature_words(dep)}; {b} uses {feature_words(build)}")
    if dep.profile != build.profile:
        found.append(f"profile: {a} built the {dep.profile} profile; {b} builds the {build.profile} profile")
    if dep.target != build.target:
        found.append(f"target: {a} built for {dep.target or 'the host'}; {b} builds for {build.target or 'the host'}")
    if dep.env != build.env:
        found.append(
            f"variables (RUSTFLAGS, CARGO_*): {a} ran with {_env_words(dep)}; {b} runs with {_env_words(build)}"
        )
    if dep.toolchain != build.toolchain:
        found.append(
            f"toolchain: {a} ran cargo {'+' + dep.toolchain if dep.toolchain else 'without +toolchain'}; "
            f"{b} {'+' + build.toolchain if build.toolchain else 'without +toolchain'}"
        )
    if dep.config != build.config:
        found.append(
            f"--config: {a} ran with {' '.join(dep.config) or 'none'}; {b} with {' '.join(build.config) or 'none'}"
        )
    if not found and (dep.packages, dep.workspace) != (build.packages, build.workspace):
        found.append(
            f"packages: {a} built {_selection(dep)}; {b} builds {_selection(build)} (cargo unifies the "
            "features of a dependency over the packages it builds, so another selection can need other builds)"
        )
    return found

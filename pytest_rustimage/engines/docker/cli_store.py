"""Which ``docker`` CLI builds, and how, kept between runs: probing runs each candidate CLI once or
twice (:func:`pytest_rustimage.engines.docker.cli.probe_answer`), about 0.1 s on every run.

The answer follows from files alone: the candidate CLIs (in order; each one's real path and stat),
the ``docker-buildx`` plugin in each place the CLI looks for it (its config folder's ``cli-plugins``,
the extra folders its ``config.json`` names, and the system folders of docker/cli's
``cli-plugins/manager``), that ``config.json`` itself, and the settings that move or switch them
(``DOCKER_CONFIG``, ``DOCKER_CLI_EXPERIMENTAL``). So it is kept in the user's cache folder
(``cli/``) under a digest of those (:func:`cli_key`, pure), and probed again when any of them
changes. A stat is the file's device, inode, mode, size and modification and change times: a
reinstalled or ``chmod``-ed binary is another file. An answer that did not follow from the files (a
CLI that could not be run or timed out) is not kept; a kept file that is not this format's answer
for this key, or names a CLI that is not a candidate, is ignored and replaced.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pytest_rustimage.engines.docker.cli import DockerCli, probe_answer
from pytest_rustimage.errors import RustImageError
from pytest_rustimage.folders import cache_folder, write_private

FORMAT = 1
MODES = ("buildx", "buildkit-env", "legacy")
# docker/cli cli-plugins/manager (manager_unix.go), after the config folder's and the configured extra ones
SYSTEM_PLUGIN_DIRS = (
    "/usr/local/lib/docker/cli-plugins",
    "/usr/local/libexec/docker/cli-plugins",
    "/usr/lib/docker/cli-plugins",
    "/usr/libexec/docker/cli-plugins",
)
ENV = ("DOCKER_CONFIG", "DOCKER_CLI_EXPERIMENTAL")  # where the config is; 19.03 needed this for plugins
Stat = tuple[int, int, int, int, int, int] | None  # device, inode, mode, size, mtime_ns, ctime_ns; None: none
Probe = Callable[[Sequence[str], Mapping[str, str]], tuple[DockerCli | None, bool]]


@dataclass(frozen=True)
class CliFacts:
    """Everything the probe's answer depends on, as read from the files."""

    candidates: tuple[tuple[str, str, Stat], ...]  # path, real path, stat of the file it leads to
    config: tuple[str, Stat]  # the config folder's config.json
    plugins: tuple[tuple[str, Stat], ...]  # each place of docker-buildx, in the CLI's order
    env: tuple[tuple[str, str | None], ...]


def config_dir(env: Mapping[str, str]) -> str:
    """The CLI's config folder: ``$DOCKER_CONFIG``, else ``~/.docker``."""
    home = env.get("HOME") or os.path.expanduser("~")
    return env.get("DOCKER_CONFIG") or os.path.join(home, ".docker")


def plugin_places(config: str, extra_dirs: Sequence[str], system_dirs: Sequence[str]) -> list[str]:
    """Where the CLI looks for ``docker-buildx``, in its order of preference."""
    return [
        os.path.join(folder, "docker-buildx")
        for folder in (os.path.join(config, "cli-plugins"), *extra_dirs, *system_dirs)
    ]


def cli_key(facts: CliFacts) -> str:
    """The digest that names the answer for ``facts``."""
    data = [FORMAT, facts.candidates, facts.config, facts.plugins, facts.env]
    return hashlib.sha256(json.dumps(data).encode()).hexdigest()


def stat_of(path: str) -> Stat:
    """The stat of the file ``path`` leads to (links followed); None when there is none."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_dev, info.st_ino, info.st_mode, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def extra_plugin_dirs(config_file: str) -> list[str]:
    """The ``cliPluginsExtraDirs`` of the CLI's config file (none when it cannot be read)."""
    try:
        found = json.loads(Path(config_file).read_text()).get("cliPluginsExtraDirs") or []
    except (OSError, ValueError, AttributeError):
        return []
    return [str(folder) for folder in found] if isinstance(found, list) else []


def gather(
    candidates: Sequence[str], env: Mapping[str, str], system_dirs: Sequence[str] = SYSTEM_PLUGIN_DIRS
) -> CliFacts:
    """The facts of ``candidates`` and their plugins, read from the files."""
    config = config_dir(env)
    config_file = os.path.join(config, "config.json")
    places = plugin_places(config, extra_plugin_dirs(config_file), system_dirs)
    return CliFacts(
        candidates=tuple((path, os.path.realpath(path), stat_of(path)) for path in candidates),
        config=(config_file, stat_of(config_file)),
        plugins=tuple((place, stat_of(place)) for place in places),
        env=tuple((name, env.get(name)) for name in ENV),
    )


def kept_cli(
    candidates: Sequence[str],
    env: Mapping[str, str],
    *,
    probe: Probe = probe_answer,
    system_dirs: Sequence[str] = SYSTEM_PLUGIN_DIRS,
) -> DockerCli | None:
    """The CLI that builds among ``candidates`` (see :func:`pytest_rustimage.engines.docker.cli.probe_cli`):
    the kept answer for these files, else ``probe``'s (kept when it follows from the files)."""
    if not candidates:
        return probe(candidates, env)[0]
    key = cli_key(gather(candidates, env, system_dirs))
    try:
        path = cache_folder("cli") / f"docker-{key[:32]}.json"
    except RustImageError:  # no usable cache folder: probe, as without it
        return probe(candidates, env)[0]
    found = load(path, key, candidates)
    if found is not None:
        return found
    cli, exact = probe(candidates, env)
    if cli is not None and exact:
        with contextlib.suppress(RustImageError):  # an answer that cannot be kept is only not kept
            write_private(path, json.dumps({"format": FORMAT, "key": key, "path": cli.path, "mode": cli.mode}))
    return cli


def load(path: Path, key: str, candidates: Sequence[str]) -> DockerCli | None:
    """The answer kept at ``path`` for ``key``; None when there is none, or it is not one."""
    try:
        data = json.loads(path.read_text())
        if data["format"] != FORMAT or data["key"] != key:
            return None
        cli = DockerCli(str(data["path"]), str(data["mode"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return cli if cli.mode in MODES and cli.path in candidates else None

"""Which ``docker`` CLI builds, and with what: the CLIs on ``PATH`` are probed by running them.

docker-py only drives the legacy builder, so the Docker engine builds through a CLI: one with the
buildx plugin (``docker buildx build --load``), else a client older than 23.0 that still honours
``DOCKER_BUILDKIT=1``, else the first CLI at all with the legacy builder.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pytest_rustimage.engines.common import build_arguments
from pytest_rustimage.engines.protocol import BuildRequest


@dataclass(frozen=True)
class DockerCli:
    """A ``docker`` CLI and how it builds."""

    path: str
    mode: str  # "buildx", "buildkit-env" or "legacy"

    def build_command(self, request: BuildRequest, iidfile: Path, secrets: Sequence[str] = ()) -> list[str]:
        """The whole build command: this CLI's build words, then the flags every engine's builder takes."""
        cmd = [self.path]
        cmd += ["buildx", "build", "--load"] if self.mode == "buildx" else ["build"]
        if self.mode != "legacy":
            cmd.append("--progress=plain")
        return cmd + build_arguments(request, iidfile, secrets)


def docker_clis() -> list[str]:
    """Every executable ``docker`` on ``PATH``, in order, each real file once."""
    seen: set[str] = set()
    found: list[str] = []
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        candidate = os.path.join(folder or ".", "docker")
        if os.access(candidate, os.X_OK) and os.path.realpath(candidate) not in seen:
            seen.add(os.path.realpath(candidate))
            found.append(candidate)
    return found


def client_major(path: str, env: Mapping[str, str]) -> int | None:
    """The major version of the CLI's client, or None when it cannot say."""
    return _client_major(path, env)[0]


def _client_major(path: str, env: Mapping[str, str]) -> tuple[int | None, bool]:
    """:func:`client_major`, and whether its answer is the CLI's own (False when the CLI could not be
    run or did not finish: another try may say otherwise)."""
    try:
        done = subprocess.run(
            [path, "version", "--format", "{{.Client.Version}}"],
            capture_output=True,
            text=True,
            timeout=30,
            env=dict(env),
        )
    except (OSError, subprocess.TimeoutExpired):
        return None, False
    try:
        return int(done.stdout.strip().split(".")[0]), True
    except ValueError:  # no version: this CLI's own answer when it succeeded (a failure may pass)
        return None, done.returncode == 0


def probe_cli(candidates: Sequence[str], env: Mapping[str, str]) -> DockerCli | None:
    """The first CLI that can do BuildKit, else the first one at all (legacy)."""
    return probe_answer(candidates, env)[0]


def probe_answer(candidates: Sequence[str], env: Mapping[str, str]) -> tuple[DockerCli | None, bool]:
    """:func:`probe_cli`, and whether the answer follows from the files alone (the CLIs, their plugins
    and config): False when a CLI could not be run, timed out or was killed, since another try may
    answer otherwise; such an answer is not kept (:mod:`pytest_rustimage.engines.docker.cli_store`)."""
    exact = True
    for path in candidates:
        try:
            buildx = subprocess.run([path, "buildx", "version"], capture_output=True, timeout=30, env=dict(env))
        except (OSError, subprocess.TimeoutExpired):
            exact = False
            continue
        if buildx.returncode == 0:
            return DockerCli(path, "buildx"), exact
        exact = exact and buildx.returncode > 0  # a signal is no answer
        major, sure = _client_major(path, env)
        exact = exact and sure
        if major is not None and major < 23:
            return DockerCli(path, "buildkit-env"), exact
    # no CLI that does BuildKit: told by failures, which may pass (a plugin being installed, a config
    # folder not readable for a moment), so never kept; the machine is probed again next time
    return (DockerCli(candidates[0], "legacy") if candidates else None), False

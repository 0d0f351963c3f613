"""The engine's command line the hand recipes are built with, and what the benchmark records of the
machine (CPUs, memory, engine and toolchain versions, load)."""

from __future__ import annotations

import os
import platform
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.timing import first_line, loadavg
from pytest_rustimage.engines.docker.cli import DockerCli, docker_clis, probe_cli

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class EngineCli:
    """How the hand recipes are built: the engine's CLI, its build words and environment."""

    engine: str
    exe: str
    build_words: tuple[str, ...]
    env: Mapping[str, str]
    mode: str

    def build(
        self,
        context: Path,
        dockerfile: Path,
        tag: str,
        iidfile: Path,
        no_cache: bool,
        build_args: Mapping[str, str],
        labels: Mapping[str, str],
    ) -> list[str]:
        cmd = [self.exe, *self.build_words, "-f", str(dockerfile), "-t", tag, "--iidfile", str(iidfile)]
        if no_cache:
            cmd.append("--no-cache")
        for k, v in build_args.items():
            cmd += ["--build-arg", f"{k}={v}"]
        for k, v in labels.items():
            cmd += ["--label", f"{k}={v}"]
        return [*cmd, str(context)]


def _plugin_docker_cli(env: Mapping[str, str]) -> DockerCli | None:
    """The docker CLI the plugin itself would build with (its ``probe_cli``), None when not found."""
    return probe_cli(docker_clis(), env)


def find_engine_cli(engine: str) -> EngineCli:
    """The CLI the plugin itself would build with (``probe_cli``), BuildKit where it can."""
    env = dict(os.environ)
    if engine == "podman":
        env.setdefault("CONTAINERS_CONF", str(REPO / ".ci" / "containers.conf"))
        exe = shutil.which("podman") or "podman"
        return EngineCli("podman", exe, ("build", "--layers"), env, "buildah")
    cli = _plugin_docker_cli(env)
    if cli is None:
        return EngineCli("docker", "/usr/bin/docker", ("build",), {**env, "DOCKER_BUILDKIT": "1"}, "buildkit-env")
    mode = str(cli.mode)
    words: tuple[str, ...] = ("buildx", "build", "--load") if mode == "buildx" else ("build",)
    if mode != "legacy":
        env["DOCKER_BUILDKIT"] = "1"
    return EngineCli("docker", str(cli.path), words, env, mode)


def _memory_bytes() -> int:
    try:
        for ln in Path("/proc/meminfo").read_text().splitlines():
            if ln.startswith("MemTotal:"):
                return int(ln.split()[1]) * 1024
    except OSError:
        pass
    return 0


def machine(cli: EngineCli) -> dict[str, Any]:
    """nproc, memory, engine and toolchain versions, load."""
    docker_cli = cli.exe if cli.engine == "docker" else (shutil.which("docker") or "docker")
    return {
        "nproc": os.cpu_count(),
        "memory_bytes": _memory_bytes(),
        "platform": platform.platform(),
        "docker": first_line(
            [docker_cli, "version", "--format", "client {{.Client.Version}} server {{.Server.Version}}"]
        ),
        "docker_cli": f"{docker_cli} ({cli.mode})" if cli.engine == "docker" else docker_cli,
        "podman": first_line(["podman", "--version"]),
        "rustc": first_line(["rustc", "--version"]),
        "cargo_chef_host": first_line(["cargo", "chef", "--version"]),
        "python": platform.python_version(),
        "loadavg_start": loadavg(),
    }

"""Podman's OCI runtime on hosts like this project's machines: the known failures of crun and what
to change, buildah's storage race, and the RUN steps a stopped build leaves running."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from pytest_rustimage.engines.protocol import BuildOutput, LineSink
from pytest_rustimage.errors import BuildFailed

CRUN_HINT = (
    "Podman could not start the container with its runtime. On hosts with cgroup v1 (hybrid) or without "
    "CAP_SYS_RESOURCE, use runc and default ulimits at or below the hard limits in a containers.conf "
    "(point CONTAINERS_CONF at it):\n"
    '  [containers]\n  default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]\n'
    '  [engine]\n  runtime = "runc"'
)
CRUN_SIGNS = ("setrlimit", "cgroups in hybrid mode", "crun:", "OCI runtime error", 'OCI runtime "crun"')


def explain(stderr: str) -> str:
    """stderr, with what to change when it is one of the known runtime failures."""
    if any(sign in stderr for sign in CRUN_SIGNS):
        return f"{stderr.strip()}\n{CRUN_HINT}"
    return stderr.strip()


def crun_hint(log: str) -> str:
    """What a failed build's message adds when its log shows one of the known runtime failures."""
    return f"\n{CRUN_HINT}" if any(sign in log for sign in CRUN_SIGNS) else ""


# buildah before 1.43 (containers/buildah#5674, fixed by #6688) fails a build when an image it is
# looking at as a possible cache hit, or committing onto, loses its layer to a removal meanwhile
STORAGE_RACE_SIGNS = (
    "checking if cached image exists from a previous build: getting top layer info: layer not known",
    "committing the finished image: creating image",
)
STORAGE_RACE_RETRIES = 2


def storage_race(log: str) -> bool:
    """Whether a failed build's log ends in buildah's storage race, which building again gets past.

    Only the last lines count: a step's own output that quotes the message is not the race."""
    tail = log.strip().splitlines()[-3:]
    return any(
        sign in line and (sign != STORAGE_RACE_SIGNS[1] or "layer not known" in line)
        for line in tail
        for sign in STORAGE_RACE_SIGNS
    )


def retry_storage_race(attempt: Callable[[], BuildOutput], on_line: LineSink | None = None) -> BuildOutput:
    """``attempt()`` (one build), built again at most :data:`STORAGE_RACE_RETRIES` times when it fails in
    buildah's storage race.

    The result, or the failure, carries the logs of *all* attempts joined in order and their summed
    duration: a step that compiled crates in a lost attempt is cached in the next, so the last log alone
    would show the cache probe a rebuild that compiled nothing."""
    logs: list[str] = []
    spent = 0.0
    for number in range(1, STORAGE_RACE_RETRIES + 2):
        started = time.monotonic()
        try:
            built = attempt()
        except BuildFailed as exc:
            logs.append(exc.log)
            if number > STORAGE_RACE_RETRIES or exc.timed_out or not storage_race(exc.log):
                exc.log = "".join(logs)
                raise
            spent += time.monotonic() - started
            note = (
                "rust-image: buildah lost a layer to an image removed meanwhile (containers/buildah#5674); "
                f"building again ({number + 1} of {STORAGE_RACE_RETRIES + 1})"
            )
            logs[-1] = logs[-1].rstrip("\n") + f"\n{note}\n"
            if on_line is not None:
                on_line(note)
            continue
        if not logs:
            return built
        return dataclasses.replace(built, log="".join(logs) + built.log, duration=spent + built.duration)
    raise AssertionError("unreachable")


def stop_run_steps(hostnames: set[str], runtimes: Sequence[str] = ("runc", "crun")) -> int:
    """Stop the RUN steps that buildah started for the working containers whose short ids are ``hostnames``.

    Buildah runs each step as an OCI runtime container whose hostname is the working container's short id;
    when ``podman build`` is killed, that container goes on running. Only for a local engine. Returns how
    many it stopped."""
    stopped = 0
    for runtime in runtimes:
        try:
            listed = subprocess.run([runtime, "list", "-f", "json"], capture_output=True, text=True, timeout=30)
            entries = json.loads(listed.stdout or "null") or [] if listed.returncode == 0 else []
        except (OSError, subprocess.TimeoutExpired, json.JSONDecodeError):
            continue
        for entry in entries:
            bundle = Path(str(entry.get("bundle", "")))
            try:
                hostname = (bundle / "hostname").read_text().strip()
            except OSError:
                continue
            if hostname not in hostnames:
                continue
            ident = str(entry["id"])
            with contextlib.suppress(OSError, subprocess.TimeoutExpired):
                subprocess.run([runtime, "kill", ident, "KILL"], capture_output=True, timeout=30)
                subprocess.run([runtime, "delete", "--force", ident], capture_output=True, timeout=30)
            stopped += 1
    return stopped

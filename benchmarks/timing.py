"""Running commands: timed ones (wall-clock seconds of the whole command), set-up ones that must succeed,
one-line probes, and the machine's load."""

from __future__ import annotations

import os
import shlex
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

TAIL_LINES = 40


@dataclass
class Run:
    seconds: float
    returncode: int
    output: str  # stdout and stderr, tail only

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def tail(text: str, lines: int = TAIL_LINES) -> str:
    return "\n".join(text.splitlines()[-lines:])


def _run(cmd: Sequence[str], cwd: Path | None, env: Mapping[str, str] | None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(cmd),
        cwd=cwd,
        env=dict(env) if env is not None else None,
        capture_output=True,
        text=True,
        errors="replace",
    )


def timed(cmd: Sequence[str], cwd: Path | None = None, env: Mapping[str, str] | None = None) -> Run:
    """Wall-clock seconds of the whole command (``time.monotonic()`` around ``subprocess.run``)."""
    start = time.monotonic()
    proc = _run(cmd, cwd, env)
    seconds = time.monotonic() - start
    return Run(seconds, proc.returncode, tail(proc.stdout + proc.stderr))


def checked(cmd: Sequence[str], cwd: Path | None = None, env: Mapping[str, str] | None = None) -> str:
    """Run a set-up command (not measured); its stdout, or SystemExit with its output's tail."""
    proc = _run(cmd, cwd, env)
    if proc.returncode != 0:
        raise SystemExit(f"benchmark: {shlex.join(cmd)} failed ({proc.returncode}):\n{tail(proc.stdout + proc.stderr)}")
    return proc.stdout


def first_line(cmd: Sequence[str], env: Mapping[str, str] | None = None) -> str:
    """The first line the command prints (stdout, else stderr), ``not found`` when it prints nothing."""
    try:
        proc = subprocess.run(list(cmd), capture_output=True, text=True, timeout=60, env=env)
    except (OSError, subprocess.TimeoutExpired):
        return "not found"
    text = (proc.stdout or proc.stderr).strip()
    return text.splitlines()[0] if text else "not found"


def loadavg() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]

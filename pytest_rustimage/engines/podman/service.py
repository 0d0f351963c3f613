"""A Podman API service for one session: ``podman system service`` on a socket in a private folder.

Tools that speak the Docker API (testcontainers, docker-py) reach Podman through it. It is started on
first use, listens until stopped (``--time=0``), and is stopped by :meth:`PodmanService.stop`, which the
engine's ``close`` calls at the session's end (also after Ctrl-C, since pytest still unconfigures);
its folder goes with it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from pytest_rustimage.errors import EngineError

START_TIMEOUT = 30.0


class PodmanService:
    """One ``podman system service`` process and its socket."""

    def __init__(self, base_command: Sequence[str]) -> None:
        self._base = list(base_command)
        self._process: subprocess.Popen[bytes] | None = None
        self._folder: Path | None = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def url(self) -> str:
        """The service's ``unix://`` URL, started now if it is not running."""
        if not self.running:
            self._start()
        assert self._folder is not None
        return f"unix://{self._folder / 'podman.sock'}"

    def _start(self) -> None:
        self.stop()
        self._folder = Path(tempfile.mkdtemp(prefix="rust-image-podman-api-"))  # mode 0700: this user's only
        socket = self._folder / "podman.sock"
        log = (self._folder / "service.log").open("wb")
        self._process = subprocess.Popen(
            [*self._base, "system", "service", "--time=0", f"unix://{socket}"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as a whole, not by the terminal's Ctrl-C
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if socket.exists():
                return
            if self._process.poll() is not None:
                break
            time.sleep(0.05)
        said = (self._folder / "service.log").read_text(errors="replace").strip()[-500:]
        self.stop()
        raise EngineError(f"`podman system service` did not open its API socket within {START_TIMEOUT:g}s: {said}")

    def stop(self) -> None:
        """Stop the service (its whole process group) and remove its folder; nothing when not started."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=10)
            except (ProcessLookupError, PermissionError):
                pass
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

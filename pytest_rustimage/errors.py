"""Errors the plugin raises.

Every error a user can cause or meet carries what a person needs to act on it
(the file, the line, the build log, the exit code) and prints as a short,
complete message, never as an internal traceback.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


class RustImageError(Exception):
    """Root of every error the plugin raises on purpose."""


class ConfigError(RustImageError):
    """A setting (option, ini key, marker or Cargo metadata) is invalid."""


class CrateError(RustImageError):
    """The crate cannot be read: no manifest, bad TOML, no or unknown binary."""

    def __init__(self, message: str, path: Path | None = None, line: int | None = None) -> None:
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(where + message)
        self.path = path
        self.line = line


class BuilderUnsupported(RustImageError):
    """The engine's builder cannot build this strategy (it lacks a feature the Dockerfile needs)."""


class NotAnElfError(RustImageError):
    """A file that should be an executable is not an ELF file."""


class EngineUnavailable(RustImageError):
    """The container engine cannot be reached or does not work."""

    def __init__(self, engine: str, endpoint: str, reason: str) -> None:
        super().__init__(f"{engine} engine not reachable at {endpoint}: {reason}")
        self.engine = engine
        self.endpoint = endpoint
        self.reason = reason


class EngineError(RustImageError):
    """An engine call failed in a way the user cannot fix by changing the crate."""


class EngineGone(EngineError):
    """The engine answered before, but no longer does (it stopped, or its socket went away)."""

    def __init__(self, engine: str, endpoint: str, reason: str) -> None:
        super().__init__(f"{engine} engine at {endpoint} stopped answering: {reason}")
        self.engine = engine
        self.endpoint = endpoint
        self.reason = reason


def tail(text: str, lines: int = 50) -> str:
    """The last ``lines`` lines of ``text``."""
    return "\n".join(text.rstrip("\n").splitlines()[-lines:])


class BuildFailed(RustImageError):
    """The image build failed; carries the build log."""

    def __init__(self, reason: str, log: str, *, timed_out: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.log = log
        self.timed_out = timed_out

    def __str__(self) -> str:
        return f"{self.reason}\n--- last lines of the build log ---\n{tail(self.log)}"


class RunTimeout(RustImageError):
    """A container did not finish within its timeout (it was removed)."""

    def __init__(self, image: str, command: Sequence[str], timeout: float, output: str) -> None:
        shown = " ".join(command)
        super().__init__(
            f"`{shown}` in {image} did not finish within {timeout:g}s; the container was "
            f"stopped and removed.\n--- output so far ---\n{tail(output, 20)}"
        )
        self.image = image
        self.command = tuple(command)
        self.timeout = timeout
        self.output = output

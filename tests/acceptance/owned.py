"""Helpers for acceptance tests that build images of a crate of their own and clean up after them.

Other sessions may build on the same engines meanwhile, so such a test renames its copy of a sample
crate to a name no one else uses, and afterwards removes every image of that name on both engines
(with `prune --crate NAME --all --grace 0`, then by force whatever that left, which fails the test).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ENGINES = ("docker", "podman")
BUILD = ("--rust-image-engine=all", "--rust-image-strategy=static", "--rust-image-checks=build")


def rename(crate: Path, name: str) -> None:
    """Give the copied `hello` crate a package name of its own (its images' repository)."""
    for file in ("Cargo.toml", "Cargo.lock"):
        path = crate / file
        path.write_text(path.read_text().replace('name = "hello"', f'name = "{name}"'))


def built_tags(result: pytest.RunResult) -> dict[str, str]:
    """engine -> the tag the run's summary names for its static image."""
    found = {}
    for line in result.outlines:
        match = re.match(r"^image (\S+) \(static-(docker|podman)\)$", line.strip())
        if match:
            found[match[2]] = match[1]
    assert set(found) == set(ENGINES), result.outlines
    return found


def image_id(engine: str, ref: str) -> str | None:
    done = subprocess.run([engine, "image", "inspect", "--format", "{{.Id}}", ref], capture_output=True, text=True)
    return done.stdout.strip() or None if done.returncode == 0 else None


def labels(engine: str, ref: str) -> dict[str, str]:
    done = subprocess.run([engine, "image", "inspect", ref], capture_output=True, text=True, check=True)
    found: dict[str, str] = json.loads(done.stdout)[0]["Config"]["Labels"]
    return found


def prune(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest_rustimage", "prune", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )


def freed(output: str) -> dict[str, int]:
    """engine -> bytes the prune output says it freed (exactly, not "at least")."""
    found = {}
    engine = ""
    for line in output.splitlines():
        if not line.startswith(" "):
            engine = line.split(" ", 1)[0]
        match = re.match(r"^  (?:would free|freed) \S+ \S+ \((\d+) bytes\)$", line)
        if match:
            found[engine] = int(match[1])
    return found


def own_crate(prefix: str) -> Iterator[str]:
    """For a fixture: a crate name of the test's own; afterwards every image of it is removed on both engines."""
    name = f"{prefix}{uuid.uuid4().hex[:8]}"
    yield name
    cleanup = prune("--crate", name, "--all", "--grace", "0")
    left = {}
    for engine in ENGINES:
        refs = subprocess.run(
            [engine, "images", "-a", "--format", "{{.Repository}}:{{.Tag}}"], capture_output=True, text=True
        ).stdout.split()
        left[engine] = [ref for ref in refs if f"pytest-rustimage/{name}:" in ref]
        for ref in left[engine]:
            subprocess.run([engine, "rmi", "-f", ref], capture_output=True)
    assert cleanup.returncode == 0, cleanup.stderr
    assert not any(left.values()), f"prune --all left {left}\n{cleanup.stdout}"

"""The reproducible check's verdict from two builds' binaries and files (no engine: the images' files are
given as the reader would give them)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from pytest_rustimage.checks.reproducible import judge
from pytest_rustimage.inspect.imagefs import ImageFs, Node
from pytest_rustimage.session.twin import SecondBuild

BINARY = Path("/bin/true").read_bytes()


def image() -> Any:
    spec = SimpleNamespace(
        variant="dockerfile-docker", strategy="dockerfile", traits=SimpleNamespace(generated=False), crate=None
    )
    return SimpleNamespace(
        tag="pytest-rustimage/app:dockerfile-0123", binary_path="/usr/local/bin/app", spec=spec, config=None
    )


def fs(stamp: bytes, unreadable: dict[str, str] | None = None) -> ImageFs:
    nodes = {
        "usr": Node("dir"),
        "usr/local/bin/app": Node("file", size=len(BINARY), data=BINARY),
        "build-time": Node("file", size=len(stamp), data=stamp),
    }
    return ImageFs(nodes, unreadable)


def test_the_same_binary_and_the_same_bytes_in_every_file_pass() -> None:
    verdict = judge(image(), BINARY, SecondBuild(BINARY, fs(b"2026-12-06"), 3.0, fs(b"2026-12-06")))
    assert verdict.identical and "every file's bytes compared" in verdict.summary


def test_a_file_of_the_same_size_with_other_bytes_fails() -> None:
    verdict = judge(image(), BINARY, SecondBuild(BINARY, fs(b"2026-12-07"), 3.0, fs(b"2026-12-06")))
    assert not verdict.identical and verdict.summary == "the image's files differ from a second build"
    assert "/build-time" in verdict.explanation


def test_a_layer_that_could_not_be_read_is_cannot_tell_never_a_pass() -> None:
    unread = fs(b"2026-12-06", {"sha256:abc": "zstd compression is not supported"})
    verdict = judge(image(), BINARY, SecondBuild(BINARY, fs(b"2026-12-06"), 3.0, unread))
    assert not verdict.identical and verdict.summary.startswith("cannot tell")
    assert "layer sha256:abc: zstd compression is not supported" in verdict.explanation


def test_a_file_whose_bytes_were_not_kept_is_cannot_tell() -> None:
    unkept = ImageFs({"build-time": Node("file", size=10)})
    verdict = judge(image(), BINARY, SecondBuild(BINARY, unkept, 3.0, ImageFs({"build-time": Node("file", size=10)})))
    assert not verdict.identical and "/build-time: contents not read" in verdict.explanation

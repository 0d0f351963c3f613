"""Parity's note on two engines' binaries, from the binaries compared (gcc builds made here)."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pytest_rustimage.inspect.repro import compare_binaries
from pytest_rustimage.report.parity import Observation, binary_diff_note, compare

STAMPED_C = '#include <stdio.h>\nint main(void) { puts("built " __DATE__ " " __TIME__ " " GREETING); return 0; }\n'
OPT_C = """#include <stdio.h>
static int square(int x) { return x * x; }
int main(int argc, char **argv) { int s = 0; for (int i = 0; i < argc * 100; i++) s += square(i);
  printf("sum %d " GREETING "\\n", s); return 0; }
"""

DOCKER = Observation(
    name="docker",
    tag="pytest-rustimage/hello:static-aaa",
    builder_id="sha256:" + "b" * 64,
    build_args={},
    binary_sha256="e" * 64,
    binary_size=16_000,
    build_id="b525",
    exit_code=0,
    stdout="hello\n",
    entrypoint=("/usr/local/bin/hello",),
    cmd=(),
    user="65532:65532",
    env={},
    workdir="/",
    exposed_ports=(),
    layer_count=1,
    size=16_000,
)
PODMAN = dataclasses.replace(DOCKER, name="podman", binary_sha256="f" * 64, build_id="c0ff")


def gcc(root: Path, source: str, *flags: str, epoch: str = "1700000000") -> bytes:
    """``source`` built by gcc in ``root`` (the same folder each time), its bytes."""
    if shutil.which("gcc") is None:
        pytest.skip("gcc is not on PATH")
    (root / "m.c").write_text(source)
    out = root / f"out{len(list(root.iterdir()))}"
    command = ["gcc", *flags, str(root / "m.c"), "-o", str(out)]
    env = {**os.environ, "SOURCE_DATE_EPOCH": epoch}
    result = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if result.returncode != 0:
        pytest.fail(f"{' '.join(command)} failed:\n{result.stderr}")
    return out.read_bytes()


def test_an_embedded_build_time_is_an_irreproducible_build_not_an_engine_difference(tmp_path: Path) -> None:
    first = gcc(tmp_path, STAMPED_C, '-DGREETING="hi"')
    second = gcc(tmp_path, STAMPED_C, '-DGREETING="hi"', epoch="1700003661")
    note = binary_diff_note(compare_binaries(first, second), ("docker", "podman"))
    head = (
        "23 bytes differ (.rodata (3 bytes differ), the build id); the build is not reproducible, whatever the engine"
    )
    assert note.startswith(head)
    assert "'built Nov 14 2023 22:13:20 hi' vs 'built Nov 14 2023 23:14:21 hi'" in note
    assert "SOURCE_DATE_EPOCH" in note
    assert note.endswith("nothing else points at a difference between the engines")
    assert "an input differs" not in note


def test_an_embedded_value_is_a_real_input_difference(tmp_path: Path) -> None:
    first = gcc(tmp_path, STAMPED_C, '-DGREETING="hello world"')
    second = gcc(tmp_path, STAMPED_C, '-DGREETING="hello there"')
    note = binary_diff_note(compare_binaries(first, second))
    assert "an input differs: embedded text differs:" in note
    assert "hello world' vs '" in note and "hello there'" in note
    assert "not reproducible" not in note


def test_known_inputs_and_codegen_are_told_with_the_engines_named(tmp_path: Path) -> None:
    first = gcc(tmp_path, OPT_C, "-O0", '-DGREETING="hi"')
    second = gcc(tmp_path, OPT_C, "-O2", '-DGREETING="hi"')
    diff = compare_binaries(first, second)
    other = dataclasses.replace(PODMAN, builder_id="sha256:" + "c" * 64)
    report = compare(DOCKER, other, binary_diff=diff)
    (row,) = report.differences
    assert row.what == "binary sha256"
    assert "an input differs: builder images differ (sha256:bbbbbbbbbbbb vs sha256:cccccccccccc)" in row.note
    assert "codegen differs" in row.note and "'square' (only in docker)" in row.note
    assert "same-input Rust builds are byte-identical" not in row.note


def test_an_identical_pair_has_no_note_and_without_a_diff_the_note_is_as_before(tmp_path: Path) -> None:
    same = gcc(tmp_path, OPT_C, '-DGREETING="hi"')
    assert binary_diff_note(compare_binaries(same, same)) == ""
    note = compare(DOCKER, PODMAN).differences[0].note
    assert note.startswith("same-input Rust builds are byte-identical, so an input differs: ")

"""Parity comparison: pure, on observations."""

from __future__ import annotations

import dataclasses

import pytest

from pytest_rustimage.report.parity import Observation, ParityFailed, compare

DOCKER = Observation(
    name="docker",
    tag="pytest-rustimage/hello:static-aaa",
    builder_id="sha256:" + "b" * 64,
    build_args={},
    binary_sha256="e" * 64,
    binary_size=1_428_120,
    build_id="b525",
    exit_code=0,
    stdout="hello 0.1.0\n",
    entrypoint=("/usr/local/bin/hello",),
    cmd=(),
    user="65532:65532",
    env={"PATH": "/usr/bin"},
    workdir="/",
    exposed_ports=(),
    layer_count=1,
    size=1_428_120,
)
PODMAN = dataclasses.replace(DOCKER, name="podman", tag="pytest-rustimage/hello:static-bbb")


def test_equal_images_are_equivalent() -> None:
    report = compare(DOCKER, PODMAN)
    assert report.equivalent and report.differences == ()
    assert [row.what for row in report.rows] == [
        "binary sha256",
        "exit code",
        "stdout",
        "entrypoint",
        "cmd",
        "user",
        "env",
        "workdir",
        "exposed ports",
        "layers",
        "size",
    ]
    report.assert_equivalent()


def test_size_within_tolerance_passes_and_beyond_fails() -> None:
    near = dataclasses.replace(PODMAN, size=DOCKER.size + 14_000)  # 0.98 %
    assert compare(DOCKER, near).equivalent
    far = dataclasses.replace(PODMAN, size=DOCKER.size + 15_000)  # 1.05 %
    report = compare(DOCKER, far)
    assert [row.what for row in report.differences] == ["size"]
    assert "differ by 15000 bytes, more than 1.00%" in report.table()
    assert compare(DOCKER, far, tolerance=0.02).equivalent


def test_different_binaries_name_the_inputs_that_differ() -> None:
    other = dataclasses.replace(
        PODMAN,
        binary_sha256="f" * 64,
        build_id="c0ff",
        builder_id="sha256:" + "9" * 64,
        build_args={"FEATURES": "x"},
        stdout="hello 0.2.0\n",
        binary_size=1_428_200,
    )
    report = compare(DOCKER, other)
    assert [row.what for row in report.differences] == ["binary sha256", "stdout"]
    note = report.differences[0].note
    assert note.startswith("same-input Rust builds are byte-identical, so an input differs: ")
    assert "builder images differ" in note and "build args differ (FEATURES)" in note
    assert "ELF build ids differ (b525 vs c0ff)" in note and "sizes differ (1428120 vs 1428200 bytes)" in note
    with pytest.raises(ParityFailed) as failed:
        report.assert_equivalent()
    message = str(failed.value)
    assert "differ in: binary sha256, stdout" in message
    assert "≠ binary sha256" in message and "≠ stdout" in message
    assert "  exit code" in message  # equal rows are shown too, unmarked


def test_config_differences_are_rows() -> None:
    other = dataclasses.replace(PODMAN, user="root", env={"PATH": "/usr/bin", "X": "1"}, layer_count=2)
    assert [row.what for row in compare(DOCKER, other).differences] == ["user", "env", "layers"]


def test_table_cuts_long_values() -> None:
    long = dataclasses.replace(PODMAN, stdout="x" * 200)
    table = compare(DOCKER, long).table(width=20)
    assert "x" * 19 + "…" in table and "x" * 21 not in table

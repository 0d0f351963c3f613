"""Merging what xdist workers saw into one summary, and a snapshot's way through JSON and back."""

from __future__ import annotations

import json
from typing import Any

from pytest_rustimage.checks.registry import CHECKS
from pytest_rustimage.report import summary
from pytest_rustimage.report.baseline import SizeVerdict
from pytest_rustimage.report.image_record import ImageRecord, to_json
from tests.unit.report.records_example import complete
from tests.unit.report.records_example import record as typed


def record(reused: bool, **extra: Any) -> ImageRecord:
    return typed(
        **{
            "crate": "hello",
            "manifest": "/x/hello/Cargo.toml",
            "strategy": "static",
            "engine": "docker",
            "binary": "hello",
            "baseline_key": "hello/static/docker",
            "tag": "pytest-rustimage/hello:static-0123",
            "build": {"reused": reused, "origin": "this run" if reused else "built", "seconds": 0.0 if reused else 4.2},
            "size": 1_400_000,
            "layers": [{"size": 1_400_000}],
            **extra,
        }
    )


def test_an_image_two_workers_used_is_one_row_built_once() -> None:
    cache = {"deps_reused": True, "third_party_recompiled": [], "baseline_seconds": 2.8, "rebuild_seconds": 1.4}
    first = summary.snapshot([record(False)], [], ["engine docker at unix:///s (buildkit)"], [])
    second = summary.snapshot([record(True, cache=cache)], [], ["engine docker at unix:///s (buildkit)"], [])
    run = summary.merge([first, second])
    assert len(run.images) == 1
    image = run.images[0]
    assert image.build.builds == 1 and image.build.sessions == 2 and image.build.reused is False
    assert to_json(image)["cache"] == complete({"cache": cache})["cache"]  # measured by the other worker
    assert run.engines == ("engine docker at unix:///s (buildkit)",)


def test_two_builds_of_one_image_are_counted() -> None:
    run = summary.merge([summary.snapshot([record(False)], [], [], []) for _ in range(2)])
    assert run.images[0].build.builds == 2


def test_lines_show_the_merged_table_and_gates() -> None:
    verdict = SizeVerdict("hello/static/docker", 3_000_000, 1_000_000, 524_288)
    run = summary.merge([summary.snapshot([record(False)], [verdict], [], ["a note"])])
    lines = summary.lines(run, CHECKS)
    assert lines[0] == summary.header(CHECKS)
    assert lines[1].split()[:4] == ["hello", "static", "docker", "1.3"]
    assert "4s" in lines[1] and "+1.9 MiB" in lines[1]
    assert any(line.startswith("size gate FAILED: hello/static/docker") for line in lines)
    assert lines[-1] == "a note"
    assert all(len(line) <= 100 for line in lines if not line.startswith("size gate"))


def test_nothing_measured_gives_no_summary() -> None:
    assert summary.lines(summary.merge([summary.snapshot([], [], [], ["n"])]), CHECKS) == []


def test_an_inconclusive_cache_verdict_shows_no_count() -> None:
    cache = {
        "deps_reused": False,
        "inconclusive": True,  # cargo's output hidden after the edit
        "third_party_recompiled": [],
        "baseline_seconds": 2.0,
        "rebuild_seconds": 2.5,
    }
    lines = summary.lines(summary.merge([summary.snapshot([record(False, cache=cache)], [], [], [])]), CHECKS)
    assert lines[1].endswith("HIDDEN, ?, 2.0->2.5")


def test_a_snapshot_crosses_to_the_controller_and_back_unchanged() -> None:
    """What a worker sends (JSON text) reads back into the same typed records and verdicts."""
    hidden = {"build": "after", "stage": "builder", "instruction": "RUN cargo build -q", "reasons": ["-q"]}
    deps = {"stage": "deps", "instruction": "RUN cargo chef cook", "crates": 3, "cached_after": True}
    binary = {"linkage": "dynamic", "needed": ["libc.so.6"], "version_needs": {"libc.so.6": ["GLIBC_2.34"]}}
    image = record(
        False,
        cache={"hidden": [hidden], "deps_steps": [deps], "third_party_recompiled": ["itoa"]},
        binary_facts={**binary, "loads": ["libc.so.6 is not in the image"], "resolved": {"ld": "/lib/ld"}},
        baseline={"size": 1, "own": 1, "change": 0, "status": "ok", "base_changed": None},
        own_bytes=1_000_000,
    )
    verdict = SizeVerdict("hello/static/docker", 3_000_000, 1_000_000, 524_288)
    sent = summary.snapshot([image], [verdict], ["engine"], ["note"])
    back = summary.from_json(json.loads(json.dumps(summary.to_json(sent))))
    assert back == sent
    assert summary.lines(back, CHECKS) == summary.lines(sent, CHECKS)

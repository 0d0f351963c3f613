"""The size baseline: tolerance maths, verdicts, and a stable file."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pytest_rustimage.errors import ConfigError
from pytest_rustimage.report.baseline import Entry, Tolerance, dump, entry_of, judge, key, load, update

MIB = 1024 * 1024


def test_tolerance_is_the_larger_of_relative_and_absolute() -> None:
    tolerance = Tolerance()  # 5% and 512 KiB
    assert tolerance.allowed(1 * MIB) == 512 * 1024  # small image: the floor wins
    assert tolerance.allowed(100 * MIB) == 5 * MIB  # large image: the percentage wins
    assert Tolerance(relative=0.0, absolute=0).allowed(10) == 0


@pytest.mark.parametrize(
    ("size", "status", "failed"),
    [
        (100 * MIB, "same", False),
        (105 * MIB, "grew", False),
        (105 * MIB + 1, "over", True),
        (90 * MIB, "shrank", False),
    ],
)
def test_verdicts(size: int, status: str, failed: bool) -> None:
    verdict = judge("hello/static/docker", Entry(size), {"hello/static/docker": Entry(100 * MIB)}, Tolerance())
    assert (verdict.status, verdict.failed) == (status, failed)


def test_messages() -> None:
    over = judge("a/chef/docker", Entry(110 * MIB), {"a/chef/docker": Entry(100 * MIB)}, Tolerance())
    assert over.change_text() == "+10.0 MiB (+10.0%)"
    assert "more than the 5.0 MiB allowed" in over.message()
    assert "--rust-image-update-baseline" in over.message()
    shrank = judge("a/chef/docker", Entry(99 * MIB), {"a/chef/docker": Entry(100 * MIB)}, Tolerance())
    assert shrank.change_text() == "-1.0 MiB (-1.0%)" and not shrank.failed
    new = judge("b/static/podman", Entry(1_400_000), {}, Tolerance())
    assert new.status == "new" and not new.failed and new.change is None
    assert new.message() == "b/static/podman: no baseline entry yet (1.3 MiB); --rust-image-update-baseline records it"


def test_file_is_sorted_stable_and_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "rust-image-baseline.json"
    assert load(path) == {}
    text = dump({key("zeta", "chef", "docker"): Entry(2), key("alpha", "static", "podman"): Entry(1)})
    assert text.endswith("}\n")
    assert list(json.loads(text)["images"]) == ["alpha/static/podman", "zeta/chef/docker"]
    path.write_text(text)
    assert load(path) == {"alpha/static/podman": Entry(1), "zeta/chef/docker": Entry(2)}
    assert dump(load(path)) == text


def test_update_merges_over_existing_entries(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    update(path, {"a/chef/docker": Entry(10), "b/chef/docker": Entry(20)})
    assert update(path, {"a/chef/docker": Entry(11)}) == {"a/chef/docker": Entry(11), "b/chef/docker": Entry(20)}
    assert load(path) == {"a/chef/docker": Entry(11), "b/chef/docker": Entry(20)}


@pytest.mark.parametrize(
    "text",
    ["not json", "[]", '{"images": []}', '{"images": {"a": {"size": "1MB"}}}', '{"images": {"a": {"size": -1}}}'],
)
def test_bad_files_are_refused_naming_the_file(tmp_path: Path, text: str) -> None:
    path = tmp_path / "rust-image-baseline.json"
    path.write_text(text)
    with pytest.raises(ConfigError, match=r"rust-image-baseline\.json"):
        load(path)


def test_invalid_json_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "rust-image-baseline.json"
    path.write_text('{\n  "format": 1,\n  "images": {\n    "a/chef/docker": {"size": 1,}\n  }\n}\n')
    with pytest.raises(ConfigError, match=r"rust-image-baseline\.json:4: not valid JSON .*line 4, column"):
        load(path)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        (
            '{"format": 1, "images": {"a/chef/docker": {"size": 1, "sise": 2}}}',
            "entry 'a/chef/docker' has unknown key(s) 'sise'",
        ),
        ('{"format": 1, "images": {}, "comment": "hi"}', "the file has unknown key(s) 'comment'"),
    ],
)
def test_unknown_keys_are_refused_by_name(tmp_path: Path, text: str, named: str) -> None:
    path = tmp_path / "b.json"
    path.write_text(text)
    with pytest.raises(ConfigError, match=re.escape(named)):
        load(path)


def test_a_newer_format_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    path.write_text('{"format": 99, "images": {}}')
    with pytest.raises(ConfigError, match="baseline format 99 is not one this plugin reads"):
        load(path)


@pytest.mark.parametrize("text", ['{"images": {"a": {"size": 1,}}}', '{"images": {"a": {"size": 1, "x": 2}}}'])
def test_a_file_that_cannot_be_read_is_never_overwritten(tmp_path: Path, text: str) -> None:
    path = tmp_path / "b.json"
    path.write_text(text)
    with pytest.raises(ConfigError):
        update(path, {"b/chef/docker": Entry(5)})
    assert path.read_text() == text
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left either


def test_update_keeps_what_it_did_not_measure_and_leaves_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    path.write_text('{"images": {"old/chef/docker": {"size": 7}}}')  # no format: read as format 1
    update(path, {"new/static/docker": Entry(3)})
    assert load(path) == {"old/chef/docker": Entry(7), "new/static/docker": Entry(3)}
    assert list(tmp_path.iterdir()) == [path]


BASE = "pytest-rustimage/runtime:bookworm-slim"
BASE_ID = "sha256:" + "a" * 64


def chef(size: int, own: int, base: str = BASE, base_id: str = BASE_ID) -> Entry:
    return entry_of(size, own, base, base_id)


def test_the_gate_is_on_the_own_bytes_not_the_whole_image() -> None:
    before = {"s/chef/docker": chef(119 * MIB + 600 * 1024, 4 * MIB)}  # 115.6 MiB of base
    grown = judge("s/chef/docker", chef(123 * MIB + 600 * 1024, 8 * MIB), before, Tolerance())
    assert (grown.size - 119 * MIB - 600 * 1024) / grown.size < 0.05  # the whole image: +3.3%, within 5%
    assert grown.failed and grown.change == 4 * MIB and grown.change_text() == "+4.0 MiB (+100.0%)"
    assert grown.message().startswith(
        "s/chef/docker: own bytes (above the base) 8.0 MiB (8388608 bytes) against a baseline of 4.0 MiB "
        "(4194304 bytes): +4.0 MiB (+100.0%); the whole image 123.6 MiB: +4.0 MiB (+3.3%), more than the "
        "512.0 KiB allowed. Make the image smaller"
    )
    assert not judge("s/chef/docker", chef(119 * MIB + 900 * 1024, 4 * MIB + 300 * 1024), before, Tolerance()).failed


def test_a_change_of_base_is_shown_apart_and_gated_only_when_asked() -> None:
    before = {"s/chef/docker": chef(120 * MIB, 4 * MIB)}
    smaller = chef(24 * MIB, 4 * MIB, "pytest-rustimage/runtime:cc-bookworm", "sha256:" + "b" * 64)
    verdict = judge("s/chef/docker", smaller, before, Tolerance())
    assert verdict.status == "same" and verdict.base_changed
    assert verdict.base_text() == (
        "base changed: pytest-rustimage/runtime:bookworm-slim -> pytest-rustimage/runtime:cc-bookworm, -96.0 MiB"
    )
    assert "(not gated)" in verdict.message()
    bigger = chef(140 * MIB, 4 * MIB, BASE, "sha256:" + "c" * 64)  # the same name, rebuilt 20 MiB bigger
    assert not judge("s/chef/docker", bigger, before, Tolerance()).failed
    gated = judge("s/chef/docker", bigger, before, Tolerance(), gate_base=True)
    assert gated.failed and "for a change of base (rust_image_gate_base)" in gated.message()
    assert f"{BASE}@aaaaaaaaaaaa -> {BASE}@cccccccccccc, +20.0 MiB" in gated.base_text()
    assert not judge("s/chef/docker", smaller, before, Tolerance(), gate_base=True).failed  # shrinking never fails


def test_scratch_images_own_all_their_bytes_and_read_as_before() -> None:
    before = {"h/static/docker": chef(MIB, MIB, "scratch", "")}
    verdict = judge("h/static/docker", chef(3 * MIB, 3 * MIB, "scratch", ""), before, Tolerance())
    assert verdict.failed and not verdict.base_changed
    assert verdict.message().startswith("h/static/docker: 3.0 MiB (3145728 bytes) against a baseline of 1.0 MiB")


def test_an_old_entry_is_read_gated_on_the_whole_image_and_upgraded_when_written(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    old = '{"format": 1, "images": {"s/chef/docker": {"size": 125829120}, "t/chef/docker": {"size": 5}}}'
    path.write_text(old)
    entries = load(path)
    assert entries["s/chef/docker"] == Entry(120 * MIB)
    verdict = judge("s/chef/docker", chef(124 * MIB, 8 * MIB), entries, Tolerance())
    assert not verdict.failed and verdict.change == 4 * MIB  # no own bytes on record: the whole image, as before
    update(path, {"s/chef/docker": verdict.measured()})
    data = json.loads(path.read_text())
    assert data["format"] == 2
    assert data["images"]["s/chef/docker"] == {
        "size": 124 * MIB,
        "own": 8 * MIB,
        "base": {"name": BASE, "id": BASE_ID, "size": 116 * MIB},
    }
    assert data["images"]["t/chef/docker"] == {"size": 5}  # not measured: kept as it was
    assert load(path)["s/chef/docker"] == chef(124 * MIB, 8 * MIB)


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ('{"size": 1, "own": 1}', 'needs both "own" (bytes) and "base"'),
        ('{"size": 1, "own": 1, "base": {"name": "x", "id": "y"}}', 'base needs "name" and "id" (strings) and "size"'),
        ('{"size": 1, "own": 1, "base": {"name": "x", "id": "y", "size": 0, "digest": 1}}', "unknown key(s) 'digest'"),
    ],
)
def test_bad_new_entries_are_refused(tmp_path: Path, entry: str, problem: str) -> None:
    path = tmp_path / "b.json"
    path.write_text(f'{{"format": 2, "images": {{"a": {entry}}}}}')
    with pytest.raises(ConfigError, match=re.escape(problem)):
        load(path)


def test_a_base_the_engine_does_not_hold_is_said_so_and_the_whole_image_gated_never_growth() -> None:
    """Without the base's layers the own bytes cannot be told: taking the whole image as own bytes would
    read as a growth of 115 MiB. The whole image is gated against the whole image instead."""
    before = {"s/chef/docker": chef(120 * MIB, 4 * MIB)}
    same = judge("s/chef/docker", entry_of(120 * MIB, None, BASE, ""), before, Tolerance())
    assert not same.failed and same.status == "same" and not same.base_changed and not same.base_known
    assert "the base pytest-rustimage/runtime:bookworm-slim is not in the engine" in same.message()
    assert "own bytes (above the base)" not in same.message()
    grown = judge("s/chef/docker", entry_of(130 * MIB, None, BASE, ""), before, Tolerance())
    assert grown.failed and grown.change == 10 * MIB and "the whole image is gated" in grown.message()
    # and under --rust-image-update-baseline it records the size alone, never a guessed own
    assert json.loads(dump({"k": grown.measured()}))["images"]["k"] == {"size": 130 * MIB}

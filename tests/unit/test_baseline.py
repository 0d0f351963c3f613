"""The size baseline: tolerance maths, verdicts, and a stable file."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pytest_rustimage.errors import ConfigError
from pytest_rustimage.report.baseline import Tolerance, dump, judge, key, load, update

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
    verdict = judge("hello/chef/docker", size, {"hello/chef/docker": 100 * MIB}, Tolerance())
    assert (verdict.status, verdict.failed) == (status, failed)


def test_messages() -> None:
    over = judge("a/chef/docker", 110 * MIB, {"a/chef/docker": 100 * MIB}, Tolerance())
    assert over.change_text() == "+10.0 MiB (+10.0%)"
    assert "more than the 5.0 MiB allowed" in over.message()
    assert "--rust-image-update-baseline" in over.message()
    shrank = judge("a/chef/docker", 99 * MIB, {"a/chef/docker": 100 * MIB}, Tolerance())
    assert shrank.change_text() == "-1.0 MiB (-1.0%)" and not shrank.failed
    new = judge("b/static/podman", 1_400_000, {}, Tolerance())
    assert new.status == "new" and not new.failed and new.change is None
    assert new.message() == "b/static/podman: no baseline entry yet (1.3 MiB); --rust-image-update-baseline records it"


def test_file_is_sorted_stable_and_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "rust-image-baseline.json"
    assert load(path) == {}
    text = dump({key("zeta", "chef", "docker"): 2, key("alpha", "static", "podman"): 1})
    assert text.endswith("}\n")
    assert list(json.loads(text)["images"]) == ["alpha/static/podman", "zeta/chef/docker"]
    path.write_text(text)
    assert load(path) == {"alpha/static/podman": 1, "zeta/chef/docker": 2}
    assert dump(load(path)) == text


def test_update_merges_over_existing_entries(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    update(path, {"a/chef/docker": 10, "b/chef/docker": 20})
    assert update(path, {"a/chef/docker": 11}) == {"a/chef/docker": 11, "b/chef/docker": 20}
    assert load(path) == {"a/chef/docker": 11, "b/chef/docker": 20}


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
        update(path, {"b/chef/docker": 5})
    assert path.read_text() == text
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left either


def test_update_keeps_what_it_did_not_measure_and_leaves_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    path.write_text('{"images": {"old/chef/docker": {"size": 7}}}')  # no format: read as format 1
    update(path, {"new/static/docker": 3})
    assert load(path) == {"old/chef/docker": 7, "new/static/docker": 3}
    assert list(tmp_path.iterdir()) == [path]

"""The reproducible check's kept verdicts: read back as written, anything else ignored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_rustimage.session.twin import STORE_FORMAT, Verdict, load, save


def test_a_verdict_is_read_back_as_written(tmp_path: Path) -> None:
    verdict = Verdict(False, "the binary differs\n  .rodata", "the binary differs from a second build", 1.5)
    save(tmp_path / "v.json", verdict)
    assert load(tmp_path / "v.json") == verdict


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        "[]",
        json.dumps({"format": STORE_FORMAT + 1, "identical": True, "explanation": "", "summary": "", "measured_at": 1}),
        json.dumps({"format": STORE_FORMAT, "identical": True}),
    ],
    ids=["empty", "not-json", "a-list", "another-format", "fields-missing"],
)
def test_anything_else_is_no_verdict(tmp_path: Path, text: str) -> None:
    (tmp_path / "v.json").write_text(text)
    assert load(tmp_path / "v.json") is None
    assert load(tmp_path / "absent.json") is None


def test_a_verdict_that_cannot_be_written_is_only_not_kept(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    save(tmp_path / "file" / "v.json", Verdict(True, "", "same", 1.0))  # a folder that cannot be: no error
    assert load(tmp_path / "file" / "v.json") is None

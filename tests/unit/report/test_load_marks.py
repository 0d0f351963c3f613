"""A binary that would not load: marked in the summary and the HTML report, and false in tests."""

from __future__ import annotations

from typing import Any

from pytest_rustimage.checks.registry import CHECKS
from pytest_rustimage.inspect.facts import CannotLoad
from pytest_rustimage.report import summary
from pytest_rustimage.report.html import render
from pytest_rustimage.report.image_record import ImageRecord
from tests.unit.report.records_example import record as typed

PROBLEM = "libgomp.so.1 (needed by /usr/local/bin/gomp) is not in the image; looked in /lib/x86_64-linux-gnu"


def record(loads: Any, resolved: dict[str, str] | None = None) -> ImageRecord:
    return typed(
        **{
            "crate": "gomp",
            "manifest": "/x/gomp/Cargo.toml",
            "strategy": "chef",
            "engine": "podman",
            "binary": "gomp",
            "variant": "chef-podman",
            "baseline_key": "gomp/chef/podman",
            "tag": "pytest-rustimage/gomp:chef-0123",
            "budget": 200 << 20,
            "build": {"reused": False, "origin": "built", "seconds": 3.0},
            "size": 80 << 20,
            "layers": [{"size": 80 << 20, "created_by": ""}],
            "binary_facts": {
                "path": "/usr/local/bin/gomp",
                "size": 400_000,
                "linkage": "dynamic",
                "libc": "glibc",
                "loads": loads,
                "resolved": resolved or {},
            },
        }
    )


def test_cannot_load_is_false_and_shows_its_problems() -> None:
    problems = CannotLoad([PROBLEM, "another"])
    assert not problems and len(problems) == 2 and problems[0] == PROBLEM
    assert "libgomp.so.1" in repr(problems)
    assert not CannotLoad([])


def test_the_summary_marks_an_image_whose_binary_would_not_load() -> None:
    lines = summary.lines(summary.merge([summary.snapshot([record([PROBLEM, "another"])], [], [], [])]), CHECKS)
    shown = "libgomp.so.1 (needed by /usr/local/bin/gomp) is not in the image"
    assert f"would not load: pytest-rustimage/gomp:chef-0123 (chef-podman): {shown} (and 1 more)" in lines


def test_the_summary_says_cannot_tell_when_a_layer_could_not_be_read() -> None:
    unknown = (
        "cannot tell whether /usr/local/bin/gomp loads: the image's layer blobs/sha256/ab could not be read "
        "(it is zstd-compressed, and this Python has no zstd decoder: ...)"
    )
    lines = summary.lines(summary.merge([summary.snapshot([record([unknown])], [], [], [])]), CHECKS)
    assert f"cannot tell if it loads: pytest-rustimage/gomp:chef-0123 (chef-podman): {unknown}" in lines


def test_the_summary_says_nothing_of_a_binary_that_loads() -> None:
    lines = summary.lines(summary.merge([summary.snapshot([record(True)], [], [], [])]), CHECKS)
    assert not any("would not load" in line for line in lines)


def test_the_html_report_marks_it_and_lists_what_loads() -> None:
    failing = render([record([PROBLEM])], CHECKS)
    assert failing.count("would not load") == 2  # the overview's linkage cell and the image's facts
    assert "libgomp.so.1 (needed by /usr/local/bin/gomp)" in failing
    loading = render([record(True, {"libc.so.6": "/usr/lib/x86_64-linux-gnu/libc.so.6"})], CHECKS)
    assert "would not load" not in loading
    assert "libc.so.6 at /usr/lib/x86_64-linux-gnu/libc.so.6" in loading


BULLSEYE = {
    "name": "bullseye-slim",
    "ref": "pytest-rustimage/runtime:bullseye-slim",
    "loads": False,
    "reason": "GLIBC_2.34 > 2.31",
    "problems": ["/lib/x86_64-linux-gnu/libc.so.6 lacks GLIBC_2.34 needed by /usr/local/bin/gomp"],
    "glibc": "2.31",
}
BOOKWORM = {**BULLSEYE, "name": "bookworm-slim", "loads": True, "reason": "", "problems": [], "glibc": "2.36"}


def matrix_record(runtimes: Any, linkage: str = "dynamic", tag: str = "gomp:chef-0123") -> ImageRecord:
    facts = {"path": "/usr/local/bin/gomp", "linkage": linkage, "loads": True, "floor": ["GLIBC_2.34", "GCC_3.0"]}
    if runtimes is not None:
        facts["runtimes"] = runtimes
    return typed(tag=f"pytest-rustimage/{tag}", strategy="chef", binary_facts=facts)


def test_the_summary_and_the_html_report_show_where_it_loads() -> None:
    shown = [
        matrix_record([BOOKWORM, BULLSEYE]),
        matrix_record([], "static-pie", "gomp:static-1"),
        matrix_record(None, tag="gomp:chef-2"),
    ]
    lines = summary.lines(summary.merge([summary.snapshot(shown, [], [], [])]), CHECKS)
    wanted = "bookworm-slim yes, bullseye-slim no (GLIBC_2.34 > 2.31)"
    assert f"pytest-rustimage/gomp:chef-0123 (chef-docker) loads on: {wanted}" in lines
    assert "pytest-rustimage/gomp:static-1 (chef-docker) loads on: any runtime (static)" in lines
    assert sum("loads on" in line for line in lines) == 2  # not asked (linkage did not run): no line
    page = render(shown[:1], CHECKS)
    assert "bookworm-slim yes, bullseye-slim no (GLIBC_2.34 &gt; 2.31)" in page
    assert "GLIBC_2.34, GCC_3.0" in page
    assert "<td>dynamic (not on bullseye-slim)</td>" in page  # the overview: where it would not load
    assert "(not on" not in render([matrix_record([BOOKWORM])], CHECKS)

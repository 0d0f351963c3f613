"""What must hold per edit kind (cachecheck/matrix.py), and how the cache check and its report parts say it."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import pytest

from pytest_rustimage.cachecheck.buildlog import Compiled
from pytest_rustimage.cachecheck.edit import Edit
from pytest_rustimage.cachecheck.edits import KindEdit
from pytest_rustimage.cachecheck.matrix import CacheMatrix, judge
from pytest_rustimage.cachecheck.verdict import CacheReport, StepOutcome
from pytest_rustimage.checks import cache as cache_check
from pytest_rustimage.checks.base import CheckFailed, CheckSkipped, Context
from pytest_rustimage.report.records import cache_record
from tests.unit.report.records_example import record

OWN = frozenset({"ws-cli", "ws-core", "ws-daemon", "ws-extra"})
ITOA = Compiled("itoa", "1.0.19", None)


def own(name: str) -> Compiled:
    return Compiled(name, "0.1.0", f"/app/crates/{name}")


def report(*compiled: Compiled, edit: str = "e") -> CacheReport:
    step = StepOutcome("build", "RUN cargo build --release", False, tuple(compiled))
    cached = StepOutcome("cook", "RUN cargo chef cook --release", True)
    return CacheReport(
        edit, "chef", "docker", "b", 1.0, 2.0, (), tuple(compiled), OWN, (cached, step), baseline_compiled_rust=True
    )


def made(kind: str, **extra: object) -> KindEdit:
    return KindEdit(kind, Edit("x", f"{kind} edit", lambda root: None), **extra)  # type: ignore[arg-type]


LIBRARY = {"allowed_own": frozenset({"ws-core", "ws-cli", "ws-daemon"}), "library": "ws-core"}


def test_third_party_crates_fail_every_gated_kind_and_only_report_member() -> None:
    for kind in ("source", "library", "non-rust", "version"):
        row = judge(made(kind), report(ITOA, own("ws-cli")))
        assert not row.ok and "1 third-party crate(s) compiled again" in row.problems[0], kind
    member = judge(made("member"), report(ITOA, own("ws-cli")))
    assert member.ok and not member.gated and member.problems and "reported" in member.line()


def test_library_allows_the_library_and_its_dependents_only() -> None:
    assert judge(made("library", **LIBRARY), report(own("ws-core"), own("ws-cli"), own("ws-daemon"))).ok
    row = judge(made("library", **LIBRARY), report(own("ws-core"), own("ws-extra")))
    assert not row.ok and row.problems == (
        "own crate(s) ws-extra v0.1.0 compiled again: neither ws-core nor a member that depends on it",
    )


def test_non_rust_reports_own_crates_and_the_steps_that_ran_again() -> None:
    row = judge(made("non-rust"), report(own("ws-cli")))
    assert row.ok and row.rerun_steps == ("[build] RUN cargo build --release",)
    assert judge(made("non-rust"), report()).proves  # nothing compiled: the best a README edit can do


def test_nothing_compiled_proves_nothing_and_only_not_applicable_rows_skip() -> None:
    nothing = judge(made("version"), report())
    assert nothing.ok and not nothing.proves and nothing.reason.startswith("nothing was compiled after the edit")
    absent = judge(KindEdit("library", None, "a single package, not a workspace"), None)
    assert absent.line() == "library: not applicable: a single package, not a workspace"
    assert CacheMatrix((absent, nothing)).skip_reason is not None
    assert CacheMatrix((absent, judge(made("source"), report(own("ws-cli"))))).skip_reason is None


class _Image:
    def __init__(self, matrix: CacheMatrix) -> None:
        self.matrix = matrix
        self.spec = SimpleNamespace(crate=SimpleNamespace(name="recipes"), variant="naive-docker")

    def cache_matrix(self) -> CacheMatrix:
        return self.matrix


def test_the_check_names_each_failing_kind_and_lists_the_matrix() -> None:
    rows = (
        judge(made("source"), report(own("ws-cli"), edit="appended a comment to src/main.rs")),
        judge(KindEdit("library", None, "a single package, not a workspace"), None),
        judge(made("version"), report(ITOA, edit="bumped recipes's version in Cargo.toml and Cargo.lock")),
    )
    with pytest.raises(CheckFailed) as failed:
        cache_check.run([_Image(CacheMatrix(rows))], Context(), [])  # type: ignore[list-item]
    message = str(failed.value)
    assert message.startswith(
        "recipes (naive-docker): the dependency layer does not stay cached across a bump of the package's own "
        "version\n- the version edit: bumped recipes's version in Cargo.toml and Cargo.lock\n"
    )
    assert "- ran again: [build] RUN cargo build --release" in message
    assert "\n  library: not applicable: a single package, not a workspace" in message
    with pytest.raises(CheckSkipped, match="nothing to prove: library: not applicable"):
        cache_check.run([_Image(CacheMatrix(rows[1:2]))], Context(), [])  # type: ignore[list-item]


def test_the_summary_lists_the_matrix_when_more_than_source_ran() -> None:
    rows = (
        judge(made("source"), report(own("ws-cli"), edit="s")),
        judge(made("version"), report(ITOA, edit="v")),
        judge(KindEdit("member", None, "a single package, not a workspace"), None),
    )
    cache = cache_record(CacheMatrix(rows))
    assert cache is not None and not cache.ok and cache.edit == "s"
    image = record()
    image = dataclasses.replace(image, cache=cache)
    assert cache_check._column(image, None) == "reused, 0, 1.0->2.0, FAILED version"
    lines = cache_check._matrix_lines([image], {})
    assert lines[0] == "cache edits of hello (static-docker):"
    assert lines[1] == "  source   deps kept, 0 third-party and 1 own recompiled, rebuild 2.0s: ok (own: ws-cli v0.1.0)"
    assert "version  deps REBUILT, 1 third-party" in lines[2] and "FAILED: 1 third-party" in lines[2]
    assert lines[3] == "  member   not applicable: a single package, not a workspace"
    assert (
        cache_check._matrix_lines([type(image)(**{**image.__dict__, "cache": cache_record(CacheMatrix(rows[:1]))})], {})
        == []
    )


def test_non_rust_gates_own_crates_where_the_dockerfile_copies_only_rust() -> None:
    strict = made("non-rust", allowed_own=frozenset())
    assert judge(strict, report()).ok
    row = judge(strict, report(own("ws-cli")))
    assert not row.ok and "copies only manifests and src/" in row.problems[0]


def test_the_html_facts_show_a_row_per_kind() -> None:
    rows = (
        judge(made("source"), report(own("ws-cli"), edit="s")),
        judge(KindEdit("library", None, "a single package, not a workspace"), None),
    )
    image = dataclasses.replace(record(), cache=cache_record(CacheMatrix(rows)))
    facts = cache_check._facts(image)
    assert [name for name, _ in facts] == ["cache", "cache: source edit", "cache: library edit"]
    assert facts[2][1] == "not applicable: a single package, not a workspace"


def test_no_kind_proves_anything_where_no_build_compiles_rust() -> None:
    """A Dockerfile that copies a binary in: a README edit compiling nothing is no pass of its own."""
    copy = StepOutcome("runtime", "COPY target/release/app /usr/local/bin/app", False)
    prebuilt = dataclasses.replace(report(), baseline_compiled_rust=False, steps=(copy,))
    rows = [judge(made(kind), prebuilt) for kind in ("non-rust", "member", "source")]
    assert not any(row.proves for row in rows)
    assert all("no step of the build compiled Rust" in row.reason for row in rows)
    assert CacheMatrix(tuple(rows)).skip_reason is not None
    # a baseline that came from cache shows no compiling either: the cargo steps of the rebuild tell
    from_cache = dataclasses.replace(report(), baseline_compiled_rust=False)
    assert judge(made("non-rust"), from_cache).proves

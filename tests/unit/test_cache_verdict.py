"""The cache probe's verdict, judged from real logs, and edits."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_rustimage.build.verdict import apply_edit, assess, comment_edit
from pytest_rustimage.errors import ConfigError

DATA = Path(__file__).parent / "data"


def verdict(
    builder: str, phase: str = "warm", ids: tuple[str | None, str | None] = (None, None), strategy: str = "chef"
):  # type: ignore[no-untyped-def]
    return assess(
        edit="appended a comment",
        strategy="chef",
        engine=builder,
        rebuild_log=(DATA / f"workspace-chef-{builder}-{phase}.log").read_text(),
        cold_seconds=30.0,
        rebuild_seconds=5.0,
        deps_ids=ids,
        own_crates=["ws-cli", "ws-core", "ws-daemon"],
    )


@pytest.mark.parametrize("builder", ["buildkit", "buildah", "legacy"])
def test_source_edit_keeps_dependencies(builder: str) -> None:
    report = verdict(builder, ids=("sha256:a", "sha256:a"))
    assert report.ok and report.deps_reused
    assert report.own_recompiled == ("ws-cli v0.1.0", "ws-core v0.1.0")
    assert report.third_party_recompiled == ()
    assert report.summary() == (
        "appended a comment: dependency layer reused; recompiled 0 third-party and 2 own crate(s); "
        "cold 30.0s, rebuild 5.0s"
    )


def test_a_changed_dependency_stage_id_fails_even_when_the_log_says_cached() -> None:
    report = verdict("buildkit", ids=("sha256:a", "sha256:b"))
    assert not report.ok and not report.deps_reused
    assert "the dependency stage's image changed: sha256:a -> sha256:b" in report.describe()


def test_a_cold_log_means_the_dependency_step_ran() -> None:
    report = verdict("buildah", phase="cold")
    assert not report.deps_reused
    assert "the dependency step ran again after the edit" in report.describe()


def test_cached_layer_but_third_party_recompiled_is_named() -> None:
    log = (DATA / "workspace-chef-buildkit-warm.log").read_text()
    log = log.replace("Compiling ws-core v0.1.0 (/app/crates/core)", "Compiling itoa v1.0.19")
    report = assess(
        edit="e",
        strategy="chef",
        engine="docker",
        rebuild_log=log,
        cold_seconds=1,
        rebuild_seconds=1,
        deps_ids=(None, None),
        own_crates=["ws-cli"],
    )
    assert report.deps_reused and not report.ok
    assert report.third_party_recompiled == ("itoa v1.0.19",)
    text = report.describe()
    assert "third-party crates compiled again: itoa v1.0.19" in text
    assert "RUSTFLAGS, features, profile, target or toolchain" in text


def test_no_dependency_step_is_said() -> None:
    report = assess(
        edit="e",
        strategy="naive",
        engine="docker",
        rebuild_log="#5 [build 2/2] RUN RUST_IMAGE_STEP=build && cargo build\n#5 1.0    Compiling tokio v1.54.1\n",
        cold_seconds=1,
        rebuild_seconds=1,
        deps_ids=(None, None),
        own_crates=[],
    )
    assert not report.ok and report.third_party_recompiled == ("tokio v1.54.1",)
    assert "the naive strategy has no dependency step" in report.describe()


def test_edits(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src/main.rs").write_text("fn main() {}\n")
    edit = comment_edit("src/main.rs", "abc")
    assert apply_edit(tmp_path, edit) == "appended a comment to src/main.rs"
    assert (tmp_path / "src/main.rs").read_text() == "fn main() {}\n\n// pytest-rustimage cache probe abc\n"
    assert apply_edit(tmp_path, ("src/lib.rs", "pub fn f() {}\n")) == "rewrote src/lib.rs"
    assert (tmp_path / "src/lib.rs").read_text() == "pub fn f() {}\n"


@pytest.mark.parametrize("bad", [("../outside.rs", "x"), ("a", "b", "c"), "src/main.rs", 42])
def test_bad_edits_are_refused(tmp_path: Path, bad: object) -> None:
    with pytest.raises(ConfigError):
        apply_edit(tmp_path, bad)  # type: ignore[arg-type]

"""The cache probe's verdict, judged from real logs, and edits."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from pytest_rustimage.cachecheck.assess import assess
from pytest_rustimage.cachecheck.verdict import CacheReport, from_data, to_data
from pytest_rustimage.recipe import instructions
from pytest_rustimage.recipe.dockerfile import Recipe
from pytest_rustimage.recipe.strategies import render

DATA = Path(__file__).resolve().parents[1] / "data"


def log(builder: str, phase: str) -> str:
    return (DATA / f"workspace-chef-{builder}-{phase}.log").read_text()


def verdict(builder: str, phase: str = "warm", baseline: str = "cold") -> CacheReport:
    return assess(
        edit="appended a comment",
        strategy="chef",
        engine=builder,
        baseline_log=log(builder, baseline),
        baseline="this session's build of the image",
        baseline_seconds=30.0,
        rebuild_log=log(builder, phase),
        rebuild_seconds=5.0,
        own_crates=["ws-cli", "ws-core", "ws-daemon"],
    )


@pytest.mark.parametrize("builder", ["buildkit", "buildah", "legacy"])
def test_source_edit_keeps_dependencies(builder: str) -> None:
    report = verdict(builder)
    assert report.ok and report.deps_reused and report.skip_reason is None
    assert report.own_recompiled == ("ws-cli v0.1.0", "ws-core v0.1.0")
    assert report.third_party_recompiled == ()
    assert report.summary() == (
        "appended a comment: dependency layer reused; recompiled 0 third-party and 2 own crate(s); "
        "first build 30.0s, rebuild 5.0s"
    )
    # the baseline's cook step compiled the one third-party crate (itoa), and came from cache after the edit
    (deps,) = report.deps_steps
    assert (deps.stage, deps.crates, deps.cached_after) == ("cook", 1, True)
    assert deps.instruction.startswith("RUN RUST_IMAGE_STEP=deps && cargo chef cook")


@pytest.mark.parametrize("builder", ["buildkit", "buildah", "legacy"])
def test_a_dependency_step_that_ran_again_fails_naming_it(builder: str) -> None:
    report = verdict(builder, phase="cold")  # the cold log as the rebuild: cook ran and compiled itoa
    assert not report.ok and not report.deps_reused
    assert report.third_party_recompiled == ("itoa v1.0.19",)
    text = report.describe()
    assert "third-party crates compiled again: itoa v1.0.19" in text
    assert "  by [cook] RUN RUST_IMAGE_STEP=deps && cargo chef cook" in text
    assert "- dependency step (1 third-party crate(s)): [cook] RUN RUST_IMAGE_STEP=deps" in text
    assert "ran again after the edit" in text


def test_cached_layer_but_third_party_recompiled_is_named() -> None:
    rebuild = log("buildkit", "warm").replace("Compiling ws-core v0.1.0 (/app/crates/core)", "Compiling itoa v1.0.19")
    report = assess(
        edit="e",
        strategy="chef",
        engine="docker",
        baseline_log=log("buildkit", "cold"),
        baseline="b",
        baseline_seconds=1,
        rebuild_log=rebuild,
        rebuild_seconds=1,
        own_crates=["ws-cli"],
    )
    assert not report.deps_reused and not report.ok
    assert report.deps_steps[0].cached_after is True
    assert report.third_party_recompiled == ("itoa v1.0.19",)
    text = report.describe()
    assert "third-party crates compiled again: itoa v1.0.19" in text
    # the two cargo commands ask for the same builds, and no Dockerfile was given: cannot tell, and says what it read
    assert "the dependency step [cook] RUN RUST_IMAGE_STEP=deps && cargo chef cook" in text
    assert "the Dockerfile does not tell why: the two cargo commands ask for the same features" in text
    assert "the stages' images were not read" in text
    assert "CARGO_LOG=cargo::core::compiler::fingerprint=info" in text
    assert "comes after `COPY" not in text


def _buildkit(dockerfile: str, compiled: dict[str, list[str]], cached: tuple[str, ...] = ()) -> str:
    """A BuildKit log of ``dockerfile``'s RUN and COPY steps: ``compiled`` by step, ``cached`` steps CACHED."""
    lines, n = [], 1
    for stage in instructions.parse(dockerfile):
        for step in stage.instructions[1:]:
            n += 1
            lines.append(f"#{n} [{stage.name} {n}/9] {step.text}")
            if step.text in cached:
                lines.append(f"#{n} CACHED")
            lines += [f"#{n} 1.0    Compiling {crate}" for crate in compiled.get(step.text, [])]
    return "\n".join(lines) + "\n"


NAIVE_USER = """ARG BUILDER_IMAGE=rust:1-bookworm
FROM ${BUILDER_IMAGE} AS build
WORKDIR /app
# everything, then build
COPY . .
RUN cargo build --release \\
    && cp target/release/app /app-bin
FROM scratch
COPY --from=build /app-bin /app
"""


def test_a_dependency_step_after_copying_everything_is_explained() -> None:
    build = "RUN cargo build --release && cp target/release/app /app-bin"
    first = _buildkit(NAIVE_USER, {build: ["itoa v1.0.19", "app v0.1.0 (/app)"]})
    report = assess(
        edit="appended a comment to src/main.rs",
        strategy="dockerfile",
        engine="docker",
        baseline_log=first,
        baseline="b",
        baseline_seconds=9.0,
        rebuild_log=first,
        rebuild_seconds=9.0,
        own_crates=["app"],
        dockerfile=NAIVE_USER,
        edited="src/main.rs",
    )
    assert not report.ok and report.third_party_recompiled == ("itoa v1.0.19",)
    assert report.own_recompiled == ("app v0.1.0",)
    text = report.describe()
    assert f"  by [build] {build}" in text
    assert "the step that compiles the dependencies comes after `COPY . .` in stage build" in text
    assert "every source edit invalidates it" in text


def test_the_chef_strategy_control_naive_is_explained_by_its_copy() -> None:
    dockerfile = render(Recipe(strategy="naive", package="p", binary="p"))
    (build,) = [i.text for s in instructions.parse(dockerfile) for i in s.instructions if i.keyword == "RUN"]
    first = _buildkit(dockerfile, {build: ["tokio v1.54.1", "p v0.1.0 (/app)"]})
    report = assess(
        edit="e",
        strategy="naive",
        engine="docker",
        baseline_log=first,
        baseline="b",
        baseline_seconds=1,
        rebuild_log=first,
        rebuild_seconds=1,
        own_crates=[],
        dockerfile=dockerfile,
        edited="app/src/main.rs",
    )
    assert not report.ok and report.third_party_recompiled == ("tokio v1.54.1",)
    assert "comes after `COPY app/ ./` in stage build" in report.describe()


def test_a_build_that_compiles_no_rust_has_nothing_to_prove() -> None:
    dockerfile = "FROM scratch\nCOPY app /app\n"
    quiet = _buildkit(dockerfile, {})
    report = assess(
        edit="e",
        strategy="dockerfile",
        engine="docker",
        baseline_log=quiet,
        baseline="b",
        baseline_seconds=None,
        rebuild_log=quiet,
        rebuild_seconds=0.5,
        own_crates=["app"],
        dockerfile=dockerfile,
    )
    assert report.ok and report.skip_reason is not None and "no step of the build compiled Rust" in report.skip_reason
    assert "first build not timed" in report.summary()


def test_an_edit_that_reaches_no_compiling_step_has_nothing_to_prove() -> None:
    report = verdict("buildkit", phase="warm", baseline="cold")
    quiet = dataclasses.replace(report, compiled=())  # the rebuild compiled nothing
    assert quiet.ok and quiet.skip_reason is not None
    assert "nothing was compiled after the edit: it reached no step that compiles Rust" in quiet.skip_reason


def test_a_cached_baseline_leaves_the_marked_step_to_name_the_dependencies() -> None:
    report = verdict("buildkit", baseline="warm")  # the baseline came from cache: it shows no cook output
    assert report.ok and report.skip_reason is None  # the rebuild compiled the own crates
    (deps,) = report.deps_steps
    assert (deps.stage, deps.crates, deps.cached_after) == ("cook", None, True)


def test_a_baseline_from_cache_is_said_to_show_no_dependency_step() -> None:
    dockerfile = render(Recipe(strategy="naive", package="p", binary="p"))
    (build,) = [i.text for s in instructions.parse(dockerfile) for i in s.instructions if i.keyword == "RUN"]
    report = assess(
        edit="e",
        strategy="naive",
        engine="docker",
        baseline_log=_buildkit(dockerfile, {}, cached=(build,)),
        baseline="b",
        baseline_seconds=1,
        rebuild_log=_buildkit(dockerfile, {build: ["itoa v1.0.19"]}),
        rebuild_seconds=1,
        own_crates=["p"],
        dockerfile=dockerfile,
    )
    assert not report.ok and report.deps_steps == ()
    assert "the first build's log shows no step compiling third-party crates" in report.describe()


def test_a_report_survives_being_stored() -> None:
    report = verdict("buildah", phase="cold")
    again = from_data(json.loads(json.dumps(to_data(report))))
    assert again.stored and not report.stored
    assert again == report and again.describe() == report.describe()
    with pytest.raises(ValueError, match="not a stored cache report"):
        from_data({"edit": "e"})

"""Reading real build logs of BuildKit, buildah and the legacy builder the same way."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_rustimage.cachecheck.buildlog import Compiled, compiled_crates, marked, opens_step, parse_steps

DATA = Path(__file__).resolve().parents[1] / "data"
BUILDERS = ["buildkit", "buildah", "legacy"]


def log(builder: str, phase: str) -> str:
    return (DATA / f"workspace-chef-{builder}-{phase}.log").read_text()


@pytest.mark.parametrize("builder", BUILDERS)
def test_warm_build_after_a_source_edit(builder: str) -> None:
    steps = parse_steps(log(builder, "warm"))
    deps, build = marked(steps, "deps"), marked(steps, "build")
    assert deps is not None and build is not None
    assert deps.stage == "cook" and deps.cached
    assert build.stage == "build" and not build.cached
    assert compiled_crates(build.output) == [
        Compiled("ws-cli", "0.1.0", "/app/crates/cli"),
        Compiled("ws-core", "0.1.0", "/app/crates/core"),
    ]
    cached = {(s.stage, s.instruction.split()[0]) for s in steps if s.cached}
    assert ("cook", "COPY") in cached  # the vendored sources and the recipe
    planner = [s for s in steps if s.stage == "planner" and s.instruction.startswith("COPY")]
    assert planner and not any(s.cached for s in planner)  # the edited source reached the planner


@pytest.mark.parametrize("builder", BUILDERS)
def test_cold_build_runs_everything_and_compiles_dependencies_in_cook(builder: str) -> None:
    steps = parse_steps(log(builder, "cold"))
    assert not any(s.cached for s in steps if not s.instruction.startswith("FROM"))  # BuildKit: FROM "CACHED"
    deps = marked(steps, "deps")
    assert deps is not None
    names = [c.name for c in compiled_crates(deps.output)]
    assert "itoa" in names  # the one third-party crate, compiled in the dependency stage


def test_buildah_results_go_to_the_right_step_when_stages_interleave() -> None:
    """buildah opens the runtime stage's COPY --from=build before the build stage runs; ids must not swap."""
    steps = parse_steps(log("buildah", "warm"))
    copy = next(s for s in steps if s.stage == "runtime" and s.instruction.startswith("COPY --from=build"))
    build = marked(steps, "build")
    assert build is not None
    assert copy.cached and copy.image_id.startswith("4e06c59989a")
    assert build.image_id == "69c20e5deda" and not build.cached


def test_buildah_and_legacy_record_step_image_ids() -> None:
    deps = marked(parse_steps(log("buildah", "warm")), "deps")
    assert deps is not None and deps.image_id.startswith("19525142560a")
    legacy = marked(parse_steps(log("legacy", "warm")), "deps")
    assert legacy is not None and legacy.image_id == "167cb56df73e"


def test_compiling_lines() -> None:
    lines = [
        "   Compiling tokio v1.54.1",
        "#16 0.291    Compiling not-this v1",  # a raw BuildKit line is not stripped here
        "   Compiling hello v0.1.0 (/app)",
        "warning: unused",
        "    Finished `release` profile",
    ]
    assert compiled_crates(lines) == [Compiled("tokio", "1.54.1", None), Compiled("hello", "0.1.0", "/app")]


def test_no_marker_no_step() -> None:
    assert marked(parse_steps("#5 [build 2/2] RUN cargo build --release\n#5 CACHED\n"), "build") is None
    assert parse_steps("") == []


def test_buildkit_pads_step_numbers_in_stages_of_ten_steps_or_more() -> None:
    log = (
        "#9 [build  3/10] RUN RUST_IMAGE_STEP=deps && cargo build --release\n#9 CACHED\n"
        "#16 [build 10/10] RUN RUST_IMAGE_STEP=build && cargo build --release\n"
        "#16 0.312    Compiling server v0.1.0 (/app)\n#16 DONE 4.0s\n"
    )
    steps = parse_steps(log)
    deps, build = marked(steps, "deps"), marked(steps, "build")
    assert deps is not None and deps.stage == "build" and deps.cached
    assert build is not None and compiled_crates(build.output) == [Compiled("server", "0.1.0", "/app")]


@pytest.mark.parametrize("builder", BUILDERS)
def test_progress_shows_every_step_parse_steps_reads_in_real_logs(builder: str) -> None:
    """The one pattern of step openings serves both: every step parse_steps reads is a progress line."""
    for phase in ("cold", "warm"):
        text = log(builder, phase)
        shown = [line for line in text.splitlines() if opens_step(line)]
        assert len(shown) >= len(parse_steps(text)) > 0
        assert all(any(step.instruction in line for line in shown) for step in parse_steps(text))


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        ("#7 [cook 4/4] RUN RUST_IMAGE_STEP=deps && cargo chef cook", True),
        ("#9 [build  3/10] RUN cargo build", True),
        ("#1 [internal] load build definition from Dockerfile", True),  # BuildKit's own work: shown
        ("#4 [auth] library/rust:pull token for registry-1.docker.io", True),
        ("#7 CACHED", False),
        ("#7 0.385    Compiling ws-core v0.1.0", False),
        ("[3/5] STEP 3/3: RUN cargo build", True),
        ("STEP 1/4: FROM rust:1-bookworm AS chef", True),
        ("Step 9/14 : RUN cargo build", True),
        (" ---> Using cache", False),
        ("--> 1a2b3c4d5e6f", False),
        ("   Compiling serde v1.0.0", False),
        ("step 1/2: lower case", False),
    ],
)
def test_which_lines_a_builds_progress_shows(line: str, shown: bool) -> None:
    assert opens_step(line) is shown


def test_buildkits_own_bracketed_work_is_progress_but_no_step() -> None:
    text = "#1 [internal] load build definition from Dockerfile\n#1 DONE 0.0s\n#2 [cook 1/2] FROM x\n"
    assert [step.instruction for step in parse_steps(text)] == ["FROM x"]
    assert [line for line in text.splitlines() if opens_step(line)] == [text.splitlines()[0], text.splitlines()[2]]

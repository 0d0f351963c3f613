"""Why a step compiled the dependencies again: one Dockerfile per fault, each with exactly that fault.

Each Dockerfile has a dependency step (``COOK``-like) that came from cache after the edit, and a build
step that still compiled third-party crates; the logs are BuildKit's shape, made from the Dockerfile
(real logs of the features fault are in ``test_why_logs.py``'s data).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_rustimage.cachecheck.assess import assess
from pytest_rustimage.cachecheck.verdict import CacheReport
from pytest_rustimage.cachecheck.why import fingerprint_reason
from pytest_rustimage.recipe import instructions

THIRD_PARTY = ["rustls v0.23.31", "reqwest v0.12.23", "sha2 v0.10.9"]


def _log(dockerfile: str, compiled: dict[str, list[str]], cached: set[str], extra: dict[str, list[str]]) -> str:
    lines, n = [], 1
    for stage in instructions.parse(dockerfile):
        for step in stage.instructions[1:]:
            n += 1
            lines.append(f"#{n} [{stage.name} {n}/20] {step.text}")
            if step.text in cached:
                lines.append(f"#{n} CACHED")
                continue
            lines += [f"#{n} 1.0 {line}" for line in extra.get(step.text, [])]
            lines += [f"#{n} 1.0    Compiling {crate}" for crate in compiled.get(step.text, [])]
            if step.keyword == "RUN":
                lines.append(f"#{n} 2.0     Finished `release` profile [optimized] target(s) in 1.0s")
    return "\n".join(lines) + "\n"


def judged(dockerfile: str, deps: str, build: str, extra: dict[str, list[str]] | None = None) -> CacheReport:
    """The baseline: ``deps`` and ``build`` compile the third-party crates (the build its own too); the
    rebuild after an edit of src/main.rs: ``deps`` from cache, ``build`` compiles them all again."""
    deps, build = instructions.normalise(deps), instructions.normalise(build)
    compiled = {deps: THIRD_PARTY, build: [*THIRD_PARTY, "app v0.1.0 (/app)"]}
    first = _log(dockerfile, compiled, set(), {})
    after = _log(dockerfile, {build: compiled[build]}, {deps}, extra or {})
    report = assess(
        edit="appended a comment to src/main.rs",
        strategy="dockerfile",
        engine="docker",
        baseline_log=first,
        baseline="this session's build of the image",
        baseline_seconds=30.0,
        rebuild_log=after,
        rebuild_seconds=20.0,
        own_crates=["app"],
        dockerfile=dockerfile,
        edited="src/main.rs",
    )
    assert not report.ok and report.third_party_recompiled == tuple(THIRD_PARTY)
    assert [d.cached_after for d in report.deps_steps] == [True, False]
    return report


def why(report: CacheReport) -> str:
    (hint,) = [h for h in report.hints if h.startswith("the dependency step")]
    assert "comes after `COPY" not in report.describe()  # the order is right: not blamed
    return hint


CHEF = """FROM rust:1-bookworm AS chef
RUN cargo install cargo-chef --locked
WORKDIR /app

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
COPY --from=planner /app/recipe.json recipe.json
{before_cook}RUN {cook}
{between}COPY . .
RUN {build}

FROM debian:bookworm-slim
COPY --from=builder /app/target/release/app /usr/local/bin/app
"""


def chef(cook: str, build: str, between: str = "", before_cook: str = "") -> CacheReport:
    dockerfile = CHEF.format(cook=cook, build=build, between=between, before_cook=before_cook)
    return judged(dockerfile, f"RUN {cook}", f"RUN {build}")


def test_git_cliffs_features_are_named_not_the_copy_order() -> None:
    """git-cliff 2.13's Dockerfile: cook with default features, build with three features of its own."""
    report = chef(
        "cargo chef cook --release --recipe-path recipe.json",
        "cargo build --release --no-default-features --features github --features gitlab --features bitbucket",
    )
    hint = why(report)
    assert hint.startswith(
        "the dependency step [builder] RUN cargo chef cook --release --recipe-path recipe.json came from cache "
        "after the edit, yet [builder] RUN cargo build --release --no-default-features --features github"
    )
    assert (
        "compiled third-party crates again: the dependencies it compiled did not reach that step: features: the "
        "cook built with default features; `cargo build` uses --no-default-features --features "
        "github,gitlab,bitbucket. cargo compiles a dependency once for each set of features, profile, target, "
        "flags and compiler, so the ones the cook compiled do not serve `cargo build`: give both the same "
        "(cook with --no-default-features --features github,gitlab,bitbucket)"
    ) in hint
    assert "profile:" not in hint and "stages:" not in hint  # nothing else differs
    assert hint in report.describe()


def test_the_same_features_in_another_order_are_the_same() -> None:
    report = chef(
        "cargo chef cook --release --features a,b --recipe-path recipe.json", "cargo build --release -F b -F a"
    )
    assert "features:" not in why(report) and "does not tell why" in why(report)


def test_all_features_against_default_features() -> None:
    report = chef("cargo chef cook --release --all-features --recipe-path recipe.json", "cargo build --release")
    assert "features: the cook built with --all-features; `cargo build` uses default features" in why(report)


def test_profile() -> None:
    report = chef("cargo chef cook --recipe-path recipe.json", "cargo build --release")
    assert "profile: the cook built the dev profile; `cargo build` builds the release profile" in why(report)
    assert "give both the same (the same flags, and the same ENV/ARG variables in both stages)" in why(report)


def test_custom_profile() -> None:
    report = chef("cargo chef cook --release --recipe-path recipe.json", "cargo build --profile=dist")
    assert "profile: the cook built the release profile; `cargo build` builds the dist profile" in why(report)


def test_target() -> None:
    report = chef(
        "cargo chef cook --release --target x86_64-unknown-linux-musl --recipe-path recipe.json",
        "cargo build --release",
    )
    assert "target: the cook built for x86_64-unknown-linux-musl; `cargo build` builds for the host" in why(report)


def test_a_target_set_by_env_for_the_build_only() -> None:
    report = chef(
        "cargo chef cook --release --recipe-path recipe.json",
        "cargo build --release",
        between="ENV CARGO_BUILD_TARGET=aarch64-unknown-linux-gnu\n",
    )
    assert "target: the cook built for the host; `cargo build` builds for aarch64-unknown-linux-gnu" in why(report)


def test_rustflags_set_between_cook_and_build() -> None:
    report = chef(
        "cargo chef cook --release --recipe-path recipe.json",
        "cargo build --release",
        between='ENV RUSTFLAGS="-C target-cpu=native"\n',
    )
    assert (
        "variables (RUSTFLAGS, CARGO_*): the cook ran with none of them set; `cargo build` runs with "
        "RUSTFLAGS=-C target-cpu=native"
    ) in why(report)


def test_rustflags_given_inline_to_the_cook_only() -> None:
    report = chef(
        "RUSTFLAGS='-C target-feature=+crt-static' cargo chef cook --release --recipe-path recipe.json",
        "cargo build --release",
    )
    assert "the cook ran with RUSTFLAGS=-C target-feature=+crt-static; `cargo build` runs with none" in why(report)


def test_rustflags_set_for_both_are_no_difference() -> None:
    report = chef(
        "cargo chef cook --release --recipe-path recipe.json",
        "cargo build --release",
        before_cook='ENV RUSTFLAGS="-C target-cpu=native"\n',
    )
    assert "variables (RUSTFLAGS" not in why(report) and "does not tell why" in why(report)


def test_toolchain() -> None:
    report = chef("cargo chef cook --release --recipe-path recipe.json", "cargo +nightly build --release")
    assert "toolchain: the cook ran cargo without +toolchain; `cargo build` +nightly" in why(report)


def test_a_config_given_to_the_build_only() -> None:
    report = chef(
        "cargo chef cook --release --recipe-path recipe.json", "cargo build --release --config profile.release.lto=true"
    )
    assert "--config: the cook ran with none; `cargo build` with profile.release.lto=true" in why(report)


def test_a_profile_variable_set_for_the_build_only() -> None:
    report = chef(
        "cargo chef cook --release --recipe-path recipe.json",
        "cargo build --release",
        between="ARG CARGO_PROFILE_RELEASE_OPT_LEVEL=s\n",
    )
    assert "`cargo build` runs with CARGO_PROFILE_RELEASE_OPT_LEVEL=s" in why(report)


def test_package_selection_when_nothing_else_differs() -> None:
    report = chef("cargo chef cook --release --recipe-path recipe.json", "cargo build --release -p app-cli")
    assert "packages: the cook built the default members; `cargo build` builds -p app-cli" in why(report)


def test_a_bin_selection_is_no_difference() -> None:
    """cargo-chef's own README builds ``--bin app`` after a cook of everything: the same units."""
    report = chef("cargo chef cook --release --recipe-path recipe.json", "cargo build --release --bin app")
    assert "packages:" not in why(report) and "does not tell why" in why(report)


def test_cook_and_build_in_other_folders_of_one_stage() -> None:
    report = chef(
        "cargo chef cook --release --recipe-path recipe.json", "cargo build --release", between="WORKDIR /src\n"
    )
    assert (
        "folder: the dependency step's target folder is /app/target, the build's /src/target (its folder, or "
        "CARGO_TARGET_DIR): run both in the same folder"
    ) in why(report)


def test_a_cook_into_a_cache_mount_that_the_build_does_not_mount() -> None:
    report = chef(
        "--mount=type=cache,target=/app/target cargo chef cook --release --recipe-path recipe.json",
        "cargo build --release",
    )
    assert (
        "cache mount: the dependency step builds into a cache mount (/app/target), which is not part of its layer, "
        "and the build does not mount the same cache there"
    ) in why(report)
    assert "features:" not in why(report)


def test_the_same_cache_mount_on_both_is_no_fault() -> None:
    report = chef(
        "--mount=type=cache,target=target,sharing=locked cargo chef cook --release --recipe-path recipe.json",
        "--mount=type=cache,target=/app/target,sharing=locked cargo build --release",
    )
    assert "cache mount" not in why(report) and "does not tell why" in why(report)


def test_one_target_dir_for_both_but_other_folders() -> None:
    report = chef(
        "cargo chef cook --release --recipe-path recipe.json",
        "cargo build --release",
        before_cook="ENV CARGO_TARGET_DIR=/target\n",
        between="WORKDIR /src\n",
    )
    hint = why(report)
    assert "folder:" not in hint
    assert "sources moved: the dependency step ran cargo in /app, the build in /src" in hint
    assert "PathToSourceChanged" in hint


# --- the build in another stage than the cook ----------------------------------------------------------

STAGES = """FROM {cook_image} AS cook
WORKDIR /app
COPY Cargo.toml Cargo.lock ./
RUN mkdir src && echo 'fn main() {{}}' > src/main.rs && cargo build --release

FROM {build_image} AS build
WORKDIR {workdir}
{copy}COPY . .
RUN cargo build --release
"""
DEPS_STEP = "RUN mkdir src && echo 'fn main() {}' > src/main.rs && cargo build --release"


def stages(copy: str, cook_image: str = "rust:1.85", build_image: str = "rust:1.85", workdir: str = "/app") -> str:
    dockerfile = STAGES.format(copy=copy, cook_image=cook_image, build_image=build_image, workdir=workdir)
    return why(judged(dockerfile, DEPS_STEP, "RUN cargo build --release"))


def test_the_compiled_target_never_reaches_the_build_stage() -> None:
    hint = stages(copy="")
    assert hint.startswith(
        "the dependency step [cook] RUN mkdir src && echo 'fn main() {}' > src/main.rs && cargo build --release "
        "came from cache after the edit, yet [build] RUN cargo build --release compiled third-party crates again"
    )
    assert (
        "stages: the build runs in another stage than the dependency step (cook), and no `COPY --from=cook` "
        "brings its /app/target into the build: copy the whole target folder (`COPY --from=cook /app/target "
        "/app/target`), or build in the same stage"
    ) in hint


def test_only_the_deps_folder_is_carried_over() -> None:
    hint = stages(copy="COPY --from=cook /app/target/release/deps target/release/deps\n")
    assert (
        "fingerprints: `COPY --from=cook /app/target/release/deps target/release/deps` copies part of /app/target "
        "only: cargo's fingerprints (.fingerprint/) and build-script outputs (build/) stay behind"
    ) in hint


def test_the_target_folder_lands_elsewhere() -> None:
    hint = stages(copy="COPY --from=cook /app/target /target\n")
    assert (
        "folder: `COPY --from=cook /app/target /target` puts the dependency step's target folder at /target, the "
        "build uses /app/target"
    ) in hint


def test_the_whole_target_folder_in_another_workdir() -> None:
    hint = stages(copy="COPY --from=cook /app/target target\n", workdir="/src")
    assert "sources moved: the dependency step ran cargo in /app, the build in /src" in hint
    assert "stages:" not in hint and "fingerprints:" not in hint and "folder:" not in hint


def test_the_stages_stand_on_other_toolchains() -> None:
    hint = stages(copy="COPY --from=cook /app/target target\n", cook_image="rust:1.80", build_image="rust:1.85")
    assert "base image: the dependency step's stage stands on rust:1.80, the build's on rust:1.85" in hint
    assert "stages:" not in hint and "fingerprints:" not in hint


def test_a_whole_target_copied_right_cannot_be_told_and_says_what_was_read() -> None:
    hint = stages(copy="COPY --from=cook /app/target target\n")
    assert hint.endswith(
        "and the Dockerfile does not tell why: the two cargo commands ask for the same features, profile, target, "
        "variables and toolchain; the compiled target/ reaches the step and the stages stand on the same image; "
        "a build with CARGO_LOG=cargo::core::compiler::fingerprint=info (an ARG or ENV of the build stage) prints "
        "cargo's reason for each dirty unit"
    )


# --- the copy order, cargo's own words ------------------------------------------------------------------


def test_a_cook_after_copying_everything_is_blamed_on_the_copy() -> None:
    """The one case for the old explanation: the dependency step itself ran again after ``COPY . .``."""
    dockerfile = CHEF.format(
        cook="cargo chef cook --release --recipe-path recipe.json",
        build="cargo build --release",
        between="",
        before_cook="",
    ).replace("COPY --from=planner /app/recipe.json recipe.json\n", "COPY . .\n")
    cook = "RUN cargo chef cook --release --recipe-path recipe.json"
    compiled = {cook: THIRD_PARTY}
    log = _log(dockerfile, compiled, set(), {})
    report = assess(
        edit="e",
        strategy="dockerfile",
        engine="docker",
        baseline_log=log,
        baseline="b",
        baseline_seconds=1,
        rebuild_log=log,
        rebuild_seconds=1,
        own_crates=["app"],
        dockerfile=dockerfile,
        edited="src/main.rs",
    )
    (hint,) = report.hints
    assert hint.startswith("the step that compiles the dependencies comes after `COPY . .` in stage builder")


FINGERPRINT_LINES = [
    '   0.02s  INFO prepare_target{force=false package_id=app v0.1.0 (/app) target="app"}: '
    "cargo::core::compiler::fingerprint: fingerprint dirty for app v0.1.0 (/app)/Build/TargetInner { .. }",
    '   0.02s  INFO prepare_target{force=false package_id=app v0.1.0 (/app) target="app"}: '
    "cargo::core::compiler::fingerprint:     dirty: UnitDependencyInfoChanged { unit: UnitIndex(0) }",
    '   0.02s  INFO prepare_target{force=false package_id=itoa v1.0.19 target="itoa"}: '
    "cargo::core::compiler::fingerprint: fingerprint dirty for itoa v1.0.19/Build/TargetInner { .. }",
    '   0.02s  INFO prepare_target{force=false package_id=itoa v1.0.19 target="itoa"}: '
    "cargo::core::compiler::fingerprint:     dirty: PathToSourceChanged",
]


def test_cargos_fingerprint_log_is_quoted_for_the_first_third_party_unit() -> None:
    """Lines as cargo 1.95 printed them with CARGO_LOG=cargo::core::compiler::fingerprint=info after the
    workspace, with vendored sources inside it, moved (the own crate's line comes first and is passed by)."""
    assert fingerprint_reason(FINGERPRINT_LINES, frozenset({"app"})) == "itoa v1.0.19: PathToSourceChanged"
    build = "cargo build --release"
    dockerfile = CHEF.format(
        cook="cargo chef cook --release --recipe-path recipe.json", build=build, between="", before_cook=""
    )
    report = judged(
        dockerfile,
        "RUN cargo chef cook --release --recipe-path recipe.json",
        f"RUN {build}",
        {f"RUN {build}": FINGERPRINT_LINES},
    )
    assert (
        "- cargo's fingerprint log in [builder] RUN cargo build --release: itoa v1.0.19: PathToSourceChanged"
        in report.describe()
    )


def test_a_unit_without_a_fingerprint_is_read_as_never_built_there() -> None:
    lines = [
        'INFO prepare_target{package_id=serde_core v1.0.229 target="serde_core"}: cargo::core::compiler::fingerprint: '
        'fingerprint error for serde_core v1.0.229/Build/TargetInner { ..: lib_target("serde_core") }',
        'INFO prepare_target{package_id=serde_core v1.0.229 target="serde_core"}: cargo::core::compiler::fingerprint:'
        "     err: failed to read `/app/target/release/.fingerprint/serde_core-364874f8577855d6/lib-serde_core`",
    ]
    said = fingerprint_reason(lines, frozenset())
    assert said.startswith("serde_core v1.0.229: failed to read `/app/target/release/.fingerprint/serde_core-")
    assert said.endswith("or its fingerprints were not carried over)")
    assert fingerprint_reason(lines[1:], frozenset()) == ""


@pytest.mark.parametrize("own", [frozenset({"itoa"}), frozenset()])
def test_no_fingerprint_lines_no_quote(own: frozenset[str]) -> None:
    assert fingerprint_reason(["   Compiling itoa v1.0.19"], own) == ""


def test_a_cargo_install_of_a_tool_is_no_dependency_step() -> None:
    """``cargo install cargo-chef`` compiled third-party crates in the baseline and came from cache; the
    cook after ``COPY . .`` ran again: the copy is to blame, not the tool's install."""
    dockerfile = CHEF.format(
        cook="cargo chef cook --release --recipe-path recipe.json",
        build="cargo build --release",
        between="",
        before_cook="",
    ).replace("COPY --from=planner /app/recipe.json recipe.json\n", "COPY . .\n")
    install, cook = "RUN cargo install cargo-chef --locked", "RUN cargo chef cook --release --recipe-path recipe.json"
    first = _log(dockerfile, {install: ["clap v4.5.60"], cook: THIRD_PARTY}, set(), {})
    after = _log(dockerfile, {cook: THIRD_PARTY}, {install}, {})
    report = assess(
        edit="e",
        strategy="dockerfile",
        engine="docker",
        baseline_log=first,
        baseline="b",
        baseline_seconds=1,
        rebuild_log=after,
        rebuild_seconds=1,
        own_crates=["app"],
        dockerfile=dockerfile,
        edited="src/main.rs",
    )
    (hint,) = report.hints
    assert hint.startswith("the step that compiles the dependencies comes after `COPY . .` in stage builder")


def test_a_baseline_from_cache_finds_the_cook_in_the_rebuild() -> None:
    """The image was reused: the baseline came from cache and shows no dependency step; the rebuild's
    cached cook before the build is compared all the same."""
    cook = "cargo chef cook --release --recipe-path recipe.json"
    build = "cargo build --release --no-default-features --features small"
    dockerfile = CHEF.format(cook=cook, build=build, between="", before_cook="")
    every = {i.text for s in instructions.parse(dockerfile) for i in s.instructions}
    report = assess(
        edit="e",
        strategy="dockerfile",
        engine="docker",
        baseline_log=_log(dockerfile, {}, every, {}),
        baseline="b",
        baseline_seconds=1,
        rebuild_log=_log(dockerfile, {f"RUN {build}": THIRD_PARTY}, every - {f"RUN {build}", "COPY . ."}, {}),
        rebuild_seconds=1,
        own_crates=["app"],
        dockerfile=dockerfile,
        edited="src/main.rs",
    )
    assert report.deps_steps == ()
    (hint,) = report.hints
    assert "features: the cook built with default features; `cargo build` uses --no-default-features" in hint


# --- real logs: git-cliff's fault on recipes, cargo's fingerprint log on (tests/unit/data/README.md) ---

DATA = Path(__file__).resolve().parents[1] / "data"
SAMPLE = Path(__file__).resolve().parents[3] / "sample_crates" / "recipes" / "Dockerfile.chef"
LOGGED_BUILD = (
    "RUN CARGO_LOG=cargo::core::compiler::fingerprint=info cargo build --release --locked --no-default-features "
    "--features small"
)


@pytest.mark.parametrize("builder", ["buildkit", "buildah"])
def test_real_logs_of_a_cook_with_other_features(builder: str) -> None:
    dockerfile = SAMPLE.read_text().replace("RUN cargo build --release --locked\n", LOGGED_BUILD + "\n")
    report = assess(
        edit="appended a comment to src/main.rs",
        strategy="dockerfile",
        engine=builder,
        baseline_log=(DATA / f"why-features-{builder}-cold.log").read_text(),
        baseline="b",
        baseline_seconds=10.0,
        rebuild_log=(DATA / f"why-features-{builder}-warm.log").read_text(),
        rebuild_seconds=4.0,
        own_crates=["recipes"],
        dockerfile=dockerfile,
        edited="src/main.rs",
    )
    assert not report.ok and report.third_party_recompiled == ("serde_core v1.0.229",)
    cook = "RUN cargo chef cook --release --locked --recipe-path recipe.json"
    assert [(d.instruction, d.cached_after) for d in report.deps_steps] == [(cook, True), (LOGGED_BUILD, False)]
    because, quoted = report.hints
    assert quoted == (
        f"cargo's fingerprint log in [builder] {LOGGED_BUILD[:100]}: serde_core v1.0.229: failed to read "
        "`/app/target/release/.fingerprint/serde_core-364874f8577855d6/lib-serde_core` (no fingerprint of this "
        "unit in the target folder: never built there with these features, profile, target and flags, or its "
        "fingerprints were not carried over)"
    )
    assert because.startswith(f"the dependency step [builder] {cook} came from cache after the edit")
    assert (
        "features: the cook built with default features; `cargo build` uses --no-default-features --features small"
    ) in because
    assert because.endswith("(cook with --no-default-features --features small)")
    assert "comes after `COPY" not in report.describe()


def deps_only_dockerfile() -> str:
    """capture-why.sh's ``deps-only`` Dockerfile: the build in a stage of its own, with only target/release/deps."""
    text = SAMPLE.read_text().replace(
        "RUN cargo build --release --locked\n",
        "RUN CARGO_LOG=cargo::core::compiler::fingerprint=info cargo build --release --locked\n",
    )
    head, _, tail = text.partition("--recipe-path recipe.json\nCOPY . .\n")
    stage = (
        "--recipe-path recipe.json\nFROM chef AS build\nCOPY .cargo .cargo\nCOPY vendor vendor\n"
        "COPY --from=builder /app/target/release/deps target/release/deps\nCOPY . .\n"
    )
    return (
        head
        + stage
        + tail.replace(
            "COPY --from=builder /app/target/release/recipes", "COPY --from=build /app/target/release/recipes"
        )
    )


@pytest.mark.parametrize("builder", ["buildkit", "buildah"])
def test_real_logs_of_a_build_stage_with_only_the_deps_folder(builder: str) -> None:
    report = assess(
        edit="appended a comment to src/main.rs",
        strategy="dockerfile",
        engine=builder,
        baseline_log=(DATA / f"why-deps-only-{builder}-cold.log").read_text(),
        baseline="b",
        baseline_seconds=10.0,
        rebuild_log=(DATA / f"why-deps-only-{builder}-warm.log").read_text(),
        rebuild_seconds=4.0,
        own_crates=["recipes"],
        dockerfile=deps_only_dockerfile(),
        edited="src/main.rs",
    )
    assert not report.ok and report.third_party_recompiled == ("itoa v1.0.19",)
    because, quoted = report.hints
    assert because.startswith(
        "the dependency step [builder] RUN cargo chef cook --release --locked --recipe-path recipe.json came from "
        "cache after the edit, yet [build] RUN CARGO_LOG="
    )
    assert because.endswith(
        "fingerprints: `COPY --from=builder /app/target/release/deps target/release/deps` copies part of /app/target "
        "only: cargo's fingerprints (.fingerprint/) and build-script outputs (build/) stay behind, so cargo cannot "
        "know the dependencies are built and builds them again; copy the whole folder (`COPY --from=builder "
        "/app/target /app/target`)"
    )
    assert "features:" not in because and "comes after `COPY" not in report.describe()
    assert quoted.endswith(
        "itoa v1.0.19: failed to read `/app/target/release/.fingerprint/itoa-93bee6d51e4296ed/lib-itoa` (no "
        "fingerprint of this unit in the target folder: never built there with these features, profile, target and "
        "flags, or its fingerprints were not carried over)"
    )

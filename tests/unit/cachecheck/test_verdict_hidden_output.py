"""The cache verdict when cargo's output is hidden, judged from real logs of the three builders.

``tests/unit/data/hidden-WAY-BUILDER-{cold,warm}.log``: the ``recipes`` sample (one vendored dependency,
``itoa``) built with a naive Dockerfile (``COPY . .`` then one ``RUN cargo build``) whose cargo output
is hidden in one WAY, cold, then again after a comment was appended to ``src/main.rs``
(``tests/unit/data/capture-hidden.sh``). After the edit the build step ran again and compiled ``itoa``
each time: only the logs that show it may say so, and the others must not pass.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from pytest_rustimage.cachecheck.assess import assess
from pytest_rustimage.cachecheck.edit import Edit
from pytest_rustimage.cachecheck.edits import KindEdit
from pytest_rustimage.cachecheck.matrix import CacheMatrix
from pytest_rustimage.cachecheck.matrix import judge as judge_row
from pytest_rustimage.cachecheck.verdict import SHOW_OUTPUT, CacheReport, from_data, to_data
from pytest_rustimage.checks import cache as cache_check
from pytest_rustimage.checks.base import CheckFailed, Context
from pytest_rustimage.recipe.dockerfile import Recipe
from pytest_rustimage.recipe.strategies import render

DATA = Path(__file__).resolve().parents[1] / "data"
BUILDERS = ["buildkit", "legacy", "buildah"]
RUNS = {
    "shown": "RUN cargo build --release --locked",
    "q": "RUN cargo build --release --locked -q",
    "term-quiet": "RUN CARGO_TERM_QUIET=true cargo build --release --locked",
    "json": "RUN cargo build --release --locked --message-format=json",
    "devnull": "RUN cargo build --release --locked > /dev/null 2>&1",
    "file": "RUN cargo build --release --locked > build.log 2>&1",
}
HOW = {
    "q": "`-q` (cargo's quiet flag)",
    "term-quiet": "CARGO_TERM_QUIET=true",
    "devnull": "cargo's stderr goes to /dev/null",
    "file": "cargo's stderr goes to build.log",
}
HEAD = "ARG BUILDER_IMAGE=rust:1-bookworm\nFROM ${BUILDER_IMAGE} AS builder\nWORKDIR /app\n"
SPLIT = (
    HEAD
    + "COPY .cargo .cargo\nCOPY vendor vendor\nCOPY Cargo.toml Cargo.lock ./\n"
    + 'RUN mkdir src && echo "fn main() {}" > src/main.rs && cargo build --release --locked\n'
    + "COPY src ./src\nRUN touch src/main.rs && cargo build --release --locked -q\n"
)


def log(way: str, builder: str, phase: str) -> str:
    return (DATA / f"hidden-{way}-{builder}-{phase}.log").read_text()


def same_log(log: str, dockerfile: str, *, edited: str | None = None) -> CacheReport:
    """The verdict on a Docker build whose first build and rebuild show ``log`` alike."""
    return assess(
        edit="e",
        strategy="dockerfile",
        engine="docker",
        baseline_log=log,
        baseline="b",
        baseline_seconds=None,
        rebuild_log=log,
        rebuild_seconds=1.0,
        own_crates=["recipes"],
        dockerfile=dockerfile,
        edited=edited,
    )


def judge(way: str, builder: str, *, first: str | None = None, dockerfile: str | None = None) -> CacheReport:
    return assess(
        edit="appended a comment to src/main.rs",
        strategy="dockerfile",
        engine=builder,
        baseline_log=log(first or way, builder, "cold"),
        baseline="this session's build of the image",
        baseline_seconds=2.0,
        rebuild_log=log(way, builder, "warm"),
        rebuild_seconds=2.5,
        own_crates=["recipes"],
        dockerfile=dockerfile
        if dockerfile is not None
        else (SPLIT if way == "split" else HEAD + "COPY . .\n" + RUNS[way]),
        edited="src/main.rs",
    )


@pytest.mark.parametrize("builder", BUILDERS)
@pytest.mark.parametrize("way", ["q", "term-quiet", "devnull", "file"])
def test_hidden_output_is_inconclusive_and_says_how_to_show_it(way: str, builder: str) -> None:
    report = judge(way, builder)
    # the step compiled itoa again, unseen: neither a pass nor "nothing to prove"
    assert report.inconclusive and not report.ok and not report.deps_reused
    assert report.skip_reason is None
    assert report.third_party_recompiled == ()
    (after,) = report.undecided
    assert (after.stage, after.instruction, after.reasons) == ("builder", RUNS[way], (HOW[way],))
    assert report.summary().startswith(
        "appended a comment to src/main.rs: dependency layer not known (cargo's output hidden in 1 step(s) of the "
        "rebuild); recompiled 0 third-party and 0 own crate(s) that the log shows;"
    )
    text = report.describe()
    assert f"- cargo's output is hidden in [builder] {RUNS[way]} ({HOW[way]}): the log cannot show" in text
    assert f"- {SHOW_OUTPUT}" in text
    # the first build hid it too: the report does not claim it compiled no dependencies
    assert f"- the first build hid cargo's output in [builder] {RUNS[way]}" in text
    assert "the first build's log shows no step compiling third-party crates" not in text


@pytest.mark.parametrize("builder", BUILDERS)
@pytest.mark.parametrize("way", ["shown", "json"])
def test_output_that_reaches_the_log_is_judged(way: str, builder: str) -> None:
    """JSON messages go to stdout; cargo still writes Compiling and Finished to stderr, into the log."""
    report = judge(way, builder)
    assert not report.ok and not report.inconclusive and report.hidden == ()
    assert report.third_party_recompiled == ("itoa v1.0.19",) and report.own_recompiled == ("recipes v0.1.0",)
    assert "comes after `COPY . .` in stage builder" in report.describe()


@pytest.mark.parametrize("builder", BUILDERS)
def test_a_quiet_build_after_the_same_cached_command_is_judged_from_the_dockerfile(builder: str) -> None:
    """The dummy-main layout with a quiet last step: the dependency step (same cargo command) came from
    cache, only source files were copied between: the quiet step finds the dependencies built."""
    report = judge("split", builder)
    assert report.ok and not report.inconclusive and report.skip_reason is None
    (after,) = [h for h in report.hidden if h.build == "after"]
    assert after.settled.startswith("it runs after `COPY src ./src` on every edit, and runs the same cargo command")
    assert "recompiled 0 third-party and 0 own crate(s) that the log shows" in report.summary()
    assert "; judged all the same: it runs after `COPY src ./src`" in report.describe()


@pytest.mark.parametrize(
    "change",
    [
        ("COPY src ./src\n", "COPY src ./src\nENV RUSTFLAGS=-Ctarget-cpu=native\n"),  # a variable between
        ("COPY src ./src\n", "COPY . .\n"),  # manifests and configs copied again
        ("COPY src ./src\n", "COPY src ./src\nRUN ./prepare.sh\n"),  # a step between
    ],
)
def test_anything_that_could_rebuild_the_dependencies_leaves_it_open(change: tuple[str, str]) -> None:
    report = judge("split", "buildkit", dockerfile=SPLIT.replace(*change))
    assert report.inconclusive and not report.ok


def test_without_the_edited_file_nothing_is_settled() -> None:
    report = assess(
        edit="custom",
        strategy="dockerfile",
        engine="docker",
        baseline_log=log("split", "buildkit", "cold"),
        baseline="b",
        baseline_seconds=None,
        rebuild_log=log("split", "buildkit", "warm"),
        rebuild_seconds=1.0,
        own_crates=["recipes"],
        dockerfile=SPLIT,
        edited=None,
    )
    assert report.inconclusive


@pytest.mark.parametrize("builder", BUILDERS)
def test_a_first_build_that_hid_its_output_claims_nothing_about_it(builder: str) -> None:
    report = judge("shown", builder, first="q")  # the rebuild shows itoa compiled again
    assert not report.ok and not report.inconclusive
    assert report.third_party_recompiled == ("itoa v1.0.19",)
    assert report.deps_steps == ()  # none the first build showed
    text = report.describe()
    assert f"- the first build hid cargo's output in [{'' if builder == 'buildkit' else 'builder'}] {RUNS['q']}" in text
    assert "a step from cache prints nothing" not in text


def test_a_clipped_log_and_a_silent_cargo_are_hidden_too() -> None:
    dockerfile = HEAD + "COPY . .\nRUN cargo build --release\n"
    clipped = (
        "#5 [builder 3/3] RUN cargo build --release\n#5 0.3    Compiling recipes v0.1.0 (/app)\n"
        "#5 0.4 [output clipped, log limit 1MiB reached]\n#5 DONE 9.0s\n"
    )
    silent = "#5 [builder 3/3] RUN cargo build --release\n#5 DONE 9.0s\n"  # a cargo config's term.quiet, say
    for rebuild, reason in [(clipped, "the builder clipped the step's log"), (silent, "cargo ran, yet its log")]:
        report = same_log(rebuild, dockerfile)
        assert report.inconclusive and report.undecided[0].reasons[0].startswith(reason)


def test_an_inconclusive_report_survives_being_stored() -> None:
    report = judge("q", "buildah")
    again = from_data(json.loads(json.dumps(to_data(report))))
    assert again == report and again.inconclusive and again.describe() == report.describe()
    data = to_data(report)
    del data["hidden"]  # a report stored before hidden output was told: not one
    with pytest.raises(ValueError, match="not a stored cache report"):
        from_data(data)


class _Image:
    """What the cache check (:mod:`pytest_rustimage.checks.cache`) reads of an image: its spec's names and its probe."""

    def __init__(self, report: CacheReport) -> None:
        self.report = report
        self.spec = SimpleNamespace(crate=SimpleNamespace(name="recipes"), variant="dockerfile-docker")

    def cache_matrix(self) -> CacheMatrix:
        edit = Edit("src/main.rs", "appended a comment to src/main.rs", lambda root: None)
        return CacheMatrix((judge_row(KindEdit("source", edit), self.report),))


def test_the_cache_check_fails_an_inconclusive_verdict_naming_the_step() -> None:
    image = _Image(judge("q", "buildkit"))
    with pytest.raises(CheckFailed) as failed:
        cache_check.run([image], Context(), [])  # type: ignore[list-item]
    message = str(failed.value)
    assert message.startswith(
        "recipes (dockerfile-docker): cannot tell whether the dependency layer stays cached across a source-only "
        f"edit: cargo's output is hidden in [builder] {RUNS['q']}\n"
    )
    assert SHOW_OUTPUT in message
    # a settled quiet step passes; a visible recompilation fails as before
    properties: list[tuple[str, object]] = []
    cache_check.run([_Image(judge("split", "buildkit"))], Context(), properties)  # type: ignore[list-item]
    assert properties[0][0] == "rust_image_cache" and "dependency layer reused" in str(properties[0][1])
    with pytest.raises(CheckFailed, match="does not stay cached across a source-only edit"):
        cache_check.run([_Image(judge("shown", "buildkit"))], Context(), [])  # type: ignore[list-item]


@pytest.mark.parametrize("builder", BUILDERS)
@pytest.mark.parametrize("phase", ["cold", "warm"])
def test_the_generated_chef_steps_hide_nothing(builder: str, phase: str) -> None:
    """Real chef logs read with their own Dockerfile: the planner's `cargo chef prepare` (after the edited
    sources) compiles nothing, the cook and build steps show cargo's output: nothing is hidden."""
    dockerfile = render(Recipe(strategy="chef", package="ws-cli", binary="wsctl", vendored=True))
    workspace = (DATA / f"workspace-chef-{builder}-{phase}.log").read_text()
    report = assess(
        edit="appended a comment to crates/cli/src/main.rs",
        strategy="chef",
        engine=builder,
        baseline_log=(DATA / f"workspace-chef-{builder}-cold.log").read_text(),
        baseline="b",
        baseline_seconds=1.0,
        rebuild_log=workspace,
        rebuild_seconds=1.0,
        own_crates=["ws-cli", "ws-core", "ws-daemon"],
        dockerfile=dockerfile,
        edited="app/crates/cli/src/main.rs",
    )
    assert report.hidden == () and not report.inconclusive
    assert report.ok is (phase == "warm")


def test_a_script_that_may_run_cargo_unseen_is_not_nothing_to_prove() -> None:
    """`RUN ./build.sh` after `COPY . .` ran after the edit and shows no cargo output: it may have run
    `cargo build -q`. Not "nothing was compiled": inconclusive, naming the program."""
    dockerfile = HEAD + "COPY . .\nRUN ./build.sh\nRUN ls target\n"
    quiet = "#4 [builder 2/4] COPY . .\n#4 DONE 0.1s\n#5 [builder 3/4] RUN ./build.sh\n#5 DONE 9.0s\n"
    quiet += "#6 [builder 4/4] RUN ls target\n#6 0.1 release\n#6 DONE 0.1s\n"
    report = same_log(quiet, dockerfile, edited="src/main.rs")
    assert report.inconclusive and report.skip_reason is None
    (after,) = report.undecided
    assert after.instruction == "RUN ./build.sh"
    assert after.reasons == (
        "it ran with the edited sources copied in and runs `./build.sh`, which may run cargo, "
        "yet no cargo output shows",
    )
    heredoc = quiet.replace("RUN ./build.sh", "RUN <<EOF")
    report = same_log(
        heredoc, dockerfile.replace("RUN ./build.sh", "RUN <<EOF\ncargo build -q\nEOF"), edited="src/main.rs"
    )
    assert report.inconclusive and "runs a heredoc script, which may run cargo" in report.undecided[0].reasons[0]
    # a Dockerfile that copies a binary in still has nothing to prove
    binary = HEAD + "COPY recipes /usr/local/bin/recipes\nRUN chmod +x /usr/local/bin/recipes\n"
    copied = (
        "#4 [builder 2/3] COPY recipes /usr/local/bin/recipes\n#5 [builder 3/3] RUN chmod +x /usr/local/bin/recipes\n"
    )
    report = same_log(copied, binary, edited="src/main.rs")
    assert report.hidden == () and report.skip_reason is not None

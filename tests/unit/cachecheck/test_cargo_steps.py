"""Reading a RUN step's command: which cargo commands compile, and what keeps their output from the log."""

from __future__ import annotations

import pytest

from pytest_rustimage.cachecheck.cargo_steps import cargo_runs
from pytest_rustimage.cachecheck.shell_commands import commands
from pytest_rustimage.recipe import instructions
from pytest_rustimage.recipe.dockerfile import Recipe
from pytest_rustimage.recipe.strategies import render

QUIET = "`-q` (cargo's quiet flag)"


@pytest.mark.parametrize(
    ("step", "hidden"),
    [
        ("RUN cargo build --release --locked", ()),
        ("RUN cargo build --release --locked -q", (QUIET,)),
        ("RUN cargo build --quiet", ("`--quiet` (cargo's quiet flag)",)),
        ("RUN cargo build -rq", ("`-rq` (cargo's quiet flag)",)),
        ("RUN cargo build -p quux", ()),  # a package called quux, not quiet
        ("RUN cargo -q build", (QUIET,)),
        ("RUN cargo +nightly --config term.quiet=true build", ("`--config term.quiet=true`",)),
        ("RUN CARGO_TERM_QUIET=true cargo build --release", ("CARGO_TERM_QUIET=true",)),
        ("RUN env CARGO_TERM_QUIET=true cargo chef cook --release --recipe-path r.json", ("CARGO_TERM_QUIET=true",)),
        ("RUN export CARGO_TERM_QUIET=true; cargo auditable build --release", ("CARGO_TERM_QUIET=true",)),
        ("RUN CARGO_TERM_QUIET=false cargo build", ()),
        # cargo writes Compiling/Finished to stderr, also with JSON messages (which go to stdout)
        ("RUN cargo build --release --message-format=json", ()),
        ("RUN cargo build --message-format=json | jq -r .reason", ()),
        ("RUN cargo build --release > /dev/null 2>&1", ("cargo's stderr goes to /dev/null",)),
        ("RUN cargo build --release > build.log 2>&1", ("cargo's stderr goes to build.log",)),
        ("RUN cargo build --release 2>&1 > build.log", ()),  # stderr was copied before stdout moved
        ("RUN cargo build --release > build.log", ()),
        ("RUN cargo build --release &> /dev/null", ("cargo's stderr goes to /dev/null",)),
        ("RUN cargo build --release >& /dev/null", ("cargo's stderr goes to /dev/null",)),
        (
            "RUN cargo build --message-format=json 2>/dev/null",
            (
                "cargo's stderr goes to /dev/null (with --message-format=json cargo still writes Compiling/Finished "
                "to stderr)",
            ),
        ),
        ("RUN cargo build --release 2>&1 | tail -n 3", ("cargo's stderr goes to a pipe into `tail`",)),
        ("RUN cargo build --release |& grep -v Compiling", ("cargo's stderr goes to a pipe into `grep`",)),
        ("RUN cargo build --release 2>&1 | tee build.log", ()),
        ("RUN exec > /dev/null 2>&1; cargo install --path .", ("cargo's stderr goes to /dev/null",)),
        ("RUN (cargo fetch && cargo build) > /dev/null 2>&1", ("cargo's stderr goes to /dev/null",)),
        ("RUN { cargo build; } 2>/dev/null", ("cargo's stderr goes to /dev/null",)),
        ("RUN sh -c 'cargo build --release -q'", (QUIET,)),
        ('RUN /bin/bash -ec "cd app && cargo build --release > out.txt 2>&1"', ("cargo's stderr goes to out.txt",)),
        ('RUN ["cargo", "build", "-q"]', (QUIET,)),
        ("RUN --mount=type=cache,target=/app/target cargo build --release -q", (QUIET,)),
        ("RUN set -eux; if true; then time cargo build -q; fi", (QUIET,)),
    ],
)
def test_hidden_output_is_read_from_the_command(step: str, hidden: tuple[str, ...]) -> None:
    (run,) = cargo_runs(step)
    assert run.hidden == hidden


def test_only_commands_that_compile_count() -> None:
    assert cargo_runs("RUN cargo chef prepare --recipe-path recipe.json") == []
    assert cargo_runs("RUN cargo fetch && cargo metadata > /dev/null 2>&1 && cargo-chef --version") == []
    assert cargo_runs("RUN echo cargo build -q") == []
    names = [r.key[0] for r in cargo_runs("RUN cargo b && cargo chef cook && cargo auditable build && cargo install x")]
    assert names == ["b", "chef cook", "auditable build", "install"]


def test_the_dockerfile_environment_counts() -> None:
    dockerfile = "FROM rust AS build\nENV CARGO_TERM_QUIET=true\nCOPY . .\nRUN cargo build --release\n"
    env = instructions.env_before(instructions.parse(dockerfile), "RUN cargo build --release")
    assert env == {"CARGO_TERM_QUIET": "true"}
    (run,) = cargo_runs("RUN cargo build --release", env)
    assert run.hidden == ("CARGO_TERM_QUIET=true",)
    legacy_form = "FROM rust\nENV CARGO_TERM_QUIET true\nARG PROFILE=release\nRUN cargo build\n"
    assert instructions.env_before(instructions.parse(legacy_form), "RUN cargo build") == {
        "CARGO_TERM_QUIET": "true",
        "PROFILE": "release",
    }


def test_what_surely_ran_and_what_may_not_have() -> None:
    ran = [(c.words[:2], c.certain) for c in commands("RUN command -v cargo-chef || cargo install cargo-chef")]
    assert ran == [(("cargo-chef",), True), (("cargo", "install"), False)]
    ran = [(c.words[0], c.certain) for c in commands("RUN a || b && c; cargo build; if x; then y; fi; z")]
    assert ran == [("a", True), ("b", False), ("c", False), ("cargo", True), ("x", False), ("y", False), ("z", True)]


def test_the_key_leaves_out_only_what_hides_output() -> None:
    (quiet,) = cargo_runs("RUN touch src/main.rs && cargo build --release --locked -q")
    (loud,) = cargo_runs('RUN mkdir src && echo "fn main() {}" > src/main.rs && cargo build --release --locked')
    assert quiet.key == loud.key
    (flags,) = cargo_runs("RUN RUSTFLAGS=-Ctarget-cpu=native cargo build --release --locked -q")
    (elsewhere,) = cargo_runs("RUN cd sub && cargo build --release --locked -q")
    assert flags.key != loud.key and elsewhere.key != loud.key


@pytest.mark.parametrize("strategy", ["chef", "static", "incremental", "naive", "dummy-main"])
def test_the_generated_strategies_show_cargo_output(strategy: str) -> None:
    dockerfile = render(Recipe(strategy=strategy, package="p", binary="p", secrets=("TOKEN",)))
    stages = instructions.parse(dockerfile)
    steps = [i.text for s in stages for i in s.instructions if i.keyword == "RUN"]
    runs = [run for step in steps for run in cargo_runs(step, instructions.env_before(stages, step))]
    assert runs and all(run.hidden == () for run in runs)

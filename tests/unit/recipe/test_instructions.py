"""Reading Dockerfiles for the cache verdict: stages, continuations, what a step comes after."""

from __future__ import annotations

import pytest

from pytest_rustimage.recipe import instructions
from pytest_rustimage.recipe.dockerfile import Recipe
from pytest_rustimage.recipe.instructions import before, copy_sources, covers, invalidating_copy, parse
from pytest_rustimage.recipe.strategies import render

CHEF_USER = """# syntax=docker/dockerfile:1
ARG BUILDER_IMAGE=rust:1-bookworm
FROM ${BUILDER_IMAGE} AS chef
WORKDIR /app

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
COPY --from=planner /app/recipe.json recipe.json
COPY .cargo .cargo
COPY ["vendor", "vendor"]
RUN cargo chef cook --release \\
    # a comment inside the command
    --recipe-path recipe.json
COPY . .
RUN cargo build --release

FROM debian:bookworm-slim
COPY --from=builder /app/target/release/my-app /usr/local/bin/
CMD ["my-app"]
"""


def test_stages_and_continued_instructions() -> None:
    stages = parse(CHEF_USER)
    assert [(s.name, s.base) for s in stages] == [
        ("chef", "${BUILDER_IMAGE}"),
        ("planner", "chef"),
        ("builder", "chef"),
        ("3", "debian:bookworm-slim"),
    ]
    cook = stages[2].instructions[4]
    assert cook.text == "RUN cargo chef cook --release --recipe-path recipe.json"
    assert cook.stage == "builder" and cook.keyword == "RUN"


def test_what_a_copy_takes_from_the_context() -> None:
    stages = parse(CHEF_USER)
    copies = [copy_sources(i) for s in stages for i in s.instructions if i.keyword == "COPY"]
    assert copies == [(".",), (), (".cargo",), ("vendor",), (".",), ()]
    assert covers(".", "src/main.rs") and covers("./", "src/main.rs")
    assert covers("src", "src/main.rs") and covers("src/", "src/main.rs") and covers("app/", "app/src/main.rs")
    assert covers("src/*.rs", "src/main.rs") and covers("Cargo.*", "Cargo.toml")
    assert not covers("Cargo.toml", "src/main.rs") and not covers("vendor", "src/main.rs")


def test_the_cook_step_comes_after_its_parents_steps_but_not_after_copying_the_sources() -> None:
    stages = parse(CHEF_USER)
    cook = "RUN cargo chef cook --release --recipe-path recipe.json"
    found = before(stages, cook)
    assert found is not None
    stage, earlier = found
    assert stage.name == "builder"
    assert [i.text for i in earlier][:2] == ["FROM ${BUILDER_IMAGE} AS chef", "WORKDIR /app"]  # the chef stage's
    assert invalidating_copy(stages, cook, "src/main.rs") is None
    copy = invalidating_copy(stages, "RUN cargo build --release", "src/main.rs")
    assert copy is not None and copy.text == "COPY . ." and copy.stage == "builder"
    assert before(stages, "RUN something else") is None


@pytest.mark.parametrize("strategy", ["chef", "static"])
def test_the_generated_cook_step_is_after_no_source_copy(strategy: str) -> None:
    dockerfile = render(Recipe(strategy=strategy, package="p", binary="p", vendored=True))
    stages = parse(dockerfile)
    runs = [i.text for s in stages for i in s.instructions if i.keyword == "RUN"]
    cook = next(r for r in runs if "cargo chef cook" in r)
    build = next(r for r in runs if "cargo build" in r)
    assert invalidating_copy(stages, cook, "app/src/main.rs") is None
    copy = invalidating_copy(stages, build, "app/src/main.rs")
    assert copy is not None and copy.text == "COPY app/ ./"


def test_without_an_edited_path_only_whole_context_copies_count() -> None:
    stages = parse("FROM x AS a\nCOPY src src\nRUN cargo build\nFROM x AS b\nCOPY . .\nRUN cargo build --release\n")
    assert invalidating_copy(stages, "RUN cargo build", None) is None
    assert invalidating_copy(stages, "RUN cargo build", "src/main.rs") is not None
    copy = invalidating_copy(stages, "RUN cargo build --release", None)
    assert copy is not None and copy.stage == "b"


OWN_DOCKERFILE = """\
ARG RUST_VERSION=1.95
ARG RUNTIME=debian:bookworm-slim
FROM rust:${RUST_VERSION} AS build
RUN cargo build --release
FROM build AS test
RUN cargo test
FROM ${RUNTIME} AS runtime
COPY --from=build /app/target/release/app /usr/local/bin/app
FROM runtime AS final
LABEL x=y
"""


@pytest.mark.parametrize(
    ("dockerfile", "args", "target", "base"),
    [
        (OWN_DOCKERFILE, {}, None, "debian:bookworm-slim"),  # the last stage, through `FROM runtime`
        (OWN_DOCKERFILE, {"RUNTIME": "gcr.io/distroless/cc-debian12"}, None, "gcr.io/distroless/cc-debian12"),
        (OWN_DOCKERFILE, {}, "test", "rust:1.95"),  # a target stage, through `FROM build`
        (OWN_DOCKERFILE, {"RUST_VERSION": "1.80"}, "build", "rust:1.80"),
        (OWN_DOCKERFILE, {"NOT_DECLARED": "x"}, None, "debian:bookworm-slim"),
        ("FROM rust AS b\nRUN x\nFROM scratch\nCOPY --from=b /a /a\n", {}, None, "scratch"),
        ("ARG BASE\nFROM ${BASE:-alpine:3}\n", {}, None, "alpine:3"),
        ("ARG BASE\nFROM $BASE\n", {"BASE": "busybox"}, None, "busybox"),
        ("ARG BASE\nFROM $BASE\n", {}, None, None),  # no value: cannot be told, never guessed
        ("FROM debian\nARG LATE=x\nFROM ${LATE}\n", {"LATE": "y"}, None, None),  # only ARGs before the first FROM
        ("RUN echo no FROM\n", {}, None, None),
    ],
)
def test_the_final_base_of_a_dockerfile(
    dockerfile: str, args: dict[str, str], target: str | None, base: str | None
) -> None:
    assert instructions.final_base(dockerfile, args, target) == base

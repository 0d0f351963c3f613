"""Secret build args reach the build and nothing else; generated images run as a non-root user."""

from __future__ import annotations

import hashlib
import json
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.acceptance.project import NO_CACHE, Project

BUILD_RS = """\
fn main() {
    println!("cargo:rerun-if-env-changed=API_TOKEN");
    let token = std::env::var("API_TOKEN").unwrap_or_default();
    let sum: u64 = token.bytes().map(u64::from).sum();
    println!("cargo:rustc-env=TOKEN_PROOF={}-{}", token.len(), sum);
}
"""
MAIN_RS = 'fn main() { println!("proof {}", env!("TOKEN_PROOF")); }\n'

# a secret the step hashes, and a plain build arg the step uses (builders record those in the history)
DOCKERFILE = """\
ARG RUNTIME_IMAGE
FROM ${RUNTIME_IMAGE}
ARG PLAIN_ARG
RUN --mount=type=secret,id=API_TOKEN sha256sum /run/secrets/API_TOKEN | cut -c1-64 > /token.sha256 \\
 && echo "$PLAIN_ARG" > /dev/null
"""


def image_text(engine: str, ref: str) -> bytes:
    """Every byte the engine holds of an image: its archive (config, history, every layer), inspect, history."""
    saved = subprocess.run([engine, "save", ref], capture_output=True, check=True).stdout
    inspect = subprocess.run([engine, "image", "inspect", ref], capture_output=True, check=True).stdout
    history = subprocess.run([engine, "history", "--no-trunc", ref], capture_output=True, check=True).stdout
    return saved + inspect + history


def _tags(report: Path) -> list[tuple[str, str]]:
    return [(i["engine"], i["tag"]) for i in json.loads(report.read_text())["images"]]


def test_a_secret_build_arg_reaches_cargo_and_no_layer_history_or_env(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    canary = f"canary-{uuid.uuid4().hex}"
    crate = project.fresh("secretive", main_rs=MAIN_RS)
    (crate / "build.rs").write_text(BUILD_RS)
    proof = f"proof {len(canary)}-{sum(canary.encode())}"
    project.set_metadata(crate, secret_build_args='["API_TOKEN"]', expect_stdout=json.dumps(proof), args="[]")
    monkeypatch.setenv("API_TOKEN", canary)
    result = project.run(
        "secretive",
        "--rust-image-strategy=static,chef",
        "--rust-image-engine=all",
        NO_CACHE,
        "--rust-image-report=report.json",
    )
    result.assert_outcomes(passed=16)  # runs passing proves the build script saw the secret
    tags = _tags(project.path / "report.json")
    assert len(tags) == 4
    for engine, tag in tags:
        text = image_text(engine, tag)
        assert proof.encode() in text  # the scan does read the binary's bytes
        assert canary.encode() not in text, f"the secret leaked into {tag} on {engine}"


def test_a_secret_missing_from_the_environment_fails_the_build_clearly(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    crate = project.fresh("nosecret")
    project.set_metadata(crate, secret_build_args='["API_TOKEN"]')
    monkeypatch.delenv("API_TOKEN", raising=False)
    result = project.run("nosecret", "--rust-image-strategy=static", NO_CACHE)
    result.assert_outcomes(failed=1, skipped=3)
    result.stdout.fnmatch_lines(["*secret build arg(s) API_TOKEN not set in the environment; export them*"])


@pytest.mark.parametrize("engine", ["docker", "podman"])
def test_own_dockerfile_gets_the_secret_while_a_plain_build_arg_shows_in_history(
    project: Project, monkeypatch: pytest.MonkeyPatch, engine: str
) -> None:
    canary, plain = f"canary-{uuid.uuid4().hex}", f"plain-{uuid.uuid4().hex}"
    crate = project.fresh("ownsecret")
    (crate / "Dockerfile").write_text(DOCKERFILE)
    project.set_metadata(
        crate, secret_build_args='["API_TOKEN"]', build_args=f'{{ PLAIN_ARG = "{plain}" }}', expect_linkage='"any"'
    )
    monkeypatch.setenv("API_TOKEN", canary)
    result = project.run(
        "ownsecret",
        "--rust-image-strategy=dockerfile",
        f"--rust-image-engine={engine}",
        "--rust-image-checks=build",
        "--rust-image-report=report.json",
    )
    result.assert_outcomes(passed=1)
    [(_, tag)] = _tags(project.path / "report.json")
    hashed = subprocess.run(
        [engine, "run", "--rm", "--entrypoint", "cat", tag, "/token.sha256"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert hashed == hashlib.sha256(canary.encode()).hexdigest()  # the step read the secret
    text = image_text(engine, tag)
    assert plain.encode() in text  # what a plain build arg leaks, the scan finds
    assert canary.encode() not in text


def test_generated_images_run_as_a_non_root_numeric_user(project: Project) -> None:
    project.copy("hello")
    project.pytester.makepyfile(
        test_user="""
import pytest

@pytest.mark.rust_image(crate="hello")
def test_user(rust_image):
    assert rust_image.config.user == "65532:65532"
    if rust_image.spec.strategy == "chef":  # the slim runtime has `id`; scratch has nothing but the binary
        result = rust_image.engine.run(rust_image.id, ["-u"], entrypoint=["id"])
        assert result.stdout.strip() == "65532"
"""
    )
    result = project.run("test_user.py", "--rust-image-strategy=static,chef", "--rust-image-engine=all")
    result.assert_outcomes(passed=4)

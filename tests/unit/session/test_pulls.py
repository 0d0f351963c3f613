"""A failed base-image pull, read from real build logs of every builder."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_rustimage.session.pulls import pull_failure

DATA = Path(__file__).resolve().parents[1] / "data"
NO_DNS = "the registry's name does not resolve (no DNS, no network or no registry here)"


@pytest.mark.parametrize(
    ("log", "image", "why"),
    [
        ("pull-buildkit-no-such-host.log", "docker.io/library/rust:1-bookworm", NO_DNS),
        ("pull-podman-no-such-host.log", "rust:1-bookworm", NO_DNS),
        (
            "pull-podman-short-name.log",
            "rust:1-bookworm",
            "it is a short name and the registries configuration has no unqualified-search registries",
        ),
        ("pull-legacy-no-such-host.log", "rust:1-bookworm", NO_DNS),  # ${BUILDER_IMAGE} from the build args
    ],
)
def test_each_builders_failed_pull_names_the_image_and_why(log: str, image: str, why: str) -> None:
    found = pull_failure((DATA / log).read_text(), {"BUILDER_IMAGE": "rust:1-bookworm"})
    assert found is not None
    assert (found.image, found.why) == (image, why)
    advice = found.advice()
    assert advice.startswith(f"could not pull the base image {image}: {why}. ")
    assert "`python -m pytest_rustimage bases`" in advice and "`rust_image_bases = local`" in advice
    assert "rust_image_builder and rust_image_runtime to a mirror" in advice
    assert "\n" not in advice


@pytest.mark.parametrize(
    ("error", "why"),
    [
        ("dial tcp 1.2.3.4:443: connect: connection refused", "the registry refused the connection"),
        (
            "unexpected status code 401 Unauthorized",
            "the registry refused: not authorised (log in, or check the image name)",
        ),
        ("docker.io/library/nosuch:1: not found", "the registry has no such image or tag"),
        ("something new", "something new"),
    ],
)
def test_registry_errors_in_words(error: str, why: str) -> None:
    log = f"#3 [internal] load metadata for docker.io/library/rust:1\n#3 ERROR: {error}\n"
    found = pull_failure(log)
    assert found is not None and found.why == why and found.detail == error


def test_a_build_that_failed_otherwise_is_not_a_pull() -> None:
    cook = (DATA / "workspace-chef-buildkit-cold.log").read_text() + "\n#14 ERROR: executor failed running: exit 101\n"
    assert pull_failure(cook) is None
    legacy = (
        'Step 1/3 : FROM rust:1\n ---> abc123\nStep 2/3 : RUN cargo build\nGet "https://x/": dial tcp: no such host\n'
    )
    assert pull_failure(legacy) is None  # a RUN step's download, not the pull

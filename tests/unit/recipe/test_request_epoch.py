"""The SOURCE_DATE_EPOCH a generated build gets, and the label that keeps it with the image."""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from pytest_rustimage.names import BUILT_LABEL, EPOCH_LABEL
from pytest_rustimage.recipe.request import build_request, image_epoch


def spec(root: Path, generated: bool = True) -> Any:
    return SimpleNamespace(
        traits=SimpleNamespace(generated=generated, target=None),
        crate=SimpleNamespace(root=root),
        builder_image="b",
        runtime_image="r",
        build_args={},
        build_timeout=60,
        secret_build_args={},
    )


@pytest.fixture
def crate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    return tmp_path


def ask(crate: Path, **kwargs: Any) -> Any:
    return build_request(
        spec(crate), context=crate, dockerfile=crate / "Dockerfile", tag="t", labels={"a": "b"}, **kwargs
    )


def test_the_source_time_is_the_build_arg_and_a_label(crate: Path) -> None:
    request = ask(crate)
    assert request.build_args["SOURCE_DATE_EPOCH"] == "1700000000"
    assert request.labels[EPOCH_LABEL] == "1700000000" and request.labels["a"] == "b"
    assert abs(float(request.labels[BUILT_LABEL]) - time.time()) < 60  # prune's age, not the source time


def test_a_second_build_uses_the_images_own_time(crate: Path) -> None:
    request = ask(crate, epoch=1600000000)
    assert request.build_args["SOURCE_DATE_EPOCH"] == "1600000000" and request.labels[EPOCH_LABEL] == "1600000000"


def test_the_dockerfile_strategy_gets_neither(crate: Path) -> None:
    request = build_request(spec(crate, generated=False), context=crate, dockerfile=crate / "D", tag="t", labels={})
    assert "SOURCE_DATE_EPOCH" not in request.build_args and EPOCH_LABEL not in request.labels


@pytest.mark.parametrize(
    ("labels", "expected"), [({EPOCH_LABEL: "1700000000"}, 1700000000), ({}, None), ({EPOCH_LABEL: "x"}, None)]
)
def test_the_images_time_is_read_back_from_its_label(labels: dict[str, str], expected: int | None) -> None:
    assert image_epoch(labels) == expected

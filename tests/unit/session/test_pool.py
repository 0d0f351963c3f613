"""The session's engine pool: each engine asked once; what the summary says of it is asked when it first
answers, so that the session's end asks the engines nothing."""

from __future__ import annotations

from typing import Any, cast

import pytest

from pytest_rustimage.engines import Engine
from pytest_rustimage.errors import EngineUnavailable
from pytest_rustimage.session.pool import EnginePool


class Counted:
    """An engine's connection side, counting what it is asked (only what the pool reads of it)."""

    def __init__(self, name: str, builder: str | None = "buildkit", answers: bool = True) -> None:
        self.name = name
        self.endpoint = f"unix:///{name}.sock"
        self._builder = builder
        self._answers = answers
        self.asked: list[str] = []

    def ping(self) -> None:
        self.asked.append("ping")
        if not self._answers:
            raise EngineUnavailable(self.name, self.endpoint, "down")

    @property
    def builder(self) -> str:
        self.asked.append("builder")
        if self._builder is None:
            raise EngineUnavailable(self.name, self.endpoint, "no `docker` CLI on PATH to build with")
        return self._builder

    def close(self) -> None:
        self.asked.append("close")


def pool_of(*engines: Counted) -> EnginePool:
    by_name: dict[str, Any] = {engine.name: engine for engine in engines}
    return EnginePool(lambda name: cast(Engine, by_name[name]))


def test_an_engine_is_described_when_it_first_answers_and_never_asked_again() -> None:
    docker = Counted("docker")
    pool = pool_of(docker)
    pool.get("docker")
    pool.get("docker")
    assert docker.asked == ["ping", "builder"]
    assert pool.lines() == ["engine docker at unix:///docker.sock (buildkit)"]
    assert docker.asked == ["ping", "builder"]  # the summary's lines ask nothing


def test_an_engine_that_answers_but_cannot_build_says_why() -> None:
    pool = pool_of(Counted("docker", builder=None))
    pool.get("docker")
    assert pool.lines() == [
        "engine docker at unix:///docker.sock (cannot build: no `docker` CLI on PATH to build with)"
    ]


def test_an_engine_that_does_not_answer_is_not_described_and_not_asked_again() -> None:
    podman = Counted("podman", answers=False)
    pool = pool_of(podman)
    for _ in range(2):
        with pytest.raises(EngineUnavailable):
            pool.get("podman")
    assert podman.asked == ["ping", "close"]
    assert pool.lines() == []

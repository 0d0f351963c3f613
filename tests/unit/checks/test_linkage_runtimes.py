"""The linkage check and its runtime matrix: listed runtimes gate, the default only shows; what a failure says.
The image is a stand-in holding a real binary's facts and a matrix (the engine's part is
tests/unit/session/test_runtimes.py and tests/acceptance/test_loading.py)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from pytest_rustimage.checks.base import CheckFailed, Context, Properties
from pytest_rustimage.checks.linkage import LINKAGE
from pytest_rustimage.inspect.elf import inspect_elf
from pytest_rustimage.inspect.facts import BinaryFacts
from pytest_rustimage.inspect.loader import Loading
from pytest_rustimage.inspect.runtimes import RuntimeVerdict, absent
from tests.unit.inspect.test_loader import Built

BULLSEYE = RuntimeVerdict(
    "bullseye-slim",
    "pytest-rustimage/runtime:bullseye-slim",
    False,
    "GLIBC_2.34 > 2.31",
    ("/lib/x86_64-linux-gnu/libc.so.6 lacks GLIBC_2.34 needed by /usr/local/bin/app; it provides up to GLIBC_2.30",),
    "2.31",
)
BOOKWORM = RuntimeVerdict("bookworm-slim", "debian:bookworm-slim", True, glibc="2.36")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return Built(tmp_path_factory.mktemp("elf"))


def image(data: bytes, runtimes: tuple[RuntimeVerdict, ...], *, listed: bool) -> Any:
    elf = inspect_elf(data)
    loading = None if elf.linkage != "dynamic" else Loading("/lib64/ld-linux-x86-64.so.2", {})
    facts = BinaryFacts("app", "/usr/local/bin/app", len(data), "0" * 64, elf, loading)
    spec = SimpleNamespace(expect_linkage="any", strategy="chef", variant="chef-docker", runtimes_listed=listed)
    asked: list[bool] = []

    def matrix() -> tuple[RuntimeVerdict, ...]:
        asked.append(True)
        return () if facts.is_static else runtimes

    return SimpleNamespace(binary=lambda: facts, spec=spec, tag="pytest-rustimage/app:chef-1", runtimes=matrix)


def run(stand_in: Any) -> Properties:
    properties: Properties = []
    LINKAGE.run([stand_in], Context(), properties)
    return properties


def test_the_default_matrix_is_shown_and_never_fails(built: Built) -> None:
    properties = dict(run(image(built.hello, (BOOKWORM, BULLSEYE), listed=False)))
    assert properties["rust_image_loads_on"] == "loads on: bookworm-slim yes, bullseye-slim no (GLIBC_2.34 > 2.31)"
    assert str(properties["rust_image_linkage"]).endswith("; needs GLIBC_2.34")


def test_a_listed_runtime_it_would_not_load_on_fails_with_the_symbol_and_the_runtimes_glibc(built: Built) -> None:
    missing = absent("x/y:1", ("x/y:1",), "docker", "`docker pull x/y:1`")
    with pytest.raises(CheckFailed) as info:
        run(image(built.hello, (BOOKWORM, BULLSEYE, missing), listed=True))
    lines = str(info.value).splitlines()
    assert lines[0] == (
        "/usr/local/bin/app in pytest-rustimage/app:chef-1 (chef-docker) would not load on bullseye-slim, x/y:1, "
        "listed in runtimes; it needs GLIBC_2.34:"
    )
    assert lines[1] == (
        "- bullseye-slim (pytest-rustimage/runtime:bullseye-slim) has glibc 2.31: would not load: GLIBC_2.34 > 2.31"
    )
    assert lines[2].startswith("    - /lib/x86_64-linux-gnu/libc.so.6 lacks GLIBC_2.34")
    assert lines[3:5] == [
        "- x/y:1: cannot tell: not in docker",
        "    - x/y:1 is not in docker; get it with `docker pull x/y:1`",
    ]
    assert "static strategy" in lines[-1]
    assert not any("bookworm-slim (" in line for line in lines)  # where it loads is no failure
    run(image(built.hello, (BOOKWORM,), listed=True))  # listed, and it loads on each: passes


def test_a_static_binary_loads_anywhere(built: Built) -> None:
    properties = dict(run(image(built.static, (BULLSEYE,), listed=True)))
    assert properties["rust_image_loads_on"] == "loads on: any runtime (static)"

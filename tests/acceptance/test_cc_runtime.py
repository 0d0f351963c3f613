"""The small runtime base pytest-rustimage/runtime:cc-bookworm: chef images on it, on both engines."""

from __future__ import annotations

import pytest

from pytest_rustimage import names
from pytest_rustimage.engines import ENGINE_NAMES, make_engine
from pytest_rustimage.housekeeping import base_images as bases
from tests.acceptance.project import Project, remove_reported_images

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def cc_runtime() -> None:
    engines = [make_engine(name) for name in ENGINE_NAMES]
    try:
        bases.ensure_cc_runtime(engines, say=lambda message: None)
    finally:
        for engine in engines:
            engine.close()


def test_the_server_on_the_cc_base_is_small_and_passes_its_checks(project: Project, cc_runtime: None) -> None:
    crate = project.copy("server")
    ini = project.path / "pytest.ini"
    ini.write_text(ini.read_text().replace(names.LOCAL_RUNTIME, names.LOCAL_CC_RUNTIME))
    project.set_metadata(crate, max_size='"35MiB"')
    report = project.path / "report.json"
    try:
        result = project.run(
            "server",
            "--rust-image-strategy=chef",
            "--rust-image-engine=all",
            "--rust-image-checks=build,runs,size,linkage,parity",
            f"--rust-image-report={report}",
        )
        result.assert_outcomes(passed=9)
    finally:
        records = remove_reported_images(report)
    assert {r["engine"] for r in records} == {"docker", "podman"}
    for record in records:
        assert record["size"] <= 35 * MIB, record["size"]
        assert record["base"]["name"] == names.LOCAL_CC_RUNTIME and record["base"]["size"] < 16 * MIB
        assert record["binary_facts"]["linkage"] == "dynamic" and record["config"]["user"] == "65532:65532"

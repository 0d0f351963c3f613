"""CI's gate on the main job (.ci/main_job_ran.py), on JUnit XML written by real pytest sessions."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

GATE = Path(__file__).resolve().parents[3] / ".ci" / "main_job_ran.py"


def load_gate() -> ModuleType:
    spec = importlib.util.spec_from_file_location("main_job_ran", GATE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gate = load_gate()

# stand-ins with the main job's item names: functions named after the checks, ids STRATEGY-ENGINE
CHECKS = """
import pytest
VARIANTS = ["chef-docker", "chef-podman"]
SKIP = {skip!r}

def outcome(name):
    if name in SKIP:
        pytest.skip("the check was skipped")

@pytest.mark.parametrize("variant", VARIANTS)
def build(variant): outcome(f"build[{{variant}}]")
@pytest.mark.parametrize("variant", VARIANTS)
def runs(variant): outcome(f"runs[{{variant}}]")
@pytest.mark.parametrize("variant", VARIANTS)
def size(variant): outcome(f"size[{{variant}}]")
@pytest.mark.parametrize("variant", VARIANTS)
def linkage(variant): outcome(f"linkage[{{variant}}]")
@pytest.mark.parametrize("variant", VARIANTS)
def needs(variant): outcome(f"needs[{{variant}}]")
@pytest.mark.parametrize("variant", {cache_variants!r})
def cache(variant): outcome(f"cache[{{variant}}]")
@pytest.mark.parametrize("strategy", ["chef"])
def parity(strategy): outcome(f"parity[{{strategy}}]")
"""


def junit(pytester: pytest.Pytester, skip: tuple[str, ...] = (), cache_variants: tuple[str, ...] = ()) -> str:
    pytester.makeini(
        "[pytest]\npython_files = checks.py\npython_functions = build runs size linkage needs cache parity\n"
    )
    pytester.makepyfile(
        checks=CHECKS.format(skip=list(skip), cache_variants=list(cache_variants or ("chef-docker", "chef-podman")))
    )
    pytester.runpytest_subprocess("--junitxml=out.xml", "-p", "no:cacheprovider")
    return (pytester.path / "out.xml").read_text()


def test_every_item_ran_and_passed(pytester: pytest.Pytester) -> None:
    expected = gate.expected_items(["chef"], ["docker", "podman"])
    assert len(expected) == 13 and expected[-1] == "parity[chef]"
    assert gate.problems(gate.outcomes(junit(pytester)), expected) == []


def test_a_skipped_check_fails_the_gate(pytester: pytest.Pytester) -> None:
    found = gate.outcomes(junit(pytester, skip=("cache[chef-podman]",)))
    expected = gate.expected_items(["chef"], ["docker", "podman"])
    assert gate.problems(found, expected) == ["cache[chef-podman]: skipped: the check was skipped"]
    # unless its reason is allowed, as ALLOWED_SKIPS allows it for the test command
    assert gate.problems(found, expected, allowed=["the check was skipped"]) == []


def test_a_check_that_never_ran_fails_the_gate(pytester: pytest.Pytester) -> None:
    found = gate.outcomes(junit(pytester, cache_variants=("chef-docker",)))
    expected = gate.expected_items(["chef"], ["docker", "podman"])
    assert gate.problems(found, expected) == ["cache[chef-podman]: did not run (not collected)"]


def test_one_engine_has_no_parity_item() -> None:
    assert "parity[static]" not in gate.expected_items(["static"], ["docker"])


def test_the_script_exits_non_zero_and_names_the_item(pytester: pytest.Pytester) -> None:
    (pytester.path / "main-job.xml").write_text(junit(pytester, skip=("runs[chef-docker]",)))
    done = subprocess.run(
        [
            sys.executable,
            str(GATE),
            str(pytester.path / "main-job.xml"),
            "--strategies=chef",
            "--engines=docker,podman",
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert "runs[chef-docker]: skipped: the check was skipped" in done.stderr


def test_opt_in_checks_are_expected_only_when_the_main_job_turns_them_on() -> None:
    plain = gate.expected_items(["chef"], ["docker"])
    assert "sbom[chef-docker]" not in plain and "reproducible[chef-docker]" not in plain
    opted = gate.expected_items(["chef"], ["docker"], ["sbom"])
    assert opted == [*plain[: plain.index("cache[chef-docker]")], "sbom[chef-docker]", "cache[chef-docker]"]

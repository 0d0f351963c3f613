"""Project-wide pytest configuration: pytester for the acceptance tests, Podman's settings, and CI's
rule that a test may not skip.

Podman on this project's machines needs runc and low default ulimits (see .ci/containers.conf and
docs/engines.md); the project's own runs use that file unless CONTAINERS_CONF says otherwise.

With ``RUST_IMAGE_NO_SKIPS=1`` (``.ci/run`` sets it for the test command) every skipped test, and
every skipped module, is reported as a failure, unless its reason is in :data:`ALLOWED_SKIPS` with
why that skip is expected in CI (docs/reliability.md). A missing gcc, musl-gcc, rustc or cargo then
fails CI instead of quietly dropping the unit tests that need them. xfail is not a skip and stays.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from pathlib import Path

import pytest

os.environ.setdefault("CONTAINERS_CONF", str(Path(__file__).parent / ".ci" / "containers.conf"))

pytest_plugins = ["pytester"]

NO_SKIPS = "RUST_IMAGE_NO_SKIPS"

# skip reason (as pytest reports it, without "Skipped: ") -> why CI may skip it; keep it short
ALLOWED_SKIPS: dict[str, str] = {}


def _skip_reason(report: pytest.CollectReport | pytest.TestReport) -> str:
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return reason.removeprefix("Skipped: ")


def _fail_a_skip(report: pytest.CollectReport | pytest.TestReport) -> None:
    if os.environ.get(NO_SKIPS) != "1" or not report.skipped or hasattr(report, "wasxfail"):
        return
    reason = _skip_reason(report)
    if reason in ALLOWED_SKIPS:
        return
    report.outcome = "failed"
    report.longrepr = (
        f"skipped under {NO_SKIPS}=1, where a skip is a failure: {reason}\n"
        "Install what the test needs (.ci/setup), or list the reason in ALLOWED_SKIPS (conftest.py) with why."
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, object, None]:
    outcome = yield
    _fail_a_skip(outcome.get_result())  # type: ignore[attr-defined]


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Generator[None, object, None]:
    outcome = yield
    _fail_a_skip(outcome.get_result())  # type: ignore[attr-defined]

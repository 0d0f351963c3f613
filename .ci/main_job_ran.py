"""CI's gate on the main job: every built-in check of every image ran and passed.

The main job's own exit code misses two ways of proving nothing: a check that skipped (pytest exits 0)
and a check that was never collected (a deselection, a strategy or engine dropped on the way). This
reads the main job's JUnit XML and fails unless each expected item (``CHECK[STRATEGY-ENGINE]`` for every
built-in image check, ``parity[STRATEGY]`` when several engines build) is there and passed. A skip is
allowed only when its reason is listed in the root conftest's ``ALLOWED_SKIPS``, as for the test command.

    python3 .ci/main_job_ran.py reports/main-job.xml --strategies chef,static --engines docker,podman --opted sbom
"""

from __future__ import annotations

import argparse
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from pathlib import Path

from pytest_rustimage.checks.base import Needs
from pytest_rustimage.checks.registry import CHECKS
from pytest_rustimage.names import item_name, variant


def expected_items(strategies: Iterable[str], engines: Iterable[str], opted: Iterable[str] = ()) -> list[str]:
    """The ids of the items a main job on these strategies and engines must run: every default check's,
    and those of the opt-in checks ``opted`` (names) that the main job turns on."""
    engines = list(engines)
    wanted = [c for c in CHECKS if c.default or c.name in set(opted)]
    items: list[str] = []
    for strategy in strategies:
        for engine in engines:
            items += [item_name(c.name, variant(strategy, engine)) for c in wanted if c.needs is Needs.IMAGE]
        if len(engines) > 1:
            items += [item_name(c.name, variant(strategy)) for c in wanted if c.needs is Needs.ENGINES]
    return items


def outcomes(junit_xml: str) -> dict[str, tuple[str, str]]:
    """Each test case's name, to its outcome (passed, failed, error, skipped) and the reason given."""
    found: dict[str, tuple[str, str]] = {}
    for case in ET.fromstring(junit_xml).iter("testcase"):
        outcome, reason = "passed", ""
        for kind in ("failure", "error", "skipped"):
            mark = case.find(kind)
            if mark is not None:
                outcome = "failed" if kind == "failure" else kind
                reason = mark.get("message", "") or ""
                break
        found[case.get("name", "")] = (outcome, reason)
    return found


def problems(found: Mapping[str, tuple[str, str]], expected: Iterable[str], allowed: Iterable[str] = ()) -> list[str]:
    """What keeps the main job from proving what it should; empty when every expected item passed."""
    allowed = set(allowed)
    said: list[str] = []
    for item in expected:
        if item not in found:
            said.append(f"{item}: did not run (not collected)")
            continue
        outcome, reason = found[item]
        if outcome == "skipped" and reason.removeprefix("Skipped: ") in allowed:
            continue
        if outcome != "passed":
            said.append(f"{item}: {outcome}" + (f": {reason}" if reason else ""))
    return said


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("junit", type=Path)
    parser.add_argument("--strategies", required=True)
    parser.add_argument("--engines", required=True)
    parser.add_argument("--opted", default="", help="opt-in checks the main job turns on (comma-separated)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from conftest import ALLOWED_SKIPS

    opted = [name for name in args.opted.split(",") if name]
    expected = expected_items(args.strategies.split(","), args.engines.split(","), opted)
    said = problems(outcomes(args.junit.read_text()), expected, ALLOWED_SKIPS)
    if said:
        print(f"the main job did not prove what it must ({len(said)} of {len(expected)} items):", file=sys.stderr)
        print("\n".join(f"  {line}" for line in said), file=sys.stderr)
        return 1
    print(f"the main job ran and passed all {len(expected)} built-in checks")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The built-in checks, in the order items are collected and named: the one list of them.

``--rust-image-checks`` (and the ini's ``rust_image_checks``), collection, the
``[package.metadata.rust-image]`` keys the checks read and docs/configuration.md's table of checks are
all derived from :data:`CHECKS`. Adding a check is a module beside this one and a line here.
"""

from __future__ import annotations

from collections.abc import Sequence

from pytest_rustimage.checks.base import Check, Needs
from pytest_rustimage.checks.build import BUILD
from pytest_rustimage.checks.cache import CACHE
from pytest_rustimage.checks.linkage import LINKAGE
from pytest_rustimage.checks.needs import NEEDS
from pytest_rustimage.checks.parity import PARITY
from pytest_rustimage.checks.reproducible import REPRODUCIBLE
from pytest_rustimage.checks.runs import RUNS
from pytest_rustimage.checks.sbom import SBOM
from pytest_rustimage.checks.size import SIZE
from pytest_rustimage.recipe.spec import ImageSpec

CHECKS: tuple[Check, ...] = (BUILD, RUNS, SIZE, LINKAGE, NEEDS, SBOM, CACHE, REPRODUCIBLE, PARITY)
BY_NAME: dict[str, Check] = {check.name: check for check in CHECKS}
CHECK_NAMES: tuple[str, ...] = tuple(BY_NAME)
DEFAULT_CHECKS: tuple[str, ...] = tuple(check.name for check in CHECKS if check.default)  # when none is named
METADATA_KEYS: tuple[str, ...] = tuple(key for check in CHECKS for key in check.metadata_keys)


def checks_needing(
    needs: Needs, wanted: tuple[str, ...], specs: Sequence[ImageSpec] = (), *, named: bool = True
) -> tuple[Check, ...]:
    """The checks among ``wanted`` (names) that need ``needs``, in the registry's order; unless checks
    were ``named``, also each opt-in check that one of ``specs`` asks for (:attr:`Check.wanted_by`)."""
    return tuple(
        check
        for check in CHECKS
        if check.needs is needs
        and (
            check.name in wanted
            or (not named and check.wanted_by is not None and any(check.wanted_by(spec) for spec in specs))
        )
    )


def docs_table() -> str:
    """docs/configuration.md's table of the built-in checks (a unit test keeps the page equal to it)."""
    lines = [
        "| check | one item per | what it checks | its `[package.metadata.rust-image]` keys | by default |",
        "|---|---|---|---|---|",
    ]
    per = {
        Needs.IMAGE: "image: `CHECK[STRATEGY-ENGINE]`",
        Needs.ENGINES: "strategy on several engines: `CHECK[STRATEGY]`",
    }
    for check in CHECKS:
        keys = ", ".join(f"`{key}`" for key in check.metadata_keys) or "-"
        default = "yes" if check.default else "no (opt-in)"
        lines.append(f"| `{check.name}` | {per[check.needs]} | {check.about} | {keys} | {default} |")
    return "\n".join(lines) + "\n"

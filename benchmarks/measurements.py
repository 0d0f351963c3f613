"""What the benchmark measures and derives: the measurement keys and their words, medians, and the ratios
of issue 11's, 12's, 22's, 23's and 24's targets (pure: no commands run here)."""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from benchmarks.recipes import RECIPES

BASE_CHECKS = ("build", "runs", "size", "linkage")
# "cache": every check a single-engine run has (issue 23's "all checks"): the base ones, needs and cache
CHECK_SETS = {"base": BASE_CHECKS, "cache": (*BASE_CHECKS, "needs", "cache")}
# warm runs of the base variant's copy with other checks and options, right after its own warm run (issue 22):
# without the runtime matrix, and with the needs check and the matrix, so their cost is the difference;
# issue 24: an auditable image without and with the sbom check, and the reproducible check (whose first run
# is the second, cold build, recorded as the "first" phase; the measured warm one reuses its verdict)
WARM_EXTRAS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "lean": (BASE_CHECKS, ("--rust-image-runtimes=none",)),
    "needs": ((*BASE_CHECKS, "needs"), ()),
    "auditable": (BASE_CHECKS, ("--rust-image-auditable",)),
    "sbom": ((*BASE_CHECKS, "sbom"), ("--rust-image-auditable",)),
    "reproducible": ((*BASE_CHECKS, "reproducible"), ()),
}
FIRST_RUNS = ("reproducible",)  # extras whose first run is measured too
NEEDS_TARGET = 0.3  # issue 22: needs and the runtime matrix add at most this many seconds to a warm run
PHASES = ("cold", "warm", "edit")
IMAGE_BUILD = "image-build"  # the phase of the image's own build after the edit, as the plugin's report times it
STARTUP_KEY = "pytest.startup"
INCREMENTAL_TARGET = 1.3  # issue 12: the incremental image's rebuild after an edit, in host rebuilds
INCREMENTAL_RUN_TARGET = (
    2.5  # issue 23: the incremental strategy's whole run, all checks, after an edit, in host rebuilds
)
WARM_TARGET = 1.0  # issue 23: a warm run with all checks, seconds over pytest's own start-up
EDIT_TARGET = 1.2  # issues 11 and 23: the plugin's run after an edit, in hand chef-recipe rebuilds
CACHE_WARM_TARGET = 0.1  # issue 23: "nothing when nothing changed", to within a warm run's noise (seconds)
SBOM_TARGET = 0.2  # issue 24: the sbom check adds at most this many seconds to a warm run
REPRODUCIBLE_TARGET = 1.2  # issue 24: the reproducible check's first run costs one cold build (in cold builds)


def median(values: Iterable[float]) -> float | None:
    """The median of ``values``, None when there are none."""
    numbers = list(values)
    return statistics.median(numbers) if numbers else None


def host_key(phase: str) -> str:
    return f"host.{phase}"


def recipe_key(recipe: str, phase: str) -> str:
    return f"recipe.{recipe}.{phase}"


def plugin_key(strategy: str, checks: str, phase: str) -> str:
    return f"plugin.{strategy}.{checks}.{phase}"


def label_of(key: str) -> str:
    """The table's words for a measurement key."""
    parts = key.split(".")
    phase_words = {
        "cold": "cold",
        "warm": "warm, nothing changed",
        "edit": "after the edit",
        IMAGE_BUILD: "its image build alone, after the edit",
        "first": "its first run (the check's second, cold build)",
    }
    if parts[0] == "host":
        return f"host cargo build --release, {phase_words[parts[1]]}"
    if parts[0] == "recipe":
        cold = "cold (--no-cache)" if parts[2] == "cold" else phase_words[parts[2]]
        return f"{parts[1]} recipe by hand, {cold}"
    if parts[0] == "plugin":
        if parts[2] in WARM_EXTRAS:
            listed, extra = WARM_EXTRAS[parts[2]]
            return f"pytest --rust-image [{parts[1]}] {' '.join((','.join(listed), *extra))}, {phase_words[parts[3]]}"
        checks = ",".join(CHECK_SETS[parts[2]]) if parts[2] in CHECK_SETS else parts[2]
        return f"pytest --rust-image [{parts[1]}] {checks}, {phase_words[parts[3]]}"
    if key == STARTUP_KEY:
        return "pytest running one empty test (start-up)"
    return key


def measurement_keys(strategies: Sequence[str]) -> list[str]:
    """Every measurement, in the order they are shown."""
    keys = [host_key("cold"), host_key("edit")]
    keys += [recipe_key(r, p) for r in RECIPES for p in ("cold", "edit")]
    keys.append(STARTUP_KEY)
    for s in strategies:
        keys += [plugin_key(s, c, p) for c in CHECK_SETS for p in PHASES]
        keys += [plugin_key(s, extra, "warm") for extra in WARM_EXTRAS]
        keys += [plugin_key(s, extra, "first") for extra in FIRST_RUNS]
        keys.append(plugin_key(s, "base", IMAGE_BUILD))
    return keys


def build_seconds(report: Mapping[str, Any]) -> float | None:
    """The build duration of the one image a ``--rust-image-report`` file lists; None when it was reused."""
    images = report.get("images") or []
    build = images[0].get("build") or {} if len(images) == 1 else {}
    if build.get("reused") or not isinstance(build.get("seconds"), (int, float)):
        return None
    return float(build["seconds"])


@dataclass(frozen=True)
class Ratio:
    """One derived number, with its target when the issue sets one."""

    name: str
    value: float | None
    unit: str  # "x" (a ratio), "s" (seconds) or "builds" (in incremental chef-recipe rebuilds)
    target: float | None = None  # the value must be at most this
    spread: tuple[float, float] | None = None  # min and max of the same ratio within each run

    @property
    def verdict(self) -> str:
        if self.target is None or self.value is None:
            return ""
        return "met" if self.value <= self.target else "missed"


def _div(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b <= 0 else a / b


def _sub(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def _strategy_ratios(medians: Mapping[str, float | None], s: str) -> list[Ratio]:
    """The ratios of one strategy's rows."""
    m = medians.get
    chef_edit, host_edit = m(recipe_key("chef", "edit")), m(host_key("edit"))
    base_edit, cache_edit = m(plugin_key(s, "base", "edit")), m(plugin_key(s, "cache", "edit"))
    base_cold, cache_cold = m(plugin_key(s, "base", "cold")), m(plugin_key(s, "cache", "cold"))
    image_edit = m(plugin_key(s, "base", IMAGE_BUILD))
    incremental = s == "incremental"
    return [
        Ratio(
            f"[{s}] image rebuild after edit / host after edit",
            _div(image_edit, host_edit),
            "x",
            INCREMENTAL_TARGET if incremental else None,
        ),
        Ratio(f"[{s}] plugin after edit / host after edit", _div(base_edit, host_edit), "x"),
        Ratio(
            f"[{s}] plugin all checks after edit / host after edit",
            _div(cache_edit, host_edit),
            "x",
            INCREMENTAL_RUN_TARGET if incremental else None,
        ),
        Ratio(f"[{s}] plugin after edit / chef recipe after edit", _div(base_edit, chef_edit), "x", EDIT_TARGET),
        *_warm_ratios(medians, s),
        Ratio(
            f"[{s}] cache check overhead after edit, in chef-recipe rebuilds",
            _div(_sub(cache_edit, base_edit), chef_edit),
            "builds",
            1.0,
        ),
        Ratio(
            f"[{s}] cache check overhead cold, in chef-recipe rebuilds",
            _div(_sub(cache_cold, base_cold), chef_edit),
            "builds",
            1.0,
        ),
    ]


def _warm_ratios(medians: Mapping[str, float | None], s: str) -> list[Ratio]:
    """The ratios of one strategy's warm rows (nothing changed since the run before), and what the
    reproducible check's first run costs."""
    m = medians.get
    base_warm = m(plugin_key(s, "base", "warm"))
    return [
        Ratio(
            f"[{s}] plugin warm, all checks with cache, minus start-up",
            _sub(m(plugin_key(s, "cache", "warm")), m(STARTUP_KEY)),
            "s",
            WARM_TARGET,
        ),
        Ratio(
            f"[{s}] plugin warm, without cache, minus start-up",
            _sub(m(plugin_key(s, "base", "warm")), m(STARTUP_KEY)),
            "s",
        ),
        Ratio(
            f"[{s}] needs check and runtime matrix, warm (with both minus without)",
            _sub(m(plugin_key(s, "needs", "warm")), m(plugin_key(s, "lean", "warm"))),
            "s",
            NEEDS_TARGET,
        ),
        Ratio(
            f"[{s}] needs and cache checks, warm (all checks minus base)",
            _sub(m(plugin_key(s, "cache", "warm")), m(plugin_key(s, "base", "warm"))),
            "s",
            CACHE_WARM_TARGET,
        ),
        Ratio(
            f"[{s}] sbom check, warm (with minus without, both auditable)",
            _sub(m(plugin_key(s, "sbom", "warm")), m(plugin_key(s, "auditable", "warm"))),
            "s",
            SBOM_TARGET,
        ),
        Ratio(
            f"[{s}] reproducible check, verdict reused (minus base, warm)",
            _sub(m(plugin_key(s, "reproducible", "warm")), m(plugin_key(s, "base", "warm"))),
            "s",
            CACHE_WARM_TARGET,
        ),
        Ratio(
            f"[{s}] reproducible check's first run, in cold builds (both minus base warm)",
            _div(
                _sub(m(plugin_key(s, "reproducible", "first")), base_warm),
                _sub(m(plugin_key(s, "base", "cold")), base_warm),
            ),
            "x",
            REPRODUCIBLE_TARGET,
        ),
    ]


def ratios(medians: Mapping[str, float | None], strategies: Sequence[str]) -> list[Ratio]:
    """The ratios of issue 11's targets, and two that explain them, from the medians."""
    m = medians.get
    chef_edit, host_edit = m(recipe_key("chef", "edit")), m(host_key("edit"))
    out = [r for s in strategies for r in _strategy_ratios(medians, s)]
    out += [
        Ratio("chef recipe after edit / host after edit", _div(chef_edit, host_edit), "x"),
        Ratio("naive recipe after edit / chef recipe after edit", _div(m(recipe_key("naive", "edit")), chef_edit), "x"),
    ]
    return out


def spread(values: Iterable[float | None]) -> tuple[float, float] | None:
    """(min, max) of the values that are there, None when none is."""
    numbers = [v for v in values if v is not None]
    return (min(numbers), max(numbers)) if numbers else None


def with_spread(
    derived: Sequence[Ratio], per_run: Sequence[Mapping[str, float]], strategies: Sequence[str]
) -> list[Ratio]:
    """Each ratio with the spread of the same ratio taken within each run, from that run's own numbers
    (measured back to back, so under the same load)."""
    runs = [{r.name: r.value for r in ratios(values, strategies)} for values in per_run]
    return [dataclasses.replace(r, spread=spread(run.get(r.name) for run in runs)) for r in derived]

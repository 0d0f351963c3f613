"""The measuring: each run builds everything cold first, then times the edits back to back (host, chef
recipe, plugin variants, naive recipe), recording every command's seconds and the load."""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.copies import LABEL, PYTEST_FLAGS, TAG_PREFIX, Bench
from benchmarks.crates import CrateInfo
from benchmarks.manifest import ini_text
from benchmarks.measurements import (
    CHECK_SETS,
    FIRST_RUNS,
    IMAGE_BUILD,
    STARTUP_KEY,
    WARM_EXTRAS,
    build_seconds,
    host_key,
    label_of,
    plugin_key,
    recipe_key,
)
from benchmarks.recipes import RECIPES
from benchmarks.timing import Run, checked, first_line, loadavg, tail, timed


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


@dataclass(frozen=True)
class Recipe:
    """A hand recipe's context in one run, and the image it builds."""

    name: str
    context: Path
    tag: str
    iidfile: Path


@dataclass(frozen=True)
class Variant:
    """One plugin variant (strategy and check set) in one run: its folder, crate copy and command."""

    strategy: str
    checks: str
    root: Path
    copy: Path
    name: str
    command: list[str]


@dataclass
class Runner:
    """The measuring: each run builds everything cold first, then times the edits back to back (host,
    chef recipe, plugin, naive recipe), so that the rows a ratio compares share the load of the moment."""

    args: argparse.Namespace
    bench: Bench
    env: dict[str, str]
    dockerfiles: Path
    run_args: list[str]
    total: int
    measured: dict[str, list[float]] = field(default_factory=dict)
    runs: list[dict[str, Any]] = field(default_factory=list)  # each run: its load at start and end, its seconds
    failures: dict[str, list[str]] = field(default_factory=dict)
    done: int = 0

    @property
    def crate(self) -> CrateInfo:
        return self.bench.crate

    def record(self, key: str, run: Run) -> None:
        self.done += 1
        seconds = round(run.seconds, 3)
        self.measured.setdefault(key, []).append(seconds)
        self.runs[-1]["seconds"][key] = seconds
        status = "" if run.ok else f"  FAILED ({run.returncode})"
        print(f"[{self.done}/{self.total}] {label_of(key)}: {run.seconds:.2f} s{status}", file=sys.stderr, flush=True)
        if not run.ok:
            self.failures.setdefault(key, []).append(run.output)
            print(tail(run.output, 15), file=sys.stderr, flush=True)

    def per_run_seconds(self) -> list[dict[str, float]]:
        return [run["seconds"] for run in self.runs]

    # -- host

    def host_build(self, copy: Path, target: Path) -> list[str]:
        return [
            "cargo",
            "build",
            "--release",
            "--locked",
            "--bin",
            self.crate.binary,
            "--manifest-path",
            str(copy / "Cargo.toml"),
            "--target-dir",
            str(target),
        ]

    def learn_expect_stdout(self, target: Path) -> None:
        if self.bench.expect_stdout is None and self.args.expect_stdout is None:
            binary = target / "release" / self.crate.binary
            self.bench.expect_stdout = first_line([str(binary), *self.run_args])

    def host_cold(self, rdir: Path) -> Path:
        copy = self.bench.copy(rdir / "host", vendored=True)
        self.record(host_key("cold"), timed(self.host_build(copy, rdir / "host-target"), cwd=copy))
        self.learn_expect_stdout(rdir / "host-target")
        return copy

    def host_edit(self, copy: Path, rdir: Path) -> None:
        self.bench.edit(copy)
        self.record(host_key("edit"), timed(self.host_build(copy, rdir / "host-target"), cwd=copy))

    # -- hand recipes

    def recipe_build(self, recipe: Recipe, no_cache: bool) -> Run:
        build_args = {"BUILDER_IMAGE": self.bench.builder, "RUNTIME_IMAGE": self.bench.runtime}
        dockerfile = self.dockerfiles / f"Dockerfile.{recipe.name}"
        cmd = self.bench.cli.build(
            recipe.context, dockerfile, recipe.tag, recipe.iidfile, no_cache, build_args, self.bench.labels()
        )
        return timed(cmd, env=self.env)

    def recipe_cold(self, name: str, rdir: Path, check: bool) -> Recipe:
        context = self.bench.copy(rdir / name, vendored=True)
        recipe = Recipe(name, context, f"{TAG_PREFIX}{self.bench.names[-1]}:{name}", rdir / f"{name}.iid")
        run = self.recipe_build(recipe, no_cache=True)
        self.record(recipe_key(name, "cold"), run)
        if run.ok and check:
            self.check_recipe_runs(recipe)
        return recipe

    def check_recipe_runs(self, recipe: Recipe) -> None:
        """The recipe works: its image runs the binary (not measured)."""
        label = f"{LABEL}={self.bench.run_id}"
        cmd = [self.bench.cli.exe, "run", "--rm", "--label", label, recipe.tag, self.crate.binary, *self.run_args]
        sanity = subprocess.run(cmd, capture_output=True, text=True, env=self.env)
        if sanity.returncode != 0:
            print(f"warning: {recipe.name} recipe's image does not run: {tail(sanity.stderr, 5)}", file=sys.stderr)

    def recipe_edit(self, recipe: Recipe) -> None:
        self.bench.edit(recipe.context)
        self.record(recipe_key(recipe.name, "edit"), self.recipe_build(recipe, no_cache=False))

    # -- the plugin

    def startup(self, root: Path) -> None:
        """pytest's own start-up: a run of one empty test, with the same plugins, ini and flags."""
        folder = root / "startup"
        folder.mkdir(exist_ok=True)
        (folder / "test_nothing.py").write_text("def test_nothing():\n    pass\n")
        cmd = [sys.executable, "-m", "pytest", *PYTEST_FLAGS, "-q", "-c", str(root / "pytest.ini")]
        cmd += ["--rootdir", str(root), str(folder)]
        self.record(STARTUP_KEY, timed(cmd, cwd=root, env=self.env))

    def probe_expect_stdout(self, rdir: Path) -> None:
        """What the runs check expects, from a host build (not measured) when the host part is skipped."""
        if self.args.expect_stdout is None and self.bench.expect_stdout is None:
            copy = self.bench.copy(rdir / "probe-host", vendored=True)
            checked(self.host_build(copy, rdir / "probe-target"), cwd=copy)
            self.learn_expect_stdout(rdir / "probe-target")

    def plugin_cold(self, root: Path, strategy: str, checks: str) -> Variant:
        """The variant's cold run (no image of its copy exists: its name is new), then its warm one."""
        vroot = root / f"{strategy}-{checks}"
        vroot.mkdir()
        (vroot / "pytest.ini").write_text(ini_text(self.bench.builder, self.bench.runtime))
        metadata: dict[str, str | Sequence[str]] = {
            "args": self.run_args,
            "expect-stdout": self.args.expect_stdout or self.bench.expect_stdout or "",
        }
        copy = self.bench.copy(vroot / "crate", vendored=False, metadata=metadata)
        name = self.bench.names[-1]
        self.bench.prune(name)
        command = self.bench.plugin_command(vroot, copy, strategy, CHECK_SETS[checks])
        variant = Variant(strategy, checks, vroot, copy, name, command)
        for phase in ("cold", "warm"):
            self.record(plugin_key(strategy, checks, phase), timed(command, cwd=vroot, env=self.env))
        if checks == "base":  # the same copy, warm, without and then with the needs check and the runtime matrix
            for extra, (more, options) in WARM_EXTRAS.items():
                warm = [*self.bench.plugin_command(vroot, copy, strategy, more), *options]
                # once unmeasured: a check's first look at an image reads it (needs: the files), and a
                # warm run is one where nothing changed since the same checks last ran
                first = timed(warm, cwd=vroot, env=self.env)
                if extra in FIRST_RUNS:
                    self.record(plugin_key(strategy, extra, "first"), first)
                self.record(plugin_key(strategy, extra, "warm"), timed(warm, cwd=vroot, env=self.env))
        return variant

    def plugin_edit(self, variant: Variant) -> None:
        """The variant's run after the edit, and (without cache) its image build's own seconds."""
        self.bench.edit(variant.copy)
        run = timed(variant.command, cwd=variant.root, env=self.env)
        self.record(plugin_key(variant.strategy, variant.checks, "edit"), run)
        seconds = build_seconds(_read_json(variant.root / "report.json")) if variant.checks == "base" else None
        if seconds is not None:
            self.record(plugin_key(variant.strategy, "base", IMAGE_BUILD), Run(seconds, 0, ""))
        self.bench.prune(variant.name)

    # -- one run

    def one_run(self, r: int) -> None:
        rdir = self.bench.work / f"run{r + 1}"
        rdir.mkdir()
        self.runs.append({"run": r + 1, "load_start": loadavg(), "seconds": {}})
        skip = self.args.skip
        host = self.host_cold(rdir) if "host" not in skip else None
        recipes = (
            {name: self.recipe_cold(name, rdir, check=r == 0) for name in RECIPES} if "recipes" not in skip else {}
        )
        variants: list[Variant] = []
        if "plugin" not in skip:
            root = rdir / "plugin"
            root.mkdir()
            (root / "pytest.ini").write_text(ini_text(self.bench.builder, self.bench.runtime))
            self.startup(root)
            self.probe_expect_stdout(rdir)
            variants = [self.plugin_cold(root, s, c) for s in self.args.strategy for c in CHECK_SETS]
        # the edits, back to back: host, chef recipe, plugin variants, and last the naive recipe's full rebuild
        if host is not None:
            self.host_edit(host, rdir)
        if "chef" in recipes:
            self.recipe_edit(recipes["chef"])
        for variant in variants:
            self.plugin_edit(variant)
        for name, recipe in recipes.items():
            if name != "chef":
                self.recipe_edit(recipe)
        self.runs[-1]["load_end"] = loadavg()
        run = self.runs[-1]
        print(f"run {r + 1}: load {run['load_start'][0]:.2f} -> {run['load_end'][0]:.2f}", file=sys.stderr, flush=True)
        shutil.rmtree(rdir, ignore_errors=True)

"""The benchmark of issue 11 (docs/benchmarks.md): what the plugin costs beside a build by hand.

All in one run on one machine, medians of N runs each, wall-clock seconds of whole commands:

- host ``cargo build --release``, cold (fresh target dir) and after a source-only edit: the floor;
- the background chapter's naive and cargo-chef recipes, built by hand with the engine's CLI, cold
  (``--no-cache``) and after the same edit;
- ``pytest --rust-image`` on a copy of the crate, cold, warm (nothing changed) and after the edit, with
  ``build,runs,size,linkage`` and with ``cache`` added, per strategy (``--strategy``).

The pure parts (medians, ratios, the table, the recipe and manifest texts) are functions here that
``tests/unit/test_benchmark.py`` tests; ``main`` does the measuring. Every copy of the crate gets a
package name of its own (``rib-RUNID-N-NAME``, the binary keeps its name): the plugin's images of that
copy are its own (``prune --crate`` then touches nothing of anyone else's), and a cold run finds
nothing in any cache of a previous run, without emptying the engine's shared build cache.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import re
import secrets
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BUILDER_IMAGE = "pytest-rustimage/builder:bookworm"
RUNTIME_IMAGE = "pytest-rustimage/runtime:bookworm-slim"
LABEL = "io.github.pytest-rustimage.benchmark"  # on every image and container the benchmark makes itself
TAG_PREFIX = "pytest-rustimage-bench/"  # hand-built recipe images (outside the plugin's repository)
RECIPES = ("naive", "chef")
BASE_CHECKS = ("build", "runs", "size", "linkage")
CHECK_SETS = {"base": BASE_CHECKS, "cache": (*BASE_CHECKS, "cache")}
PHASES = ("cold", "warm", "edit")
IMAGE_BUILD = "image-build"  # the phase of the image's own build after the edit, as the plugin's report times it
EDIT_MARK = "// pytest-rustimage benchmark: a source-only edit"
TAIL_LINES = 40
DEFAULT_RUNS = 5
SKIPPED = ("target", "vendor")  # top-level entries that are not the crate's sources


# ---------------------------------------------------------------------------------------------- pure


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


STARTUP_KEY = "pytest.startup"


def label_of(key: str) -> str:
    """The table's words for a measurement key."""
    parts = key.split(".")
    phase_words = {
        "cold": "cold",
        "warm": "warm, nothing changed",
        "edit": "after the edit",
        IMAGE_BUILD: "its image build alone, after the edit",
    }
    if parts[0] == "host":
        return f"host cargo build --release, {phase_words[parts[1]]}"
    if parts[0] == "recipe":
        cold = "cold (--no-cache)" if parts[2] == "cold" else phase_words[parts[2]]
        return f"{parts[1]} recipe by hand, {cold}"
    if parts[0] == "plugin":
        checks = ",".join(CHECK_SETS[parts[2]]) if parts[2] in CHECK_SETS else parts[2]
        return f"pytest --rust-image [{parts[1]}] {checks}, {phase_words[parts[3]]}"
    if key == STARTUP_KEY:
        return "pytest --version (start-up)"
    return key


def measurement_keys(strategies: Sequence[str]) -> list[str]:
    """Every measurement, in the order they are shown."""
    keys = [host_key("cold"), host_key("edit")]
    keys += [recipe_key(r, p) for r in RECIPES for p in ("cold", "edit")]
    keys.append(STARTUP_KEY)
    for s in strategies:
        keys += [plugin_key(s, c, p) for c in CHECK_SETS for p in PHASES]
        keys.append(plugin_key(s, "base", IMAGE_BUILD))
    return keys


INCREMENTAL_TARGET = 1.3  # issue 12: the incremental image's rebuild after an edit, in host rebuilds


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


def ratios(medians: Mapping[str, float | None], strategies: Sequence[str]) -> list[Ratio]:
    """The ratios of issue 11's targets, and two that explain them, from the medians."""
    m = medians.get
    chef_edit, host_edit = m(recipe_key("chef", "edit")), m(host_key("edit"))
    out: list[Ratio] = []
    for s in strategies:
        base_edit, cache_edit = m(plugin_key(s, "base", "edit")), m(plugin_key(s, "cache", "edit"))
        base_cold, cache_cold = m(plugin_key(s, "base", "cold")), m(plugin_key(s, "cache", "cold"))
        image_edit = m(plugin_key(s, "base", IMAGE_BUILD))
        target = INCREMENTAL_TARGET if s == "incremental" else None
        out += [
            Ratio(f"[{s}] image rebuild after edit / host after edit", _div(image_edit, host_edit), "x", target),
            Ratio(f"[{s}] plugin after edit / host after edit", _div(base_edit, host_edit), "x"),
            Ratio(f"[{s}] plugin after edit / chef recipe after edit", _div(base_edit, chef_edit), "x", 1.2),
            Ratio(
                f"[{s}] plugin warm, all checks with cache, minus start-up",
                _sub(m(plugin_key(s, "cache", "warm")), m(STARTUP_KEY)),
                "s",
                2.0,
            ),
            Ratio(
                f"[{s}] plugin warm, without cache, minus start-up",
                _sub(m(plugin_key(s, "base", "warm")), m(STARTUP_KEY)),
                "s",
            ),
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


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == "x":
        return f"{value:.2f}x"
    if unit == "s":
        return f"{value:+.2f} s"
    return f"{value:.2f}"


def _range(pair: tuple[float, float] | None, unit: str = "") -> str:
    """``min..max`` with the unit's suffix (``x``, `` s``, none for counts and seconds of the rows)."""
    if pair is None:
        return "n/a"
    suffix = {"x": "x", "s": " s"}.get(unit, "")
    return f"{pair[0]:.2f}..{pair[1]:.2f}{suffix}"


def format_table(
    measured: Mapping[str, Sequence[float]],
    derived: Sequence[Ratio],
    keys: Sequence[str],
    failed: Iterable[str] = (),
) -> str:
    """The measurements (median, min..max and every run) and the ratios (with the min..max of the same
    ratio within each run), as fixed-width text."""
    failed_keys = set(failed)
    rows = [("measurement", "median s", "min..max s", "runs s")]
    for key in keys:
        runs = list(measured.get(key, ()))
        mid = median(runs)
        mark = "  FAILED" if key in failed_keys else ""
        every = " ".join(f"{r:.2f}" for r in runs) + mark
        rows.append((label_of(key), "n/a" if mid is None else f"{mid:.2f}", _range(spread(runs)), every))
    width = max(len(r[0]) for r in rows)
    spread_width = max(len(r[2]) for r in rows)
    lines = [f"{a:<{width}}  {b:>8}  {c:>{spread_width}}  {d}".rstrip() for a, b, c, d in rows]
    lines.append("")
    ratio_rows = [("ratio", "value", "per run min..max", "target")]
    for r in derived:
        target = ""
        if r.target is not None:
            target = f"<= {_number(r.target, r.unit).lstrip('+')} {r.verdict}".rstrip()
        ratio_rows.append((r.name, _number(r.value, r.unit), _range(r.spread, r.unit), target))
    rwidth = max(len(r[0]) for r in ratio_rows)
    pwidth = max(len(r[2]) for r in ratio_rows)
    lines += [f"{a:<{rwidth}}  {b:>9}  {c:>{pwidth}}  {d}".rstrip() for a, b, c, d in ratio_rows]
    return "\n".join(lines)


def vendor_config(directory: str = "vendor") -> str:
    """``.cargo/config.toml`` for the hand recipes: crates.io replaced by ``directory`` (relative to the
    folder holding ``.cargo``), offline."""
    return (
        "# written by the pytest-rustimage benchmark: vendored sources, no network\n"
        '[source.crates-io]\nreplace-with = "vendored-sources"\n\n'
        f'[source.vendored-sources]\ndirectory = "{directory}"\n\n'
        "[net]\noffline = true\n"
    )


@dataclass(frozen=True)
class Sources:
    """The crate's top-level files and folders a hand recipe copies as its sources (``vendor/`` and
    ``.cargo/`` have a layer of their own)."""

    files: tuple[str, ...] = ("Cargo.lock", "Cargo.toml")
    folders: tuple[str, ...] = ("src",)


def source_entries(entries: Iterable[tuple[str, bool]]) -> Sources:
    """The sources among a crate folder's top-level ``(name, is_folder)`` entries: all but ``vendor/``,
    ``target/`` and hidden ones (``.cargo/`` among them), sorted."""
    kept = sorted((name, folder) for name, folder in entries if not name.startswith(".") and name not in SKIPPED)
    return Sources(tuple(n for n, f in kept if not f), tuple(n for n, f in kept if f))


def sources_of(folder: Path) -> Sources:
    """The sources of the crate in ``folder`` (a linked folder counts as a file: ``COPY`` keeps the link)."""
    return source_entries((p.name, p.is_dir() and not p.is_symlink()) for p in folder.iterdir())


def _copy(names: Sequence[str], dest: str) -> str:
    """A ``COPY`` line, in the JSON form when a name would need quoting."""
    if all(re.fullmatch(r"[A-Za-z0-9_.+@=-]+", n) for n in names):
        return f"COPY {' '.join(names)} {dest}"
    return f"COPY {json.dumps([*names, dest])}"


def copy_sources(sources: Sources) -> list[str]:
    """The ``COPY`` lines of the sources: the files in one, each folder in one of its own."""
    lines = [_copy(sources.files, "./")] if sources.files else []
    return lines + [_copy([d], f"{d}/") for d in sources.folders]


VENDOR_LAYER = ["COPY .cargo .cargo", "COPY vendor vendor"]  # the vendored sources and cargo's replacement


def render_recipe(recipe: str, binary: str, sources: Sources = Sources()) -> str:
    """The background chapter's recipe ``naive`` or ``chef`` as a Dockerfile, offline.

    As in the chapter, except: the base images are ``ARG``\\ s; cargo-chef is installed only when the
    builder lacks it; the context carries ``vendor/`` and ``.cargo/config.toml`` as a team that vendors
    would have them, copied in a layer of their own before the dependency step (the cook step, or the
    naive recipe's one build), and the source steps copy ``sources`` only, so an edit never copies the
    vendored sources again.
    """
    header = [
        f"# The chapter's {recipe} recipe, written by the pytest-rustimage benchmark",
        "ARG BUILDER_IMAGE=rust",
        "ARG RUNTIME_IMAGE=debian:bookworm-slim",
        "",
    ]
    own = copy_sources(sources)
    if recipe == "naive":
        body = ["FROM ${BUILDER_IMAGE} AS builder", "WORKDIR /app", *VENDOR_LAYER, *own, "RUN cargo build --release"]
    elif recipe == "chef":
        body = [
            "FROM ${BUILDER_IMAGE} AS chef",
            "RUN command -v cargo-chef >/dev/null || cargo install cargo-chef",
            "WORKDIR /app",
            "",
            "FROM chef AS planner",
            *own,
            "RUN cargo chef prepare --recipe-path recipe.json",
            "",
            "FROM chef AS builder",
            *VENDOR_LAYER,
            "COPY --from=planner /app/recipe.json recipe.json",
            "RUN cargo chef cook --release --recipe-path recipe.json",
            *own,
            "RUN cargo build --release",
        ]
    else:
        raise ValueError(f"no recipe {recipe!r}: {', '.join(RECIPES)}")
    runtime = [
        "",
        "FROM ${RUNTIME_IMAGE}",
        f"COPY --from=builder /app/target/release/{binary} /usr/local/bin/",
        f'CMD ["{binary}"]',
        "",
    ]
    return "\n".join(header + body + runtime)


def ini_text(builder: str, runtime: str) -> str:
    """The ``pytest.ini`` beside the plugin's copy of the crate."""
    return f"[pytest]\nrust_image_builder = {builder}\nrust_image_runtime = {runtime}\nrust_image_vendor = true\n"


def _toml_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _sections(text: str) -> list[tuple[str, int, int]]:
    """(header, start, end) of each table: header is the line's text, start/end character offsets of the
    table's body (after the header line, up to the next header)."""
    headers = [(m.group(1).strip(), m.start(), m.end()) for m in re.finditer(r"(?m)^[ \t]*(\[[^\n]*\])[ \t]*$", text)]
    out = []
    for i, (header, _start, end) in enumerate(headers):
        body_end = headers[i + 1][1] if i + 1 < len(headers) else len(text)
        out.append((header, end, body_end))
    return out


def _table_name(header: str) -> str:
    return re.sub(r"\s+", "", header.split("#", 1)[0])


def rename_manifest(text: str, old: str, new: str, binary: str, binary_path: str, lib: bool) -> str:
    """The manifest of a package renamed ``old`` -> ``new`` whose binary and library keep their names.

    A binary named after the package (``src/main.rs``) gets an explicit ``[[bin]]``; a library not named
    in ``[lib]`` gets its name there, so ``use old::...`` still builds.
    """
    sections = _sections(text)
    package = next((s for s in sections if _table_name(s[0]) == "[package]"), None)
    if package is None:
        raise ValueError("no [package] table: only single packages can be benchmarked")
    _, start, end = package
    body, count = re.subn(
        rf'(?m)^(\s*name\s*=\s*)"{re.escape(old)}"', lambda m: m.group(1) + _toml_string(new), text[start:end], count=1
    )
    if count != 1:
        raise ValueError(f'no name = "{old}" in [package]')
    text = text[:start] + body + text[end:]
    sections = _sections(text)
    tail: list[str] = []
    bins = [text[s:e] for h, s, e in sections if _table_name(h) == "[[bin]]"]
    named = re.compile(rf'(?m)^\s*name\s*=\s*"{re.escape(binary)}"')
    if binary == old and not any(named.search(b) for b in bins):
        tail += ["", "[[bin]]", f"name = {_toml_string(binary)}", f"path = {_toml_string(binary_path)}"]
    if lib:
        lib_name = old.replace("-", "_")
        lib_table = next((s for s in sections if _table_name(s[0]) == "[lib]"), None)
        if lib_table is None:
            tail += ["", "[lib]", f"name = {_toml_string(lib_name)}"]
        elif not re.search(r"(?m)^\s*name\s*=", text[lib_table[1] : lib_table[2]]):
            text = text[: lib_table[1]] + f"\nname = {_toml_string(lib_name)}" + text[lib_table[1] :]
    if tail:
        text = text.rstrip("\n") + "\n" + "\n".join(tail) + "\n"
    return text


def rename_lock(text: str, old: str, new: str, version: str) -> str:
    """``Cargo.lock`` with the root package ``old`` (the entry without a ``source``) renamed ``new``."""
    pattern = re.compile(
        rf'(\[\[package\]\]\nname = )"{re.escape(old)}"(\nversion = "{re.escape(version)}"\n)(?!source = )'
    )
    renamed, count = pattern.subn(lambda m: m.group(1) + _toml_string(new) + m.group(2), text, count=1)
    if count != 1:
        raise ValueError(f"Cargo.lock has no entry for the package {old} {version}")
    return renamed


def set_image_metadata(text: str, values: Mapping[str, str | Sequence[str]]) -> str:
    """The manifest with these keys set in ``[package.metadata.rust-image]`` (the table made if missing,
    other keys kept; keys written on one line each)."""

    def line(key: str, value: str | Sequence[str]) -> str:
        if isinstance(value, str):
            return f"{key} = {_toml_string(value)}"
        return f"{key} = [{', '.join(_toml_string(v) for v in value)}]"

    new_lines = [line(k, v) for k, v in values.items()]
    table = next(
        (
            s
            for s in _sections(text)
            if _table_name(s[0]) in ("[package.metadata.rust-image]", '[package.metadata."rust-image"]')
        ),
        None,
    )
    if table is None:
        return text.rstrip("\n") + "\n\n[package.metadata.rust-image]\n" + "\n".join(new_lines) + "\n"
    _, start, end = table
    keys = "|".join(re.escape(k) for k in values)
    kept = [ln for ln in text[start:end].split("\n") if not re.match(rf'^\s*"?({keys})"?\s*=', ln)]
    body = "\n" + "\n".join(new_lines) + "\n".join(kept)
    if not body.endswith("\n"):
        body += "\n"
    return text[:start] + body + text[end:]


def edit_text(nonce: str) -> str:
    """What the source-only edit appends to the binary's main source file (a comment, unique per copy so
    no cache has seen the edited file)."""
    return f"\n{EDIT_MARK} {nonce}\n"


# ---------------------------------------------------------------------------------------------- machine


@dataclass
class Run:
    seconds: float
    returncode: int
    output: str  # stdout and stderr, tail only

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def tail(text: str, lines: int = TAIL_LINES) -> str:
    return "\n".join(text.splitlines()[-lines:])


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def timed(cmd: Sequence[str], cwd: Path | None = None, env: Mapping[str, str] | None = None) -> Run:
    """Wall-clock seconds of the whole command (``time.monotonic()`` around ``subprocess.run``)."""
    start = time.monotonic()
    proc = subprocess.run(
        list(cmd),
        cwd=cwd,
        env=dict(env) if env is not None else None,
        capture_output=True,
        text=True,
        errors="replace",
    )
    seconds = time.monotonic() - start
    return Run(seconds, proc.returncode, tail(proc.stdout + proc.stderr))


def checked(cmd: Sequence[str], cwd: Path | None = None, env: Mapping[str, str] | None = None) -> str:
    """Run a set-up command (not measured); its stdout, or SystemExit with its output's tail."""
    proc = subprocess.run(
        list(cmd),
        cwd=cwd,
        env=dict(env) if env is not None else None,
        capture_output=True,
        text=True,
        errors="replace",
    )
    if proc.returncode != 0:
        raise SystemExit(f"benchmark: {shlex.join(cmd)} failed ({proc.returncode}):\n{tail(proc.stdout + proc.stderr)}")
    return proc.stdout


def _first_line(cmd: Sequence[str], env: Mapping[str, str] | None = None) -> str:
    try:
        proc = subprocess.run(list(cmd), capture_output=True, text=True, timeout=60, env=env)
    except (OSError, subprocess.TimeoutExpired):
        return "not found"
    text = (proc.stdout or proc.stderr).strip()
    return text.splitlines()[0] if text else "not found"


@dataclass(frozen=True)
class EngineCli:
    """How the hand recipes are built: the engine's CLI, its build words and environment."""

    engine: str
    exe: str
    build_words: tuple[str, ...]
    env: Mapping[str, str]
    mode: str

    def build(
        self,
        context: Path,
        dockerfile: Path,
        tag: str,
        iidfile: Path,
        no_cache: bool,
        build_args: Mapping[str, str],
        labels: Mapping[str, str],
    ) -> list[str]:
        cmd = [self.exe, *self.build_words, "-f", str(dockerfile), "-t", tag, "--iidfile", str(iidfile)]
        if no_cache:
            cmd.append("--no-cache")
        for k, v in build_args.items():
            cmd += ["--build-arg", f"{k}={v}"]
        for k, v in labels.items():
            cmd += ["--label", f"{k}={v}"]
        return [*cmd, str(context)]


def find_engine_cli(engine: str) -> EngineCli:
    """The CLI the plugin itself would build with (``probe_cli``), BuildKit where it can."""
    env = dict(os.environ)
    if engine == "podman":
        env.setdefault("CONTAINERS_CONF", str(REPO / ".ci" / "containers.conf"))
        exe = shutil.which("podman") or "podman"
        return EngineCli("podman", exe, ("build", "--layers"), env, "buildah")
    cli: Any = None
    try:
        import importlib

        for module_name, lister in (
            ("pytest_rustimage.engines.docker.cli", "docker_clis"),
            ("pytest_rustimage.engines.docker", "_docker_clis"),
        ):
            try:
                module: Any = importlib.import_module(module_name)
            except ImportError:
                continue
            if hasattr(module, "probe_cli") and hasattr(module, lister):
                cli = module.probe_cli(getattr(module, lister)(), env)
                break
    except Exception:  # the plugin's engine modules are being reworked: fall back to Debian's client
        cli = None
    if cli is None:
        return EngineCli("docker", "/usr/bin/docker", ("build",), {**env, "DOCKER_BUILDKIT": "1"}, "buildkit-env")
    mode = str(cli.mode)
    words: tuple[str, ...] = ("buildx", "build", "--load") if mode == "buildx" else ("build",)
    if mode != "legacy":
        env["DOCKER_BUILDKIT"] = "1"
    return EngineCli("docker", str(cli.path), words, env, mode)


def machine(cli: EngineCli) -> dict[str, Any]:
    """nproc, memory, engine and toolchain versions, load."""
    mem = 0
    try:
        for ln in Path("/proc/meminfo").read_text().splitlines():
            if ln.startswith("MemTotal:"):
                mem = int(ln.split()[1]) * 1024
    except OSError:
        pass
    docker_cli = cli.exe if cli.engine == "docker" else (shutil.which("docker") or "docker")
    return {
        "nproc": os.cpu_count(),
        "memory_bytes": mem,
        "platform": platform.platform(),
        "docker": _first_line(
            [docker_cli, "version", "--format", "client {{.Client.Version}} server {{.Server.Version}}"]
        ),
        "docker_cli": f"{docker_cli} ({cli.mode})" if cli.engine == "docker" else docker_cli,
        "podman": _first_line(["podman", "--version"]),
        "rustc": _first_line(["rustc", "--version"]),
        "cargo_chef_host": _first_line(["cargo", "chef", "--version"]),
        "python": platform.python_version(),
        "loadavg_start": loadavg(),
    }


# ---------------------------------------------------------------------------------------------- the crate


@dataclass(frozen=True)
class CrateInfo:
    path: Path  # folder with Cargo.toml
    name: str
    version: str
    binary: str
    binary_src: str  # relative to path
    lib: bool


def read_crate(path: Path, wanted_bin: str | None) -> CrateInfo:
    """The package's name, version and binary (``cargo metadata``)."""
    manifest = path / "Cargo.toml"
    if not manifest.is_file():
        raise SystemExit(f"benchmark: no Cargo.toml in {path}")
    meta = json.loads(
        checked(["cargo", "metadata", "--format-version", "1", "--no-deps", "--manifest-path", str(manifest)])
    )
    packages = [p for p in meta["packages"] if Path(p["manifest_path"]).resolve() == manifest.resolve()]
    if not packages:
        raise SystemExit(f"benchmark: {manifest} is a virtual workspace: benchmark one package")
    pkg = packages[0]
    bins = [t for t in pkg["targets"] if "bin" in t["kind"]]
    lib = any(
        k in ("lib", "rlib", "dylib", "cdylib", "staticlib", "proc-macro") for t in pkg["targets"] for k in t["kind"]
    )
    if wanted_bin:
        chosen = [t for t in bins if t["name"] == wanted_bin]
    elif pkg.get("default_run"):
        chosen = [t for t in bins if t["name"] == pkg["default_run"]]
    else:
        chosen = bins if len(bins) == 1 else []
    if not chosen:
        names = ", ".join(t["name"] for t in bins) or "none"
        raise SystemExit(f"benchmark: pick the binary with --bin (binaries of {pkg['name']}: {names})")
    src = Path(chosen[0]["src_path"]).resolve().relative_to(path.resolve())
    return CrateInfo(path, pkg["name"], pkg["version"], chosen[0]["name"], src.as_posix(), lib)


def fetch_real_crate(spec: str, into: Path) -> Path:
    """``NAME@VERSION`` from crates.io through cargo (a throwaway package depending on it, ``cargo fetch``),
    its source copied into ``into``, with a ``Cargo.lock``."""
    name, sep, version = spec.partition("@")
    if not sep or not name or not version:
        raise SystemExit(f"benchmark: --real-crate wants NAME@VERSION, got {spec!r}")
    fetcher = into / "fetch"
    (fetcher / "src").mkdir(parents=True)
    (fetcher / "src" / "main.rs").write_text("fn main() {}\n")
    (fetcher / "Cargo.toml").write_text(
        '[package]\nname = "rustimage-bench-fetch"\nversion = "0.0.0"\nedition = "2021"\npublish = false\n\n'
        f"[dependencies]\n{name} = {_toml_string('=' + version)}\n"
    )
    checked(["cargo", "fetch", "--manifest-path", str(fetcher / "Cargo.toml")])
    home = Path(os.environ.get("CARGO_HOME", Path.home() / ".cargo"))
    found = sorted((home / "registry" / "src").glob(f"*/{name}-{version}"))
    if not found:
        raise SystemExit(f"benchmark: cargo fetched {spec} but its source is not under {home}/registry/src")
    dest = into / f"{name}-{version}"
    shutil.copytree(found[0], dest)
    for p in dest.rglob("*"):
        if p.is_file():
            p.chmod(p.stat().st_mode | 0o200)
    if not (dest / "Cargo.lock").is_file():
        checked(["cargo", "generate-lockfile", "--manifest-path", str(dest / "Cargo.toml")])
    return dest


def _ignore_top(root: Path) -> Callable[[str, list[str]], list[str]]:
    def ignore(folder: str, names: list[str]) -> list[str]:
        if Path(folder).resolve() != root.resolve():
            return []
        return [n for n in names if n in ("target", ".git", "vendor") or n.startswith(".env")]

    return ignore


@dataclass
class Bench:
    """One benchmark run: its folders, names and what it made (for the clean-up)."""

    crate: CrateInfo
    work: Path
    cli: EngineCli
    builder: str
    runtime: str
    run_id: str = field(default_factory=lambda: secrets.token_hex(3))
    names: list[str] = field(default_factory=list)  # package names given to copies
    counter: int = 0
    vendor: Path | None = None
    expect_stdout: str | None = None

    def fresh_name(self) -> str:
        self.counter += 1
        name = f"rib-{self.run_id}-{self.counter}-{self.crate.name}"
        self.names.append(name)
        return name

    def copy(self, dest: Path, vendored: bool, metadata: Mapping[str, str | Sequence[str]] | None = None) -> Path:
        """A copy of the crate under a fresh package name; with ``vendored``, ``vendor/`` and
        ``.cargo/config.toml`` for the hand recipes."""
        src = self.crate.path
        shutil.copytree(src, dest, ignore=_ignore_top(src))
        name = self.fresh_name()
        manifest = dest / "Cargo.toml"
        text = rename_manifest(
            manifest.read_text(), self.crate.name, name, self.crate.binary, self.crate.binary_src, self.crate.lib
        )
        if metadata:
            text = set_image_metadata(text, metadata)
        manifest.write_text(text)
        lock = dest / "Cargo.lock"
        lock.write_text(rename_lock(lock.read_text(), self.crate.name, name, self.crate.version))
        if vendored:
            shutil.copytree(self.vendored(), dest / "vendor")
            config = dest / ".cargo" / "config.toml"
            config.parent.mkdir(exist_ok=True)
            own = config.read_text() + "\n" if config.is_file() else ""
            config.write_text(own + vendor_config())
        return dest

    def vendored(self) -> Path:
        """The crate's dependencies vendored once on the host (set-up, not measured)."""
        if self.vendor is None:
            self.vendor = self.work / "vendor-cache"
            checked(
                [
                    "cargo",
                    "vendor",
                    "--locked",
                    "--manifest-path",
                    str(self.crate.path / "Cargo.toml"),
                    str(self.vendor),
                ]
            )
        return self.vendor

    def edit(self, copy: Path) -> None:
        with open(copy / self.crate.binary_src, "a") as f:
            f.write(edit_text(secrets.token_hex(4)))

    def labels(self) -> dict[str, str]:
        return {LABEL: self.run_id}

    def plugin_command(self, root: Path, crate: Path, strategy: str, checks: Sequence[str]) -> list[str]:
        """The plugin's run; it writes its JSON report to ``root/report.json``."""
        return [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            "-c",
            str(root / "pytest.ini"),
            "--rootdir",
            str(root),
            "--rust-image",
            str(crate / "Cargo.toml"),
            f"--rust-image-strategy={strategy}",
            f"--rust-image-engine={self.cli.engine}",
            f"--rust-image-checks={','.join(checks)}",
            f"--rust-image-bin={self.crate.binary}",
            "--rust-image-require-engine",
            f"--rust-image-report={root / 'report.json'}",
        ]

    def prune(self, name: str) -> None:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest_rustimage",
                "prune",
                "--all",
                "--crate",
                name,
                "--grace",
                "0",
                "--cache-mounts",  # the incremental strategy's target/ mounts of this copy
                "--engine",
                self.cli.engine,
            ],
            capture_output=True,
            env=dict(self.cli.env),
            cwd=self.work,
        )

    def clean_engine(self) -> None:
        """Remove every image and container this run made: the hand recipes' by label, the plugin's by
        the copies' package names."""
        exe, env = self.cli.exe, dict(self.cli.env)
        label = f"label={LABEL}={self.run_id}"
        containers = subprocess.run([exe, "ps", "-aq", "--filter", label], capture_output=True, text=True, env=env)
        if containers.stdout.split():
            subprocess.run([exe, "rm", "-f", *containers.stdout.split()], capture_output=True, env=env)
        images = subprocess.run([exe, "images", "-q", "--filter", label], capture_output=True, text=True, env=env)
        if images.stdout.split():
            subprocess.run([exe, "rmi", "-f", *sorted(set(images.stdout.split()))], capture_output=True, env=env)
        for name in self.names:
            self.prune(name)


def user_cache_root() -> Path:
    """The plugin's per-user cache folder, as ``pytest_rustimage.locks.cache_folder`` finds it."""
    root = os.environ.get("RUST_IMAGE_CACHE_DIR")
    if root:
        return Path(root)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pytest-rustimage"


def seed_plugin_cache(folder: Path) -> Path:
    """The plugin's cache folder for the benchmark's runs: in the temp folder (removed at the end, so the
    verdicts and facts of the copies never land in the user's cache), seeded with the user's per-layer
    facts (machine-wide, keyed by layer diff id: a base layer already read stays read, as on the machine)."""
    folder.mkdir(mode=0o700)
    layers = user_cache_root() / "layers"
    if layers.is_dir():
        shutil.copytree(layers, folder / "layers")
        (folder / "layers").chmod(0o700)
    return folder


# ---------------------------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="benchmarks/run.py", description="pytest-rustimage's benchmark (docs/benchmarks.md)"
    )
    p.add_argument("crate", nargs="?", type=Path, help="a folder with Cargo.toml (one package)")
    p.add_argument("--real-crate", metavar="NAME@VERSION", help="fetch this crate from crates.io and benchmark it")
    p.add_argument(
        "--runs",
        type=int,
        default=DEFAULT_RUNS,
        help=f"runs of each measurement (median shown; default {DEFAULT_RUNS})",
    )
    p.add_argument("--engine", choices=("docker", "podman"), default="docker")
    p.add_argument("--strategy", action="append", help="plugin strategy to measure (repeatable; default chef)")
    p.add_argument("--bin", help="the binary, for packages with several")
    p.add_argument("--args", default="--version", help="arguments of the runs check (default --version)")
    p.add_argument("--expect-stdout", help="what the runs check expects (default: the host build's first line)")
    p.add_argument("--builder-image", default=BUILDER_IMAGE)
    p.add_argument("--runtime-image", default=RUNTIME_IMAGE)
    p.add_argument("--skip", default="", help="comma-separated parts to leave out: host, recipes, plugin")
    p.add_argument("--out", type=Path, help="write the raw numbers as JSON here")
    p.add_argument("--keep", action="store_true", help="keep the temp folder (images are removed anyway)")
    args = p.parse_args(argv)
    if (args.crate is None) == (args.real_crate is None):
        p.error("give a CRATE_DIR or --real-crate NAME@VERSION")
    if args.runs < 1:
        p.error("--runs must be at least 1")
    args.strategy = args.strategy or ["chef"]
    args.skip = {s for s in args.skip.split(",") if s}
    if args.skip - {"host", "recipes", "plugin"}:
        p.error("--skip takes host, recipes, plugin")
    return args


def loadavg() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


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
            self.bench.expect_stdout = _first_line([str(binary), *self.run_args])

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
        cmd = [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-c",
            str(root / "pytest.ini"),
            "--rootdir",
            str(root),
            "--version",
        ]
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


def report_json(
    runner: Runner | None,
    args: argparse.Namespace,
    info: Mapping[str, Any],
    started: datetime.datetime,
    shown: Sequence[str],
    derived: Sequence[Ratio],
    cli: EngineCli,
) -> dict[str, Any]:
    """The raw numbers: every run's seconds and load, medians, spreads and ratios, the machine."""
    bench = runner.bench if runner else None
    crate = bench.crate if bench else None
    measured = runner.measured if runner else {}
    return {
        "date": started.isoformat(timespec="seconds"),
        "machine": info,
        "crate": {
            "name": crate.name,
            "version": crate.version,
            "binary": crate.binary,
            "edited": crate.binary_src,
            "source": args.real_crate or str(args.crate),
        }
        if crate
        else None,
        "runs": args.runs,
        "order": "per run: host cold, recipes cold, pytest start-up, plugin variants cold and warm; then the "
        "edits back to back: host, chef recipe, plugin variants, naive recipe",
        "engine": cli.engine,
        "engine_cli": f"{cli.exe} ({cli.mode})",
        "strategies": args.strategy,
        "builder_image": args.builder_image,
        "runtime_image": args.runtime_image,
        "expect_stdout": bench.expect_stdout if bench else None,
        "recipes": {name: render_recipe(name, crate.binary, sources_of(crate.path)) for name in RECIPES}
        if crate
        else {},
        "measurements": {
            k: {
                "label": label_of(k),
                "seconds": measured[k],
                "median": median(measured[k]),
                "min": min(measured[k]),
                "max": max(measured[k]),
            }
            for k in shown
        },
        "per_run": runner.runs if runner else [],
        "failures": runner.failures if runner else {},
        "ratios": [
            {
                "name": r.name,
                "value": r.value,
                "per_run_min": r.spread[0] if r.spread else None,
                "per_run_max": r.spread[1] if r.spread else None,
                "unit": r.unit,
                "target": r.target,
                "verdict": r.verdict,
            }
            for r in derived
        ],
    }


def main(argv: Sequence[str]) -> int:
    args = parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="rustimage-bench-"))
    cli = find_engine_cli(args.engine)
    started = datetime.datetime.now(datetime.timezone.utc)
    info = machine(cli)
    runner: Runner | None = None
    bench: Bench | None = None
    keys = measurement_keys(args.strategy)
    try:
        crate_dir = fetch_real_crate(args.real_crate, work / "real") if args.real_crate else args.crate.resolve()
        crate = read_crate(crate_dir, args.bin)
        bench = Bench(crate, work, cli, args.builder_image, args.runtime_image)
        env = dict(cli.env)
        env["RUST_IMAGE_CACHE_DIR"] = str(seed_plugin_cache(work / "plugin-cache"))
        dockerfiles = work / "dockerfiles"
        dockerfiles.mkdir()
        sources = sources_of(crate.path)
        for recipe in RECIPES:
            (dockerfiles / f"Dockerfile.{recipe}").write_text(render_recipe(recipe, crate.binary, sources))
        runner = Runner(args, bench, env, dockerfiles, shlex.split(args.args), len(keys) * args.runs)
        print(
            f"benchmark {bench.run_id}: {crate.name} {crate.version} (bin {crate.binary}, edit {crate.binary_src}), "
            f"{args.runs} run(s), engine {cli.engine} via {cli.exe} ({cli.mode}), work {work}",
            file=sys.stderr,
        )
        for r in range(args.runs):
            runner.one_run(r)
    except KeyboardInterrupt:
        print("benchmark: interrupted; cleaning up", file=sys.stderr)
        return_code = 130
    else:
        return_code = 1 if runner is not None and runner.failures else 0
    finally:
        if bench is not None:
            bench.clean_engine()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    measured = runner.measured if runner else {}
    shown = [k for k in keys if k in measured]
    medians = {k: median(v) for k, v in measured.items()}
    derived = with_spread(ratios(medians, args.strategy), runner.per_run_seconds() if runner else [], args.strategy)
    info["loadavg_end"] = loadavg()
    print(summary_header(bench, args, cli, info, started, runner))
    print()
    print(format_table(measured, derived, shown, runner.failures if runner else ()))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        report = report_json(runner, args, info, started, shown, derived, cli)
        args.out.write_text(json.dumps(report, indent=2) + "\n")
    return return_code


def summary_header(
    bench: Bench | None,
    args: argparse.Namespace,
    cli: EngineCli,
    info: Mapping[str, Any],
    started: datetime.datetime,
    runner: Runner | None,
) -> str:
    """The table's title, the machine and the load at start and end of the benchmark and of each run."""
    crate = bench.crate if bench else None
    title = (
        f"pytest-rustimage benchmark, {started:%Y-%m-%d %H:%M} UTC: "
        f"{crate.name + ' ' + crate.version if crate else '?'}, engine {cli.engine}, {args.runs} run(s) each"
    )
    mem = info["memory_bytes"] / 2**30
    machine_line = (
        f"machine: {info['nproc']} CPUs, {mem:.1f} GiB, docker {info['docker']}, {info['podman']}, {info['rustc']}, "
        f"load {info['loadavg_start'][0]:.2f} -> {info['loadavg_end'][0]:.2f}"
    )
    loads = [
        f"{run['run']}: {run['load_start'][0]:.2f} -> {run.get('load_end', [float('nan')])[0]:.2f}"
        for run in (runner.runs if runner else [])
    ]
    return "\n".join([title, machine_line, *(["load per run (1-min average): " + ", ".join(loads)] if loads else [])])

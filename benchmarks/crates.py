"""The crate benchmarked: its name, version and binary (``cargo metadata``), and the real crates the
benchmark fetches from crates.io (``--real-crate NAME@VERSION``)."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.manifest import toml_string
from benchmarks.timing import checked

LIB_KINDS = ("lib", "rlib", "dylib", "cdylib", "staticlib", "proc-macro")


@dataclass(frozen=True)
class CrateInfo:
    path: Path  # folder with Cargo.toml
    name: str
    version: str
    binary: str
    binary_src: str  # relative to path
    lib: bool


def _chosen_binary(pkg: dict[str, Any], wanted_bin: str | None) -> dict[str, Any]:
    """The binary target benchmarked: ``--bin``, else ``default-run``, else the only one."""
    bins = [t for t in pkg["targets"] if "bin" in t["kind"]]
    if wanted_bin:
        chosen = [t for t in bins if t["name"] == wanted_bin]
    elif pkg.get("default_run"):
        chosen = [t for t in bins if t["name"] == pkg["default_run"]]
    else:
        chosen = bins if len(bins) == 1 else []
    if not chosen:
        names = ", ".join(t["name"] for t in bins) or "none"
        raise SystemExit(f"benchmark: pick the binary with --bin (binaries of {pkg['name']}: {names})")
    target: dict[str, Any] = chosen[0]
    return target


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
    lib = any(k in LIB_KINDS for t in pkg["targets"] for k in t["kind"])
    binary = _chosen_binary(pkg, wanted_bin)
    src = Path(binary["src_path"]).resolve().relative_to(path.resolve())
    return CrateInfo(path, pkg["name"], pkg["version"], binary["name"], src.as_posix(), lib)


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
        f"[dependencies]\n{name} = {toml_string('=' + version)}\n"
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

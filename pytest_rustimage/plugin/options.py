"""The plugin's command-line options and ini keys, with their defaults and help texts.

Registration only: :func:`add_options` is called from ``pytest_addoption``; the values are read
once, by :meth:`pytest_rustimage.plugin.settings.Settings.from_config`.
"""

from __future__ import annotations

from typing import Any

import pytest

from pytest_rustimage.cachecheck.edits import KINDS as EDIT_KINDS
from pytest_rustimage.checks.registry import CHECK_NAMES, DEFAULT_CHECKS
from pytest_rustimage.engines import ALL, ENGINE_NAMES
from pytest_rustimage.names import DEFAULT_BUILDER, DEFAULT_RUNTIME, RUNTIME_NAMES
from pytest_rustimage.recipe.strategies import NAMES as STRATEGY_NAMES
from pytest_rustimage.report.baseline import DEFAULT_ABSOLUTE, DEFAULT_RELATIVE
from pytest_rustimage.report.parity import DEFAULT_TOLERANCE

BASELINE_NAME = "rust-image-baseline.json"
DEFAULT_ENGINE = "docker"
DEFAULT_BUILD_TIMEOUT = 1800.0
DEFAULT_RUN_TIMEOUT = 60.0
BASES_CHOICES = ("official", "local")

INI: tuple[tuple[str, str, str, Any], ...] = (
    # (name, type, help, default)
    ("rust_image", "bool", "build and check images without passing --rust-image", False),
    ("rust_image_strategy", "args", f"strategies ({', '.join(STRATEGY_NAMES)})", []),
    (
        "rust_image_checks",
        "args",
        f"built-in checks to collect: {', '.join(CHECK_NAMES)} (default: {', '.join(DEFAULT_CHECKS)})",
        [],
    ),
    ("rust_image_engine", "string", f"engine ({', '.join(ENGINE_NAMES)}, or {ALL})", DEFAULT_ENGINE),
    ("rust_image_require_engine", "bool", "fail, not skip, when the engine is unreachable", False),
    (
        "rust_image_bases",
        "string",
        "official (rust:1-bookworm, debian:bookworm-slim) or local (made by bases)",
        "official",
    ),
    ("rust_image_builder", "string", f"builder base image (default {DEFAULT_BUILDER}, or the local one)", ""),
    ("rust_image_runtime", "string", f"runtime base image (default {DEFAULT_RUNTIME}, or the local one)", ""),
    ("rust_image_vendor", "bool", "vendor dependencies on the host (builds need no network)", False),
    (
        "rust_image_auditable",
        "bool",
        "build with `cargo auditable` (the binary lists its crates; the sbom check then requires it)",
        False,
    ),
    ("rust_image_crate", "string", "crate used by rust_image when no marker names one", ""),
    ("rust_image_build_timeout", "string", "seconds one image build may take", str(DEFAULT_BUILD_TIMEOUT)),
    ("rust_image_run_timeout", "string", "seconds one container run may take", str(DEFAULT_RUN_TIMEOUT)),
    ("rust_image_baseline", "string", "size baseline file (default: rust-image-baseline.json beside the config)", ""),
    # the default tolerances are the report modules' own (written there once), as exact strings
    ("rust_image_size_tolerance", "string", "how much an image may grow past its baseline", str(DEFAULT_RELATIVE)),
    (
        "rust_image_size_tolerance_floor",
        "string",
        "growth always allowed, however small the image",
        str(DEFAULT_ABSOLUTE),
    ),
    ("rust_image_gate_base", "bool", "gate a change of runtime base too (else it is shown apart)", False),
    (
        "rust_image_cache_edits",
        "args",
        f"the cache check's edit kinds ({', '.join(EDIT_KINDS)}; default: source)",
        [],
    ),
    ("rust_image_cold_probe", "bool", "the cache probe's baseline is a --no-cache build, not the image's own", False),
    (
        "rust_image_runtimes",
        "args",
        f"runtime bases the binary must load on ({', '.join(RUNTIME_NAMES)}, or image references)",
        [],
    ),
    ("rust_image_parity_tolerance", "string", "how far image sizes of two engines may differ", str(DEFAULT_TOLERANCE)),
)


FLAG = {"action": "store_true", "default": None}  # a switch that, when not given, leaves the ini's value
SWITCH = {"action": "store_true", "default": False}  # a switch of the command line only

OPTIONS: tuple[tuple[str, dict[str, Any]], ...] = (
    # (option, its keyword arguments for addoption)
    ("--rust-image", {**FLAG, "help": "build the images of the crates given and run their checks"}),
    (
        "--rust-image-strategy",
        {
            "action": "append",
            "default": None,
            "metavar": "NAME[,NAME]",
            "help": f"build strategy, repeatable or comma-separated: {', '.join(STRATEGY_NAMES)}",
        },
    ),
    (
        "--rust-image-engine",
        {
            "default": None,
            "metavar": "NAME",
            "help": f"container engine: {', '.join(ENGINE_NAMES)}, or {ALL} (each, plus parity checks)",
        },
    ),
    ("--rust-image-require-engine", {**FLAG, "help": "fail instead of skipping when the engine is not reachable"}),
    ("--rust-image-rebuild", {**SWITCH, "help": "build again even when an image with the same inputs exists"}),
    (
        "--rust-image-cold-probe",
        {
            **SWITCH,
            "help": "the cache probe builds the unchanged crate cold (--no-cache) as its baseline, for cold numbers",
        },
    ),
    (
        "--rust-image-cache-edits",
        {
            "default": None,
            "metavar": "KIND[,KIND]",
            "help": f"the cache check's edit kinds: {', '.join(EDIT_KINDS)} (default: source)",
        },
    ),
    ("--rust-image-baseline", {"default": None, "metavar": "PATH", "help": "size baseline file"}),
    (
        "--rust-image-update-baseline",
        {**SWITCH, "help": "write the measured sizes into the baseline file instead of failing on growth"},
    ),
    ("--rust-image-report", {"default": None, "metavar": "PATH.json", "help": "write every measured fact as JSON"}),
    ("--rust-image-html", {"default": None, "metavar": "PATH.html", "help": "write an HTML report with charts"}),
    (
        "--rust-image-sbom",
        {"default": None, "metavar": "DIR", "help": "write one CycloneDX JSON per image (from the sbom check) in DIR"},
    ),
    (
        "--rust-image-auditable",
        {**FLAG, "help": "build with `cargo auditable`: the binary carries its dependency list (the sbom check)"},
    ),
    (
        "--rust-image-checks",
        {
            "default": None,
            "metavar": "NAME[,NAME]",
            "help": f"built-in checks to collect: {', '.join(CHECK_NAMES)} (default: {', '.join(DEFAULT_CHECKS)})",
        },
    ),
    (
        "--rust-image-runtimes",
        {
            "action": "append",
            "default": None,
            "metavar": "NAME[,NAME]",
            "help": "runtime bases the binary must load on (linkage fails where it would not), repeatable or "
            f"comma-separated: {', '.join(RUNTIME_NAMES)}, or image references",
        },
    ),
    ("--rust-image-bin", {"default": None, "metavar": "NAME", "help": "the binary to check"}),
    (
        "--rust-image-bases",
        {
            "default": None,
            "choices": BASES_CHOICES,
            "help": "official base images, or the local ones `python -m pytest_rustimage bases` makes (no registry)",
        },
    ),
)


def add_options(parser: pytest.Parser) -> None:
    """Register the command-line options and ini keys (read back by :meth:`Settings.from_config`)."""
    group = parser.getgroup("rust-image", "Rust container images (pytest-rustimage)")
    for flag, kwargs in OPTIONS:
        group.addoption(flag, **kwargs)
    for name, kind, help_text, default in INI:
        parser.addini(name, help_text, type=kind, default=default)  # type: ignore[arg-type]

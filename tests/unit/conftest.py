"""Fixtures shared by the unit tests of several areas: real Rust binaries built with ``cargo auditable``.

Each is built once per session (per xdist worker) in a temporary folder, offline, from the crates in
the host's Cargo registry cache. When a build cannot run here, the tests that need it are skipped
with the reason (``pytest -rs`` shows it); they never pass without it.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# A crate whose graph has every case cargo-auditable tells apart: a runtime crate from crates.io that is
# a build dependency too (itoa: runtime wins), a build-only crate (version_check), a proc-macro and its
# own dependencies (thiserror-impl, syn, quote...: build), a path crate (local), a dev-only crate
# (either: left out).
PROBE_FILES = {
    "Cargo.toml": """[package]
name = "sbom-probe"
version = "0.3.1"
edition = "2021"
publish = false

[dependencies]
itoa = "1"
thiserror = "2"
probe-local = { path = "local" }

[build-dependencies]
version_check = "0.9"
itoa = "1"

[dev-dependencies]
either = "1"

[workspace]
""",
    "build.rs": """fn main() {
    let mut buffer = itoa::Buffer::new();
    let _ = buffer.format(1);
    if version_check::is_min_version("1.0.0").unwrap_or(false) {
        println!("cargo:rustc-cfg=probe_new_rustc");
    }
}
""",
    "src/main.rs": """#[derive(Debug, thiserror::Error)]
#[error("probe error {0}")]
struct ProbeError(u32);

fn main() {
    let mut buffer = itoa::Buffer::new();
    println!("{} {} {}", buffer.format(probe_local::answer()), ProbeError(1), env!("CARGO_PKG_VERSION"));
}
""",
    "local/Cargo.toml": """[package]
name = "probe-local"
version = "0.0.2"
edition = "2021"
publish = false
""",
    "local/src/lib.rs": "pub fn answer() -> u64 {\n    42\n}\n",
}


@dataclass(frozen=True)
class AuditableBuild:
    """A crate folder and the binary ``cargo auditable`` built from it, or why it could not be built."""

    folder: Path | None
    binary: Path | None
    skip_reason: str = ""

    def need(self) -> tuple[Path, Path]:
        """The folder and the binary; the test is skipped, with the reason, when the build failed here."""
        if self.folder is None or self.binary is None:
            pytest.skip(self.skip_reason)
        return self.folder, self.binary


def host_target() -> str:
    """The host's target triple, as rustc says."""
    out = subprocess.run(["rustc", "-vV"], capture_output=True, text=True, check=True).stdout
    return next(line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("host:"))


def auditable_build(folder: Path, binary: str, *, locked: bool) -> AuditableBuild:
    """``cargo auditable build --release --offline`` in ``folder``; the built ``binary``."""
    if shutil.which("cargo") is None or shutil.which("cargo-auditable") is None:
        return AuditableBuild(None, None, "cargo or cargo-auditable is not on PATH (cargo install cargo-auditable)")
    command = ["cargo", "auditable", "build", "--release", "--offline", *(["--locked"] if locked else [])]
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        reason = f"`{' '.join(command)}` failed in a copy of {folder.name} (are its crates in ~/.cargo?):"
        return AuditableBuild(None, None, f"{reason} {done.stderr.strip()[-600:]}")
    return AuditableBuild(folder, folder / "target" / "release" / binary)


@pytest.fixture(scope="session")
def probe_build(tmp_path_factory: pytest.TempPathFactory) -> AuditableBuild:
    """The probe crate above, built with ``cargo auditable``."""
    folder = tmp_path_factory.mktemp("sbom-probe")
    for name, text in PROBE_FILES.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return auditable_build(folder, "sbom-probe", locked=False)


def _sample_copy(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    folder = tmp_path_factory.mktemp(f"sample-{name}") / name
    shutil.copytree(REPO / "sample_crates" / name, folder, ignore=shutil.ignore_patterns("target"))
    return folder


@pytest.fixture(scope="session")
def server_build(tmp_path_factory: pytest.TempPathFactory) -> AuditableBuild:
    """``sample_crates/server`` (axum and tokio: a proc-macro among ~40 crates), built with ``cargo auditable``."""
    return auditable_build(_sample_copy(tmp_path_factory, "server"), "server", locked=True)


@pytest.fixture(scope="session")
def workspace_build(tmp_path_factory: pytest.TempPathFactory) -> AuditableBuild:
    """``sample_crates/workspace`` (three members, path dependencies), built with ``cargo auditable``."""
    return auditable_build(_sample_copy(tmp_path_factory, "workspace"), "wsctl", locked=True)

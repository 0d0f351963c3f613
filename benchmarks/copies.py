"""The crate's copies, one per measured command, each under a package name of its own
(``rib-RUNID-N-NAME``), and the clean-up of the images and containers they made; the plugin's cache
folder for the benchmark's runs."""

from __future__ import annotations

import secrets
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.crates import CrateInfo
from benchmarks.engine_cli import EngineCli
from benchmarks.manifest import edit_text, rename_lock, rename_manifest, set_image_metadata
from benchmarks.recipes import vendor_config
from benchmarks.timing import checked
from pytest_rustimage.folders import FolderError, cache_folder
from pytest_rustimage.names import PLUGIN_LABEL, REPOSITORY

LABEL = f"{PLUGIN_LABEL}.benchmark"  # on every image and container the benchmark makes itself
TAG_PREFIX = f"{REPOSITORY}-bench/"  # hand-built recipe images (outside the plugin's repository)

# every pytest the benchmark runs: no cache folder written, and without hypothesis's plugin, which this
# project's dev tools install and which imports all of hypothesis at every session's end (about 1.2 s
# here), a cost of hypothesis's, not of the plugin's, that a user without hypothesis does not pay
PYTEST_FLAGS = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest")


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
            manifest = str(self.crate.path / "Cargo.toml")
            checked(["cargo", "vendor", "--locked", "--manifest-path", manifest, str(self.vendor)])
            self.vendor.mkdir(exist_ok=True)  # cargo makes no folder for a crate without dependencies
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
            *PYTEST_FLAGS,
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


def seed_plugin_cache(folder: Path) -> Path:
    """The plugin's cache folder for the benchmark's runs: in the temp folder (removed at the end, so the
    verdicts and facts of the copies never land in the user's cache), seeded with the user's per-layer
    facts (machine-wide, keyed by layer diff id: a base layer already read stays read, as on the machine).
    The user's folder is the plugin's own (``pytest_rustimage.folders.cache_folder``)."""
    folder.mkdir(mode=0o700)
    try:
        layers = cache_folder("layers")
    except FolderError as exc:
        print(f"benchmark: the plugin's cache starts empty: {exc}", file=sys.stderr)
        return folder
    shutil.copytree(layers, folder / "layers")
    (folder / "layers").chmod(0o700)
    return folder

"""A pytester folder with copies of the sample crates, run with `pytest --rust-image`."""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from pytest_rustimage import names
from pytest_rustimage.engines import make_engine
from tests.report_schema import validate_report, validate_reports_of

NO_CACHE = "--rust-image-checks=build,runs,size,linkage"  # for tests about other things than the cache
SAMPLES = Path(__file__).resolve().parents[2] / "sample_crates"
INI = f"""[pytest]
rust_image_builder = {names.LOCAL_BUILDER}
rust_image_runtime = {names.LOCAL_RUNTIME}
rust_image_vendor = true
"""


@functools.cache
def static_libc() -> str:
    """The libc of the static strategy's binaries, as the builder decides it (see recipe/dockerfile.py):
    ``musl`` when the builder's toolchain has the x86_64-unknown-linux-musl target, else ``glibc``
    (the gnu target with ``+crt-static``). Read from the local builder image itself."""
    musl = '"$(rustc --print sysroot)/lib/rustlib/x86_64-unknown-linux-musl"'
    probe = f"if [ -d {musl} ]; then echo musl; else echo glibc; fi"
    done = subprocess.run(
        ["docker", "run", "--rm", "--network=none", "--entrypoint", "sh", names.LOCAL_BUILDER, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return done.stdout.strip()


def static_linkages() -> tuple[str, ...]:
    """The linkages a static-strategy binary may have with :func:`static_libc`: glibc's +crt-static
    gives static-pie; Rust's musl target is static-pie by default, plain static with some toolchains."""
    return ("static-pie",) if static_libc() == "glibc" else ("static-pie", "static")


def docker_address() -> str:
    """socat's address of the Docker engine the tests use: ``DOCKER_HOST`` (a unix socket or tcp), by
    default Docker's own socket."""
    host = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    if host.startswith("unix://"):
        return f"UNIX-CONNECT:{host.removeprefix('unix://')}"
    if host.startswith("tcp://"):
        return f"TCP:{host.removeprefix('tcp://').rstrip('/')}"
    raise AssertionError(f"DOCKER_HOST={host}: the tests can forward only unix:// and tcp:// engines")


def output_words(*command: str) -> list[str]:
    """The words a command prints (ids, one per line), failing when the command fails."""
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout.split()


class Project:
    """A pytester folder holding copies of sample crates and the ini the project uses."""

    def __init__(self, pytester: pytest.Pytester) -> None:
        self.pytester = pytester
        self.path = pytester.path
        self.fresh_names: list[str] = []
        (self.path / "pytest.ini").write_text(INI)

    def copy(self, sample: str, name: str | None = None) -> Path:
        dest = self.path / (name or sample)
        shutil.copytree(SAMPLES / sample, dest, ignore=shutil.ignore_patterns("target"))
        return dest

    def fresh(self, name: str, main_rs: str | None = None) -> Path:
        """A copy of ``hello`` as a crate called ``name``, with sources no earlier run has built (so its
        image tag is new); :meth:`remove_images` removes what was built of it."""
        crate = self.copy("hello", name)
        manifest = crate / "Cargo.toml"
        manifest.write_text(manifest.read_text().replace('name = "hello"', f'name = "{name}"'))
        (crate / "Cargo.lock").unlink()  # hello has no dependencies; cargo writes a new one
        main = crate / "src" / "main.rs"
        main.write_text((main_rs or main.read_text()) + f"// {uuid.uuid4().hex}\n")
        self.fresh_names.append(name)
        return crate

    def remove_images(self) -> None:
        """Remove the images of the crates made by :meth:`fresh`, on both engines."""
        for name in self.fresh_names:
            for cli in ("docker", "podman"):
                listed = subprocess.run(
                    [cli, "images", "-q", "--filter", f"reference=*pytest-rustimage/{name}:*"],
                    capture_output=True,
                    text=True,
                )
                ids = sorted(set(listed.stdout.split()))
                if ids:
                    subprocess.run([cli, "rmi", "-f", *ids], capture_output=True)

    def set_metadata(self, crate: Path, **values: str) -> None:
        """Add ``key = value`` lines (values are TOML) to the crate's rust-image metadata table."""
        manifest = crate / "Cargo.toml"
        text = manifest.read_text()
        keys = {key: key.replace("_", "-") for key in values}
        for key in keys.values():  # a key given again replaces the crate's own
            text = re.sub(rf"^{re.escape(key)} = .*\n", "", text, flags=re.M)
        lines = "".join(f"{keys[key]} = {value}\n" for key, value in values.items())
        header = re.search(r"^\[(package|workspace)\.metadata\.rust-image\]\n", text, re.M)
        if header:
            text = text[: header.end()] + lines + text[header.end() :]
        else:
            text += f"\n[package.metadata.rust-image]\n{lines}"
        manifest.write_text(text)

    def run(self, *args: str, require_engine: bool = True) -> pytest.RunResult:
        extra = ["--rust-image-require-engine"] if require_engine else []
        result = self.pytester.runpytest_subprocess(
            "--rust-image", "-p", "no:cacheprovider", "-rs", *extra, *args, timeout=1500
        )
        validate_reports_of(args, self.pytester.path)  # every JSON report the suite writes matches its schema
        return result


def remove_reported_images(report: Path) -> list[dict[str, Any]]:
    """Remove the images a ``--rust-image-report`` file lists (their tags, on their engines); returns its records."""
    records: list[dict[str, Any]] = validate_report(report)["images"] if report.is_file() else []
    for record in records:
        engine = make_engine(record["engine"])
        try:
            engine.remove_image(record["tag"])
        finally:
            engine.close()
    return records

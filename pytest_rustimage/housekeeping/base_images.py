"""Local base images for machines without a registry.

``python -m pytest_rustimage bases`` makes two images from Debian's packages
with mmdebstrap and loads them into the engine:

* the **builder** (``pytest-rustimage/builder:bookworm``): Debian bookworm
  minbase with gcc, libc6-dev and ca-certificates, the host's Rust toolchain
  (its ``bin/`` and ``lib/``, without docs or sources) under ``/usr/local/rust``
  and a cargo-chef built on the host in ``/usr/local/cargo/bin`` (with cargo-auditable beside it when
  the host has one: the ``sbom`` check's auditable builds);
* the **runtime** (``pytest-rustimage/runtime:bookworm-slim``): Debian bookworm
  minbase without docs, man pages and locales;
* the **small runtime** (``pytest-rustimage/runtime:cc-bookworm``): only glibc, libgcc_s, the CA
  certificates and the 65532 non-root user's files, like distroless ``cc``
  (see :mod:`pytest_rustimage.housekeeping.cc_base`);
* on request (``--runtime-suite bullseye``), a runtime from another Debian release
  (``pytest-rustimage/runtime:bullseye-slim``), made like the bookworm one from the same apt sources
  with the release's name in place of ``bookworm``: what a builder newer than the runtime looks like.

Each image carries a label with a digest of its recipe (the package lists,
the toolchain version and the cargo-chef and cargo-auditable versions); when the engine already
holds an image with the same recipe, nothing is done. The official images
(``rust``, ``debian:bookworm-slim``) stay the plugin's defaults.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pytest_rustimage.engines.protocol import Engine, EngineAndStore
from pytest_rustimage.errors import RustImageError
from pytest_rustimage.housekeeping import cc_base
from pytest_rustimage.names import (
    LOCAL_BUILDER,
    LOCAL_CC_RUNTIME,
    LOCAL_RUNTIME,
    LOCAL_RUNTIME_TAG,
    RECIPE_LABEL,
    normalise_id,
)

SUITE = "bookworm"
DEFAULT_SOURCES = (
    "deb http://deb.debian.org/debian bookworm main",
    "deb http://deb.debian.org/debian bookworm-updates main",
    "deb http://deb.debian.org/debian-security bookworm-security main",
)
EXCLUDES = ("/usr/share/doc/*", "/usr/share/man/*", "/usr/share/locale/*", "/usr/share/info/*")
BUILDER_PACKAGES = ("gcc", "libc6-dev", "ca-certificates")
BUILDER_PATH = "/usr/local/cargo/bin:/usr/local/rust/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
RECIPE_VERSION = 1


@dataclass(frozen=True)
class Toolchain:
    sysroot: Path
    rustc_version: str
    cargo_chef: Path
    cargo_chef_version: str
    cargo_auditable: Path | None = None  # carried when the host has it
    cargo_auditable_version: str = ""  # a digest of its bytes (it prints no version of its own)


@dataclass(frozen=True)
class BaseImage:
    tag: str
    image_id: str
    made: bool  # False when an image with the same recipe was already there


def _run(command: list[str], what: str) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    except FileNotFoundError as exc:
        raise RustImageError(f"{what}: `{command[0]}` is not installed") from exc
    if done.returncode != 0:
        raise RustImageError(f"{what} failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout.strip()


def host_toolchain() -> Toolchain:
    """The host's Rust toolchain and cargo-chef (and cargo-auditable, when installed), which the builder
    image receives."""
    sysroot = Path(_run(["rustc", "--print", "sysroot"], "finding the host's Rust toolchain"))
    chef = shutil.which("cargo-chef")
    auditable = shutil.which("cargo-auditable")
    if chef is None:
        raise RustImageError(
            "cargo-chef is not on PATH; install it on the host with `cargo install cargo-chef --locked`"
        )
    return Toolchain(
        sysroot=sysroot,
        rustc_version=_run(["rustc", "--version"], "reading rustc's version"),
        cargo_chef=Path(chef),
        cargo_chef_version=_run([chef, "--version"], "reading cargo-chef's version"),
        cargo_auditable=Path(auditable) if auditable else None,
        cargo_auditable_version=_file_digest(Path(auditable)) if auditable else "",
    )


def _file_digest(path: Path) -> str:
    """A tool's identity when it tells no version of its own (``cargo-auditable --version`` asks to be
    run through cargo, which then prints cargo's): the digest of its bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


_SUITE_NAME = re.compile(r"^[a-z][a-z0-9-]{1,31}$")


def suite_sources(suite: str, sources: tuple[str, ...] = DEFAULT_SOURCES) -> tuple[str, ...]:
    """The apt sources lines for another Debian release: ``sources`` with ``bookworm`` (as a word, also in
    ``bookworm-updates``/``bookworm-security``) replaced by ``suite``; a mirror stays the mirror.

    ``ValueError`` for a name that is not a Debian suite or codename's shape, or sources that name no
    ``bookworm`` to replace."""
    if not _SUITE_NAME.match(suite):
        raise ValueError(f"{suite!r} is not a Debian release name (such as bullseye or trixie)")
    replaced = tuple(re.sub(rf"(?<![\w.-]){SUITE}(?=[-\s]|$)", suite, line) for line in sources)
    if replaced == sources and suite != SUITE:
        raise ValueError(f"the apt sources name no {SUITE} to replace with {suite}: {'; '.join(sources)}")
    return replaced


def runtime_tag(suite: str = SUITE) -> str:
    """The local runtime base's tag for a Debian release."""
    return LOCAL_RUNTIME if suite == SUITE else LOCAL_RUNTIME_TAG.format(suite=suite)


def recipe_digest(kind: str, sources: tuple[str, ...], extra: dict[str, str], suite: str = SUITE) -> str:
    text = json.dumps(
        {
            "kind": kind,
            "v": RECIPE_VERSION,
            "suite": suite,
            "sources": sources,
            "excludes": EXCLUDES,
            "packages": BUILDER_PACKAGES if kind == "builder" else (),
            **extra,
        },
        sort_keys=True,
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def mmdebstrap_command(
    output: Path,
    sources: tuple[str, ...],
    *,
    include: tuple[str, ...] = (),
    hooks: tuple[str, ...] = (),
    suite: str = SUITE,
) -> list[str]:
    cmd = ["mmdebstrap", "--variant=minbase", "--quiet"]
    cmd += [f"--dpkgopt=path-exclude={pattern}" for pattern in EXCLUDES]
    if include:
        cmd.append("--include=" + ",".join(include))
    cmd += [f"--customize-hook={hook}" for hook in hooks]
    cmd += [suite, str(output), *sources]
    return cmd


def _existing(engine: Engine, tag: str, digest: str) -> str | None:
    if engine.image_id(tag) is None:
        return None
    raw = engine.inspect_raw(tag)
    labels = (raw.get("Config") or {}).get("Labels") or {}
    return normalise_id(str(raw["Id"])) if labels.get(RECIPE_LABEL) == digest else None


def _ensure(
    engines: Sequence[EngineAndStore],
    tag: str,
    digest: str,
    make: Callable[[Path], None],
    changes: list[str],
    *,
    force: bool,
    say: Callable[[str], None],
) -> list[BaseImage]:
    """Have ``tag`` with ``digest`` in every engine: made once, then copied engine to engine.

    Copying (save, then load) keeps the image id, so every engine builds on the very same base.
    """
    found = {e.name: (None if force else _existing(e, tag, digest)) for e in engines}
    results = [BaseImage(tag, ident, made=False) for e in engines if (ident := found[e.name])]
    for e in engines:
        if found[e.name]:
            say(f"{tag} is up to date in {e.name} ({found[e.name]})")
    missing = [e for e in engines if not found[e.name]]
    donor = next((e for e in engines if found[e.name]), None)
    if missing and donor is None:
        donor = missing.pop(0)
        with tempfile.TemporaryDirectory(prefix="rust-image-bases-") as tmp:
            tarball = Path(tmp) / "rootfs.tar"
            make(tarball)
            image_id = donor.import_rootfs(tarball, tag, [f"LABEL {RECIPE_LABEL}={digest}", *changes])
        say(f"{tag} made in {donor.name} ({image_id})")
        results.append(BaseImage(tag, image_id, made=True))
    for engine in missing:
        assert donor is not None
        say(f"copying {tag} from {donor.name} to {engine.name} ...")
        with tempfile.TemporaryDirectory(prefix="rust-image-bases-") as tmp:
            archive = Path(tmp) / "image.tar"
            with donor.open_archive(tag) as stream, open(archive, "wb") as out:
                shutil.copyfileobj(stream, out, 1 << 20)
            engine.load_archive(archive)
        copied = _existing(engine, tag, digest)
        if copied is None:
            raise RustImageError(f"copying {tag} from {donor.name} to {engine.name} left no such image")
        say(f"{tag} copied to {engine.name} ({copied})")
        results.append(BaseImage(tag, copied, made=True))
    return results


def ensure_runtime(
    engines: Sequence[EngineAndStore],
    *,
    sources: tuple[str, ...] = DEFAULT_SOURCES,
    force: bool = False,
    say: Callable[[str], None] = print,
    suite: str = SUITE,
) -> list[BaseImage]:
    """The runtime base of Debian ``suite`` (bookworm unless told): ``sources`` are bookworm's, and
    another suite's are made from them (:func:`suite_sources`)."""
    tag = runtime_tag(suite)
    if suite != SUITE:
        try:
            sources = suite_sources(suite, sources)
        except ValueError as exc:
            raise RustImageError(f"--runtime-suite {suite}: {exc}") from exc

    def make(tarball: Path) -> None:
        say(f"making {tag} with mmdebstrap ...")
        _run(mmdebstrap_command(tarball, sources, suite=suite), f"mmdebstrap (runtime, {suite})")

    digest = recipe_digest("runtime", sources, {}, suite=suite)
    return _ensure(engines, tag, digest, make, ['CMD ["bash"]'], force=force, say=say)


def ensure_builder(
    engines: Sequence[EngineAndStore],
    *,
    sources: tuple[str, ...] = DEFAULT_SOURCES,
    force: bool = False,
    say: Callable[[str], None] = print,
) -> list[BaseImage]:
    tc = host_toolchain()
    hooks = (
        'mkdir -p "$1/usr/local/rust" "$1/usr/local/cargo/bin"',
        f'tar -C "{tc.sysroot}" --exclude=lib/rustlib/src --exclude=share -cf - bin lib'
        ' | tar -C "$1/usr/local/rust" -xf -',
        f'cp "{tc.cargo_chef}" "$1/usr/local/cargo/bin/cargo-chef"',
        *([f'cp "{tc.cargo_auditable}" "$1/usr/local/cargo/bin/cargo-auditable"'] if tc.cargo_auditable else []),
    )

    def make(tarball: Path) -> None:
        say(f"making {LOCAL_BUILDER} with mmdebstrap and the host's {tc.rustc_version} ...")
        _run(mmdebstrap_command(tarball, sources, include=BUILDER_PACKAGES, hooks=hooks), "mmdebstrap (builder)")

    tools = {"rustc": tc.rustc_version, "chef": tc.cargo_chef_version}
    if tc.cargo_auditable:
        tools["auditable"] = tc.cargo_auditable_version
    digest = recipe_digest("builder", sources, tools)
    changes = [f"ENV PATH={BUILDER_PATH}", "ENV CARGO_HOME=/usr/local/cargo", 'CMD ["bash"]']
    return _ensure(engines, LOCAL_BUILDER, digest, make, changes, force=force, say=say)


def ensure_cc_runtime(
    engines: Sequence[EngineAndStore],
    *,
    sources: tuple[str, ...] = DEFAULT_SOURCES,
    force: bool = False,
    say: Callable[[str], None] = print,
) -> list[BaseImage]:
    """The small runtime base: a minbase rootfs with ca-certificates, cut down by :func:`cc_base.cut`."""

    def make(tarball: Path) -> None:
        say(f"making {LOCAL_CC_RUNTIME} with mmdebstrap ...")
        full = tarball.with_name("full-rootfs.tar")
        _run(mmdebstrap_command(full, sources, include=("ca-certificates",)), "mmdebstrap (cc runtime)")
        cc_base.cut(full, tarball)
        full.unlink()

    extra = {"packages": ",".join(cc_base.PACKAGES), "files": ",".join(cc_base.EXTRA_FILES), "cut": "1"}
    digest = recipe_digest("cc-runtime", sources, extra)
    return _ensure(engines, LOCAL_CC_RUNTIME, digest, make, [], force=force, say=say)

"""The names the plugin gives things, each written down once: labels, tags, base images, ids, checks.

A foundation module: it imports nothing of the plugin, and every layer may import it.

* **Labels** the plugin puts on what it makes (images, containers, base images), so that its cleanup
  and ``prune`` find its own and nothing else.
* **Tags**: a build's tag is ``pytest-rustimage/CRATE:STRATEGY-DIGEST16`` (the first 16 hex digits of
  the build's input digest), a cache probe's ``pytest-rustimage/CRATE:probe-STRATEGY-SESSION-...``.
  :func:`build_tag` and :func:`probe_tag` write them, :func:`parse_tag` reads them back.
* **Base images**: the official defaults and the local ones ``python -m pytest_rustimage bases`` makes.
* **Ids**: image ids as ``sha256:HEX`` whichever engine wrote them.
* **Item ids**: a built-in check's item is ``CHECK[VARIANT]``; an image's variant is
  ``STRATEGY-ENGINE[-BINARY]`` (also the ids of tests using ``rust_image``), parity's ``STRATEGY[-BINARY]``
  (:func:`variant`, :func:`item_name`). The checks themselves are listed in ``checks/registry.py``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

# labels
PLUGIN_LABEL = "io.github.pytest-rustimage"
SESSION_LABEL = f"{PLUGIN_LABEL}.session"
INPUTS_LABEL = f"{PLUGIN_LABEL}.inputs"  # on built images: the digest of the build's inputs
RUN_LABEL = f"{PLUGIN_LABEL}.run"  # on built images: the run (all xdist workers of it) that built them
EPOCH_LABEL = f"{PLUGIN_LABEL}.source-date-epoch"  # on generated images: the SOURCE_DATE_EPOCH they were built with
BUILT_LABEL = f"{PLUGIN_LABEL}.built"  # on built images: when the build ran, in seconds since the epoch
RECIPE_LABEL = f"{PLUGIN_LABEL}.base-recipe"  # on local base images: the digest of their recipe

# base images
DEFAULT_BUILDER = "rust:1-bookworm"  # the official images stay the defaults
DEFAULT_RUNTIME = "debian:bookworm-slim"
LOCAL_BUILDER = "pytest-rustimage/builder:bookworm"  # made by `python -m pytest_rustimage bases`
LOCAL_RUNTIME = "pytest-rustimage/runtime:bookworm-slim"
LOCAL_RUNTIME_TAG = "pytest-rustimage/runtime:{suite}-slim"  # `bases --runtime-suite SUITE`: another Debian release
LOCAL_CC_RUNTIME = "pytest-rustimage/runtime:cc-bookworm"  # glibc, libgcc_s, CA certificates: like distroless cc


@dataclass(frozen=True)
class Runtime:
    """A runtime base the linkage check's matrix asks about: its name as shown, the references it may
    have in an engine (the first one held is used) and how to get it when none is held."""

    name: str
    refs: tuple[str, ...]
    make: str


MAKE_BASES = "python -m pytest_rustimage bases"
NO_RUNTIMES = "none"  # rust_image_runtimes = none: no runtime matrix at all
# the friendly runtime names: (local base, official image, how to make or get the local one)
RUNTIME_NAMES = {
    "bookworm-slim": (LOCAL_RUNTIME, DEFAULT_RUNTIME, MAKE_BASES),
    "bullseye-slim": (
        LOCAL_RUNTIME_TAG.format(suite="bullseye"),
        "debian:bullseye-slim",
        f"{MAKE_BASES} --runtime-suite bullseye",
    ),
    "cc-bookworm": (LOCAL_CC_RUNTIME, "gcr.io/distroless/cc-debian12", MAKE_BASES),
}


def runtime(name: str, *, local: bool) -> Runtime | None:
    """The runtime a name of ``rust_image_runtimes`` stands for: a friendly name (:data:`RUNTIME_NAMES`;
    the local base first when ``local``, else the official image first), or an image reference (one
    with ``:`` or ``/``) as it is; None for anything else."""
    if name in RUNTIME_NAMES:
        own, official, make = RUNTIME_NAMES[name]
        refs = (own, official) if local else (official, own)
        return Runtime(name, refs, f"`{make}`, or pull {official}")
    if (":" in name or "/" in name) and not name.startswith(("/", ":")) and " " not in name:
        return Runtime(name, (name,), f"`docker pull {name}` (or `podman pull {name}`), or build it")
    return None


# tags
REPOSITORY = "pytest-rustimage"
TAG_PREFIX = f"{REPOSITORY}/"
DIGEST_DIGITS = 16
_REGISTRY_PREFIXES = ("localhost/", "docker.io/library/", "docker.io/")
_BUILD_TAG = re.compile(rf"^(?P<strategy>[a-z][a-z0-9-]*)-(?P<digest>[0-9a-f]{{{DIGEST_DIGITS}}})$")
_PROBE = "probe-"


def tag_part(name: str) -> str:
    """A crate name as it appears in image tags (``pytest-rustimage/NAME:...``)."""
    cleaned = "".join(c if c.isalnum() or c in "._-" else "-" for c in name.lower()).strip("._-")
    return cleaned or "crate"


STEP_MARK = "RUST_IMAGE_STEP="  # opens the commands of the generated Dockerfiles' cargo steps
CACHE_MOUNT_PREFIX = f"{REPOSITORY}-"  # the ids of the plugin's own build cache mounts start so
REGISTRY_CACHE_MOUNT = f"{CACHE_MOUNT_PREFIX}cargo-registry"
CARGO_REGISTRY_DIR = "/usr/local/cargo/registry"  # where that mount goes: cargo's registry cache in the official images
MOUNT_MARK = "RUST_IMAGE_MOUNT="  # names the target/ cache mount's id in the build step's command


def cache_mount_id(crate: str, binary: str, builder: str) -> str:
    """The id of the ``incremental`` strategy's ``target/`` cache mount: one per crate, binary and builder.

    Not per checkout: two checkouts of one crate share it, and the build step's freshness rule (by
    content, see :mod:`pytest_rustimage.recipe.dockerfile`) keeps them apart. Per builder image
    (``builder``: its id, ``sha256:HEX``, or its reference when the engine has no id for it yet): cargo
    knows its own toolchain's version, but not the linker, C compiler and system libraries around it,
    so artifacts of another builder image must never count as fresh. The id ends in ``--`` and twelve
    hex digits: the image id's first ones, or a digest of the reference.
    """
    if builder.startswith("sha256:"):
        key = builder.removeprefix("sha256:")[:12]
    else:
        key = hashlib.sha256(builder.encode()).hexdigest()[:12]
    return f"{CACHE_MOUNT_PREFIX}target-{tag_part(crate)}--{tag_part(binary)}--{key}"


def is_crate_mount(mount: str, crate: str) -> bool:
    """Whether the cache mount called ``mount`` is one of ``crate``'s (from :func:`cache_mount_id`)."""
    return mount.startswith(f"{CACHE_MOUNT_PREFIX}target-{tag_part(crate)}--")


def build_tag(crate: str, strategy: str, digest: str) -> str:
    """The tag of a build of ``crate`` with ``strategy`` whose inputs have ``digest``."""
    return f"{TAG_PREFIX}{tag_part(crate)}:{strategy}-{digest[:DIGEST_DIGITS]}"


def probe_tag(crate: str, strategy: str, session: str) -> str:
    """The stem of a cache probe's tags (the probe adds ``-cold``, ``-base`` or ``-warm``)."""
    return f"{TAG_PREFIX}{tag_part(crate)}:{_PROBE}{strategy}-{session}"


@dataclass(frozen=True)
class PluginTag:
    """A tag in the plugin's repository: a build's (``CRATE:STRATEGY-DIGEST16``) or a cache probe's."""

    ref: str  # as the engine spells it
    crate: str
    kind: str  # "build" or "probe"
    strategy: str = ""


def bare(ref: str) -> str:
    """A reference without the registry prefix an engine may add (``localhost/``, ``docker.io/``)."""
    for prefix in _REGISTRY_PREFIXES:
        if ref.startswith(prefix):
            return ref[len(prefix) :]
    return ref


def parse_tag(ref: str) -> PluginTag | None:
    """The plugin's meaning of a tag, or None when the plugin did not name it so."""
    repository, sep, tag = bare(ref).rpartition(":")
    crate = repository[len(TAG_PREFIX) :] if repository.startswith(TAG_PREFIX) else ""
    if not sep or not crate or "/" in crate or "/" in tag:
        return None
    if tag.startswith(_PROBE):
        return PluginTag(ref, crate, "probe")
    match = _BUILD_TAG.match(tag)
    return PluginTag(ref, crate, "build", match["strategy"]) if match else None


def variant(strategy: str, engine: str | None = None, binary: str | None = None) -> str:
    """``STRATEGY-ENGINE``, ``STRATEGY-ENGINE-BINARY`` (one of several binaries checked), or without the
    engine for what spans engines (parity): how item and test ids name an image."""
    return "-".join(part for part in (strategy, engine, binary) if part is not None)


def item_name(check: str, of: str) -> str:
    """A built-in check's item name: ``CHECK[VARIANT]``, e.g. ``runs[chef-docker]``, ``parity[chef]``."""
    return f"{check}[{of}]"


def normalise_id(image_id: str) -> str:
    """Image ids as ``sha256:HEX`` whichever engine wrote them (Podman leaves the prefix out)."""
    return image_id if ":" in image_id else f"sha256:{image_id}"

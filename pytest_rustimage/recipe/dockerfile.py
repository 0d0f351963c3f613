"""The templates of the generated strategies' Dockerfiles, pure.

Each generated strategy's row in :mod:`pytest_rustimage.recipe.strategies` holds its template (a
function of :class:`Recipe` to the Dockerfile's build stages, defined here), and
:func:`pytest_rustimage.recipe.strategies.render` puts it between the header and the runtime stage
(:func:`assemble`). This module knows nothing of the table: it stands below it, so the table can
point at its templates without an import circle.

The build context the plugin makes has the crate's workspace under ``app/``, the planner's view of it
under ``plan/`` (:mod:`pytest_rustimage.recipe.plan_view`) and, in vendored mode, the vendored sources
under ``vendor/`` with a cargo config under ``cargo-vendor.toml``. The base images are build ``ARG``\\ s, so
the same Dockerfile serves the official images and local ones.

Both generated strategies use cargo-chef's three stages (planner, cook,
build). ``static`` cooks and builds for a static target and copies the
binary onto ``scratch``: the musl target of the builder's architecture (its
host triple, from ``rustc -vV``) when the toolchain has it or ``rustup`` can
add it, else the host's own gnu target with ``-C target-feature=+crt-static``.
The choice is made once inside the builder at build time, in the chef stage,
and read by cook and build; the binary's ELF tells afterwards which one was
used.

The ``incremental`` strategy compiles in a cache mount of ``target/`` kept between builds, and makes
cargo's freshness (a workspace crate is fresh when its files are older than its last build) work by
content: a record in the mount (:data:`SUMS`) holds the content sums of the sources of the last
build that finished there, and the build step (:data:`FRESHEN`) gives every source file an old time
and the changed ones the current time. Which files count as changed:

* with a record, and when the only differences from it are files whose content changed or that are
  new (none gone, no folder or link added, removed or retargeted, no manifest, lockfile, cargo config
  or toolchain file changed: :data:`SHAPING`), those files;
* otherwise every file and folder: cargo recompiles every workspace crate the binary needs (the
  dependencies stay: cargo tells them apart by identity, not by file times).

The record is there only while it describes the mount: FRESHEN removes it before cargo runs, and the
step writes this build's sums as the record (:data:`RECORD`) only after cargo succeeded. So a build
that fails, times out or is killed leaves none, nor does a SEED.

Why no sequence of edits, failed or interrupted builds and reverts gives a binary other than a clean
build's, by induction over the builds in one mount (one crate, binary and builder image, the mount's
id; the command and environment are the Dockerfile's own). *No record*: every source is newer than
every artifact in the mount, so cargo rebuilds each workspace crate the binary needs from this
build's sources, as a clean build does. *A record*: the last build in the mount finished, and each
crate it used was built from, or found fresh against, the sources the record describes (induction).
This build uses the same crates, as nothing that decides them changed (manifests, lockfile, cargo
config, toolchain: else every file is new); an artifact of an earlier build under another name,
version or feature set comes back into use only with such a change. A crate whose files all match
the record gets old times and is reused, rightly. A changed or new file is newer than any artifact,
so every crate that reads it is rebuilt; a new file can be read only through a changed one (``mod``,
``include!``) or a build script's watched folder, which cargo scans for times. A deleted file is
named in a crate's dep-info (cargo takes a missing file as changed) or seen by such a folder scan,
which old times could fool: so a deletion, like any change of folders or links, makes every file
new. Folders get the old time with the files, so a folder's own time claims nothing false.
What cargo does not track on a host (a build script reading a file it does not declare, a build
secret named like a cargo setting) it does not track here either.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass

from pytest_rustimage.names import (
    CARGO_REGISTRY_DIR,
    DEFAULT_BUILDER,
    DEFAULT_RUNTIME,
    MOUNT_MARK,
    REGISTRY_CACHE_MOUNT,
    STEP_MARK,
    cache_mount_id,
)

BINARY_DIR = "/usr/local/bin"
DEFAULT_USER = "65532:65532"
VENDOR_DIR = "/opt/rust-image/vendor"

TARGET_FILE = "/rust-image-target"  # the static target chosen in the chef stage, read by cook and build
# The static target, chosen once in the builder: the musl target of the builder's own architecture
# (its host triple from `rustc -vV`, `-gnu` made `-musl`) when the toolchain has it or rustup can add
# it, else the host's gnu target itself, built with `+crt-static`.
_PICK_TARGET = (
    'host="$(rustc -vV | sed -n "s/^host: //p")"; musl="$(echo "$host" | sed "s/-gnu/-musl/")"; '
    'if [ -d "$(rustc --print sysroot)/lib/rustlib/$musl" ]; then target="$musl"; '
    'elif command -v rustup >/dev/null 2>&1 && rustup target add "$musl"; then target="$musl"; '
    'else target="$host"; fi; '
    f'echo "$target" > {TARGET_FILE}; echo "rust-image: static target $target (builder host $host)"'
)
# a musl target needs a musl C compiler for crates that build C (the `cc` crate); Debian has one
_MUSL_TOOLS = (
    f'target="$(cat {TARGET_FILE})"; case "$target" in *-musl*) '
    "if ! command -v musl-gcc >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then "
    "apt-get update && apt-get install -y --no-install-recommends musl-tools && rm -rf /var/lib/apt/lists/*; "
    "fi;; esac"
)
_TARGET_ENV = (
    f"target=$(cat {TARGET_FILE}); "
    'case "$target" in *-musl*) ;; *) export RUSTFLAGS="-C target-feature=+crt-static";; esac; '
)


@dataclass(frozen=True)
class Recipe:
    """What a generated Dockerfile needs to know about the crate."""

    strategy: str
    package: str
    binary: str
    locked: bool = True
    vendored: bool = False
    user: str = DEFAULT_USER
    secrets: tuple[str, ...] = ()  # build secrets the cargo steps see as environment variables
    needs_c: bool = False  # a dependency compiles C (the `cc` crate): static musl builds need musl-gcc
    crate: str = ""  # the crate's name: the ``incremental`` strategy's cache mount is named after it
    builder: str = ""  # the builder image's id (or reference): so is that mount
    auditable: bool = False  # the final build is `cargo auditable build`: the binary lists its crates


def binary_path(binary: str) -> str:
    """Where generated images keep the binary."""
    return f"{BINARY_DIR}/{binary}"


def vendor_config(vendor_dir: str = VENDOR_DIR) -> str:
    """A cargo config that replaces crates.io with the vendored sources."""
    return (
        "# written by pytest-rustimage: build from vendored sources, offline\n"
        '[source.crates-io]\nreplace-with = "vendored-sources"\n\n'
        f'[source.vendored-sources]\ndirectory = "{vendor_dir}"\n\n'
        "[net]\noffline = true\n"
    )


Template = Callable[[Recipe], list[str]]  # a generated strategy's build stages, the last one named "build"

DEPS_MARK = f"{STEP_MARK}deps"
BUILD_MARK = f"{STEP_MARK}build"


def assemble(recipe: Recipe, template: Template, *, on_scratch: bool) -> str:
    """A generated Dockerfile: the header, the stages ``template`` writes, and the runtime stage (on
    ``scratch`` when ``on_scratch``, else on the runtime image).

    The dependency step's and the final build step's commands start with ``RUST_IMAGE_STEP=deps &&``
    and ``RUST_IMAGE_STEP=build &&`` (a shell assignment, nothing else): markers that every builder
    echoes in its log, so the cache probe finds those steps the same way everywhere.
    """
    header = [
        "# Generated by pytest-rustimage: strategy " + recipe.strategy,
        f"ARG BUILDER_IMAGE={DEFAULT_BUILDER}",
        f"ARG RUNTIME_IMAGE={DEFAULT_RUNTIME}",
        "",
    ]
    runtime = [
        "",
        "FROM scratch AS runtime" if on_scratch else "FROM ${RUNTIME_IMAGE} AS runtime",
        f"COPY --from=build /rust-image-out/{recipe.binary} {binary_path(recipe.binary)}",
        f"USER {recipe.user}",
        f'ENTRYPOINT ["{binary_path(recipe.binary)}"]',
        "",
    ]
    return "\n".join(header + template(recipe) + runtime)


def _run(recipe: Recipe, command: str, mounts: tuple[str, ...] = ()) -> str:
    """``RUN command`` with ``mounts``; with secrets, each mounted for this step only and exported under
    its own name (a secret mount leaves no trace in the image, its history or its environment)."""
    mounts += tuple(f"--mount=type=secret,id={name}" for name in recipe.secrets)
    head = "RUN " + "".join(f"{mount} " for mount in mounts)
    if not recipe.secrets:
        return head + command
    exports = " ".join(f'{name}="$(cat /run/secrets/{name})"' for name in recipe.secrets)
    mark, _, rest = command.partition(" && ")
    if mark.startswith(STEP_MARK):
        return f"{head}{mark} && export {exports} && {rest}"
    return f"{head}export {exports} && {command}"


def _cargo_build(recipe: Recipe) -> str:
    """The final build's cargo command: ``cargo auditable build`` embeds the dependency list in the binary
    (a ``.dep-v0`` section). Only the workspace's crates go through its wrapper
    (``RUSTC_WORKSPACE_WRAPPER``), so the dependencies the cook step compiled with plain cargo stay fresh."""
    return "cargo auditable build" if recipe.auditable else "cargo build"


def _auditable_tool(recipe: Recipe) -> list[str]:
    """cargo-auditable in the builder: the local builder base carries it; else it is installed here (in
    vendored mode, which is offline, its absence fails the build with a message saying so)."""
    if not recipe.auditable:
        return []
    if recipe.vendored:  # offline: crates.io is replaced by the vendored sources, nothing can be installed
        missing = (
            "echo 'rust-image: cargo-auditable is not in the builder image, and vendored builds are offline: "
            "use a builder image that has it (python -m pytest_rustimage bases makes one)' >&2; exit 1"
        )
        return [f"RUN command -v cargo-auditable >/dev/null 2>&1 || {{ {missing}; }}"]
    return ["RUN command -v cargo-auditable >/dev/null 2>&1 || cargo install cargo-auditable --locked"]


# the final build's time for what embeds one (build scripts, macros): the crate's source time, passed by
# the plugin as a build argument (recipe/oci.py, source_epoch); declared in the last stage only, so that
# a new commit reruns only the final build step, never the dependency layer
EPOCH_ARG = "ARG SOURCE_DATE_EPOCH"


def _select(recipe: Recipe) -> str:
    return f"--package {shlex.quote(recipe.package)} --bin {shlex.quote(recipe.binary)}"


def _vendor(recipe: Recipe) -> list[str]:
    if not recipe.vendored:
        return []
    return [f"COPY vendor/ {VENDOR_DIR}/", "COPY cargo-vendor.toml /.cargo/config.toml"]


def _build(recipe: Recipe, env: str = "", target: str = "", out_dir: str = "target/release") -> list[str]:
    locked = " --locked" if recipe.locked else ""
    build = f"{BUILD_MARK} && {env}{_cargo_build(recipe)} --release{locked}{target} {_select(recipe)}"
    return [
        EPOCH_ARG,
        _run(recipe, build) + " \\",
        f" && mkdir -p /rust-image-out && cp {out_dir}/{shlex.quote(recipe.binary)} /rust-image-out/",
    ]


def chef_template(recipe: Recipe) -> list[str]:
    """cargo-chef's planner, cook and build stages."""
    return _chef(recipe, static=False)


def static_template(recipe: Recipe) -> list[str]:
    """cargo-chef's stages for a static target: nothing to link against on ``scratch``."""
    return _chef(recipe, static=True)


def _chef(recipe: Recipe, *, static: bool) -> list[str]:
    """cargo-chef's planner, cook and build stages (``static``: for a static target)."""
    target = " --target $target" if static else ""
    env = _TARGET_ENV if static else ""
    locked = " --locked" if recipe.locked else ""
    setup = []  # the chef stage's own steps: the static target, chosen once
    if static:
        setup.append(f"RUN {_PICK_TARGET}")
        if recipe.needs_c:
            setup.append(f"RUN {_MUSL_TOOLS}")
    cook_args = f"{_select(recipe)} --recipe-path recipe.json"
    return _stages(
        recipe,
        setup,
        _run(recipe, f"{DEPS_MARK} && {env}cargo chef cook --release{locked}{target} {cook_args}"),
        _build(recipe, env, target, "target/$target/release" if static else "target/release"),
    )


def _stages(recipe: Recipe, setup: list[str], cook: str, build: list[str]) -> list[str]:
    """cargo-chef's stages: the chef stage (with ``setup`` steps), planner, cook (``cook``: its RUN
    line) and build (``build``: its lines after the sources are copied)."""
    return [
        "FROM ${BUILDER_IMAGE} AS chef",
        "RUN command -v cargo-chef >/dev/null 2>&1 || cargo install cargo-chef --locked",
        *setup,
        "WORKDIR /app",
        "",
        "FROM chef AS planner",
        "COPY plan/ ./",  # the workspace with only what shapes the recipe filled in (recipe/plan_view.py)
        "RUN cargo chef prepare --recipe-path recipe.json",
        "",
        "FROM chef AS cook",
        *_vendor(recipe),
        "COPY --from=planner /app/recipe.json recipe.json",
        cook,
        "",
        "FROM cook AS build",
        *_auditable_tool(recipe),  # after the cook: auditable or not, images of a crate share one dependency layer
        "COPY app/ ./",
        *build,
    ]


def naive_template(recipe: Recipe) -> list[str]:
    """A control: copy everything, build. Any edit recompiles every dependency."""
    return [
        "FROM ${BUILDER_IMAGE} AS build",
        *_auditable_tool(recipe),
        "WORKDIR /app",
        *_vendor(recipe),
        "COPY app/ ./",
        *_build(recipe),
    ]


def dummy_main_template(recipe: Recipe) -> list[str]:
    """A control: the background chapter's manual trick, as written there.

    Copy the root manifests, build dependencies against a placeholder ``src/main.rs``, remove it, copy
    the real ``src``, build again. It knows nothing of workspace members, build scripts or ``src/bin``.
    """
    locked = " --locked" if recipe.locked else ""
    return [
        "FROM ${BUILDER_IMAGE} AS build",
        *_auditable_tool(recipe),
        "WORKDIR /app",
        *_vendor(recipe),
        "COPY app/Cargo.toml app/Cargo.loc[k] ./",
        'RUN mkdir src && echo "fn main() {}" > src/main.rs',
        _run(recipe, f"{DEPS_MARK} && cargo build --release{locked}"),
        "RUN rm -rf src",
        "COPY app/src ./src",
        *_build(recipe),
    ]


DEPS_DIR = "/rust-image-deps"  # incremental: the cooked target/ in the dependency layer
SUMS = ".rust-image-sums"  # in the target/ cache mount: the sources of the last build that finished there
NOW_SUMS = f"target/{SUMS}.new"  # the sources of this build, kept as the record once cargo succeeds
COOKED = ".rust-image-cook"  # in the dependency layer and the mount: which cook the dependencies came from
OLD_TIME = "200001010000"  # ``touch -t``: the time every unchanged source file is given
LAYOUT = "::layout"  # the record's line for the source tree's folders and links (a digest, in place of a path)
# Paths whose change may change which artifacts cargo uses (names, versions, features, profiles,
# dependencies, configuration, toolchain), and the layout line: when one differs, every file is new.
SHAPING = r"^::layout$|/Cargo\.(toml|lock)$|/\.cargo/config(\.toml)?$|/rust-toolchain(\.toml)?$"

# The incremental build step's first part, in the mounted target/: (1) SEED: when the mount holds no
# dependencies, or another cook's, replace its contents with the dependency layer's; (2) FRESHEN: give
# every source file an old time and the changed ones the current time, then drop the record; RECORD,
# once cargo has succeeded, keeps this build's sums as the record. The rule, and why it is sound: the
# module's docstring.
SEED = (
    f"if ! cmp -s {DEPS_DIR}/{COOKED} target/{COOKED}; then "
    f"echo 'rust-image: the target/ cache mount starts from the dependency layer'; "
    f"find target -mindepth 1 -delete && cp -a {DEPS_DIR}/. target/; fi"
)
_REC = f"target/{SUMS}"
_PRUNED = "find . -path ./target -prune -o"
_FILES = f"{_PRUNED} -type f -print"
_TREE = f"{_PRUNED} \\( -type f -o -type d \\) -print"  # files and folders: what gets a time
_LAYOUT = (  # one line: the digest of every folder and link (with its target)
    f"{_PRUNED} \\( -type d -o -type l \\) -print | LC_ALL=C sort | while IFS= read -r p; do "
    'if [ -L "$p" ]; then printf "%s -> %s\\n" "$p" "$(readlink "$p")"; else printf "%s/\\n" "$p"; fi; done'
    f" | sha256sum | sed 's/  -$/  {LAYOUT}/'"
)
_ONLY_EDITS = (  # with a record: the changed and new files' paths to .changed, true when that is all
    f"[ -f {_REC} ] && {{ grep -vxFf {_REC} {NOW_SUMS} | cut -c67- > {_REC}.changed; "
    f"grep -vxFf {NOW_SUMS} {_REC} | cut -c67- | grep -vxFf {_REC}.changed > {_REC}.gone; "
    f"[ ! -s {_REC}.gone ] && ! grep -qE '{SHAPING}' {_REC}.changed; }}"
)
FRESHEN = (
    f"{{ {_FILES} | LC_ALL=C sort | tr '\\n' '\\0' | xargs -0 -r sha256sum && {_LAYOUT}; }} > {NOW_SUMS} && "
    f"{_TREE} | tr '\\n' '\\0' | xargs -0 -r touch -t {OLD_TIME} && "
    f"if {_ONLY_EDITS}; then tr '\\n' '\\0' < {_REC}.changed | xargs -0 -r touch; "
    "else echo 'rust-image: no record of a finished build that differs from this one by file edits only: "
    "every source file counts as changed'; "
    f"{_TREE} | tr '\\n' '\\0' | xargs -0 -r touch; fi && rm -f {_REC}"
)
RECORD = f"mv {NOW_SUMS} {_REC}"  # after cargo succeeded: the record of what the mount was built from


def incremental_template(recipe: Recipe) -> list[str]:
    """cargo-chef's stages; the build step compiles in a cache mount of ``target/`` kept between builds.

    The dependencies stay in an image layer, as with ``chef`` (the cook step moves its ``target/`` to
    :data:`DEPS_DIR`): the mount is a cache the builder may drop at any time, never the only home of
    the dependency layer the cache check judges. The mount is locked while a build step uses it, and
    so is the registry mount, shared by every crate's builds: cargo's own lock on its registry cache
    is a file beside it (``$CARGO_HOME/.package-cache``), outside the mount, so the cargo of one build
    would not see another's. Both steps take the mounts in the same order (target, then registry).
    """
    locked = " --locked" if recipe.locked else ""
    mount = cache_mount_id(recipe.crate, recipe.binary, recipe.builder)
    target = f"--mount=type=cache,id={mount},target=/app/target,sharing=locked"
    registry = f"--mount=type=cache,id={REGISTRY_CACHE_MOUNT},target={CARGO_REGISTRY_DIR},sharing=locked"
    cook = (
        f"{DEPS_MARK} && cargo chef cook --release{locked} {_select(recipe)} --recipe-path recipe.json"
        f" \\\n && mv target {DEPS_DIR} && {{ rustc -vV && cat recipe.json; }} | sha256sum > {DEPS_DIR}/{COOKED}"
    )
    build = (
        f"{BUILD_MARK} && {MOUNT_MARK}{mount} && {SEED} \\\n && {FRESHEN} \\\n"
        f" && {_cargo_build(recipe)} --release{locked} {_select(recipe)}"
        f" && {RECORD} && mkdir -p /rust-image-out"
        f" && cp target/release/{shlex.quote(recipe.binary)} /rust-image-out/"
    )
    return _stages(recipe, [], _run(recipe, cook, (registry,)), [EPOCH_ARG, _run(recipe, build, (target, registry))])

#!/bin/bash
# Records the why-VARIANT-BUILDER-PHASE.log files here (see README.md): the recipes sample built with one
# "why it rebuilt" fault, with cargo's fingerprint log on in the build step (CARGO_LOG as an inline
# prefix of that step only), cold and after a comment was appended to src/main.rs, by BuildKit and
# buildah (after .ci/setup, which makes the local builder image, which has cargo-chef). Needs cargo on
# the host to vendor. Removes its images.
#   features: git-cliff's fault (recipes given serde_core and a `small` feature that drops serde_core's
#             `std`, as tests/acceptance/test_cache.py does): cook with default features, build with
#             `--no-default-features --features small`
#   deps-only: the cook in one stage, the build in another that copies only target/release/deps
set -u
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"
SRC=$ROOT/sample_crates/recipes
LABEL=rust-image-why-capture=1
LOGGED='CARGO_LOG=cargo::core::compiler::fingerprint=info cargo build --release --locked'
export CONTAINERS_CONF=$ROOT/.ci/containers.conf
build() { # builder tag ctx
  case $1 in
    buildkit) DOCKER_BUILDKIT=1 /usr/bin/docker build --progress=plain --build-arg BUILDER_IMAGE=pytest-rustimage/builder:bookworm --build-arg RUNTIME_IMAGE=pytest-rustimage/runtime:bookworm-slim --label $LABEL -t "$2" "$3" 2>&1 ;;
    buildah) podman build --layers --build-arg BUILDER_IMAGE=pytest-rustimage/builder:bookworm --build-arg RUNTIME_IMAGE=pytest-rustimage/runtime:bookworm-slim --label $LABEL -t "$2" "$3" 2>&1 ;;
  esac
}
context() { # variant ctx
  cp -r $SRC/src "$2"/
  if [ "$1" = features ]; then
    sed 's/^itoa = "1"$/itoa = "1"\nserde_core = { version = "1", default-features = false }\n\n[features]\ndefault = ["std"]\nstd = ["serde_core\/std"]\nsmall = []/' $SRC/Cargo.toml > "$2"/Cargo.toml
    sed "s|^RUN cargo build --release --locked\$|RUN $LOGGED --no-default-features --features small|" $SRC/Dockerfile.chef > "$2"/Dockerfile
  else
    cp $SRC/Cargo.toml "$2"/
    # the build stage: everything but the cook, and only target/release/deps of the cook's stage
    sed -e "s|^RUN cargo build --release --locked\$|RUN $LOGGED|" \
        -e '/cargo chef cook/,$ s|^COPY \. \.$|FROM chef AS build\nCOPY .cargo .cargo\nCOPY vendor vendor\nCOPY --from=builder /app/target/release/deps target/release/deps\nCOPY . .|' \
        -e 's|^COPY --from=builder /app/target/release/recipes|COPY --from=build /app/target/release/recipes|' \
        $SRC/Dockerfile.chef > "$2"/Dockerfile
  fi
  (cd "$2" && cargo generate-lockfile --offline -q && mkdir .cargo &&
    cargo vendor --locked vendor 2>/dev/null > .cargo/config.toml && printf '\n[net]\noffline = true\n' >> .cargo/config.toml)
}
for variant in ${VARIANTS:-features deps-only}; do
  for builder in ${BUILDERS:-buildkit buildah}; do
    ctx=$(mktemp -d)
    context $variant "$ctx" || exit 1
    echo "// $(date +%s%N) $builder $variant" >> "$ctx"/src/main.rs  # sources no earlier build saw
    tag=localhost/rust-image-why-capture:$variant-$builder
    build $builder $tag-cold "$ctx" > "$OUT/why-$variant-$builder-cold.log"; echo "$builder $variant cold rc=$?"
    echo "// pytest-rustimage cache probe edit" >> "$ctx"/src/main.rs
    build $builder $tag-warm "$ctx" > "$OUT/why-$variant-$builder-warm.log"; echo "$builder $variant warm rc=$?"
    case $builder in
      buildah) podman rmi -f $tag-cold $tag-warm >/dev/null 2>&1
        ids=$(podman images -a -q --filter label=$LABEL | sort -u)  # its stage images carry the label too
        [ -z "$ids" ] || podman rmi $ids >/dev/null 2>&1 ;;
      *) docker rmi $tag-cold $tag-warm >/dev/null 2>&1 ;;
    esac
    rm -rf "$ctx"
  done
done
echo "logs in $OUT"

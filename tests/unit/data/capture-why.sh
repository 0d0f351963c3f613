#!/bin/bash
# Records the why-features-*.log files here: git-cliff's fault on the recipes sample (given serde_core and
# a `small` feature that drops serde_core's `std`, as tests/acceptance/test_cache.py does): cargo-chef's
# cook with default features, the build with `--no-default-features --features small` and cargo's
# fingerprint log on (CARGO_LOG, as an inline prefix of the build step only). Cold, then after a comment
# was appended to src/main.rs, by BuildKit and buildah (after .ci/setup, which makes the local builder
# image, which has cargo-chef). Needs cargo on the host to vendor. Removes its images.
set -u
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"
SRC=$ROOT/sample_crates/recipes
LABEL=rust-image-why-capture=1
export CONTAINERS_CONF=$ROOT/.ci/containers.conf
build() { # builder tag ctx
  case $1 in
    buildkit) DOCKER_BUILDKIT=1 /usr/bin/docker build --progress=plain --build-arg BUILDER_IMAGE=pytest-rustimage/builder:bookworm --build-arg RUNTIME_IMAGE=pytest-rustimage/runtime:bookworm-slim --label $LABEL -t "$2" "$3" 2>&1 ;;
    buildah) podman build --layers --build-arg BUILDER_IMAGE=pytest-rustimage/builder:bookworm --build-arg RUNTIME_IMAGE=pytest-rustimage/runtime:bookworm-slim --label $LABEL -t "$2" "$3" 2>&1 ;;
  esac
}
for builder in ${BUILDERS:-buildkit buildah}; do
  ctx=$(mktemp -d)
  cp -r $SRC/src "$ctx"/
  sed 's/^itoa = "1"$/itoa = "1"\nserde_core = { version = "1", default-features = false }\n\n[features]\ndefault = ["std"]\nstd = ["serde_core\/std"]\nsmall = []/' $SRC/Cargo.toml > "$ctx"/Cargo.toml
  (cd "$ctx" && cargo generate-lockfile --offline -q && mkdir .cargo && cargo vendor --locked vendor 2>/dev/null > .cargo/config.toml && printf '\n[net]\noffline = true\n' >> .cargo/config.toml) || exit 1
  sed 's|^RUN cargo build --release --locked$|RUN CARGO_LOG=cargo::core::compiler::fingerprint=info cargo build --release --locked --no-default-features --features small|' \
    $SRC/Dockerfile.chef > "$ctx"/Dockerfile
  echo "// $(date +%s%N) $builder" >> "$ctx"/src/main.rs  # sources no earlier build saw
  tag=localhost/rust-image-why-capture:features-$builder
  build $builder $tag-cold "$ctx" > "$OUT/why-features-$builder-cold.log"; echo "$builder cold rc=$?"
  echo "// pytest-rustimage cache probe edit" >> "$ctx"/src/main.rs
  build $builder $tag-warm "$ctx" > "$OUT/why-features-$builder-warm.log"; echo "$builder warm rc=$?"
  case $builder in
    buildah) podman rmi -f $tag-cold $tag-warm >/dev/null 2>&1
      ids=$(podman images -a -q --filter label=$LABEL | sort -u)  # its stage images carry the label too
      [ -z "$ids" ] || podman rmi $ids >/dev/null 2>&1 ;;
    *) docker rmi $tag-cold $tag-warm >/dev/null 2>&1 ;;
  esac
  rm -rf "$ctx"
done
echo "logs in $OUT"

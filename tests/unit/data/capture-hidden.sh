#!/bin/bash
# Records the hidden-*.log files here: the recipes sample built with cargo's output hidden in each
# way, cold and after an edit, by each builder (after .ci/setup, which makes the local builder image;
# VENDOR: a `cargo vendor` folder of recipes, by default the plugin's cached one). Removes its images.
set -u
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"
SRC=$ROOT/sample_crates/recipes
VENDOR=${VENDOR:-$(ls -d ~/.cache/pytest-rustimage/vendor/*/vendor | head -1)}
LABEL=rust-image-hidden-capture=1
export CONTAINERS_CONF=$ROOT/.ci/containers.conf
declare -A RUNS=(
  [shown]='RUN cargo build --release --locked'
  [q]='RUN cargo build --release --locked -q'
  [term-quiet]='RUN CARGO_TERM_QUIET=true cargo build --release --locked'
  [json]='RUN cargo build --release --locked --message-format=json'
  [devnull]='RUN cargo build --release --locked > /dev/null 2>&1'
  [file]='RUN cargo build --release --locked > build.log 2>&1'
)
dockerfile() {
  if [ "$1" = split ]; then
    cat <<'D'
ARG BUILDER_IMAGE=rust:1-bookworm
FROM ${BUILDER_IMAGE} AS builder
WORKDIR /app
COPY .cargo .cargo
COPY vendor vendor
COPY Cargo.toml Cargo.lock ./
RUN mkdir src && echo "fn main() {}" > src/main.rs && cargo build --release --locked
COPY src ./src
RUN touch src/main.rs && cargo build --release --locked -q
D
  else
    printf 'ARG BUILDER_IMAGE=rust:1-bookworm\nFROM ${BUILDER_IMAGE} AS builder\nWORKDIR /app\nCOPY . .\n%s\n' "${RUNS[$1]}"
  fi
}
build() { # builder tag ctx
  case $1 in
    buildkit) DOCKER_BUILDKIT=1 /usr/bin/docker build --progress=plain --build-arg BUILDER_IMAGE=pytest-rustimage/builder:bookworm --label $LABEL -t "$2" "$3" 2>&1 ;;
    legacy) DOCKER_BUILDKIT=0 /usr/local/bin/docker build --build-arg BUILDER_IMAGE=pytest-rustimage/builder:bookworm --label $LABEL -t "$2" "$3" 2>&1 ;;
    buildah) podman build --layers --build-arg BUILDER_IMAGE=pytest-rustimage/builder:bookworm --label $LABEL -t "$2" "$3" 2>&1 ;;
  esac
}
for builder in ${BUILDERS:-buildkit legacy buildah}; do
  for variant in ${VARIANTS:-shown q term-quiet json devnull file split}; do
    ctx=$(mktemp -d)
    cp -r $SRC/src $SRC/Cargo.toml $SRC/Cargo.lock "$ctx"/
    cp -r "$VENDOR" "$ctx"/vendor
    mkdir "$ctx"/.cargo
    printf '[source.crates-io]\nreplace-with = "vendored-sources"\n\n[source.vendored-sources]\ndirectory = "vendor"\n\n[net]\noffline = true\n' > "$ctx"/.cargo/config.toml
    echo "// $(date +%s%N) $builder $variant" >> "$ctx"/src/main.rs  # sources no earlier build saw
    dockerfile $variant > "$ctx"/Dockerfile
    tag=localhost/rust-image-hidden-capture:$variant-$builder
    build $builder $tag-cold "$ctx" > "$OUT/hidden-$variant-$builder-cold.log"; echo "$builder $variant cold rc=$?"
    echo "// pytest-rustimage cache probe edit" >> "$ctx"/src/main.rs
    build $builder $tag-warm "$ctx" > "$OUT/hidden-$variant-$builder-warm.log"; echo "$builder $variant warm rc=$?"
    case $builder in
      buildah) podman rmi -f $tag-cold $tag-warm >/dev/null 2>&1 ;;
      *) docker rmi $tag-cold $tag-warm >/dev/null 2>&1 ;;
    esac
    rm -rf "$ctx"
  done
done
echo "logs in $OUT"

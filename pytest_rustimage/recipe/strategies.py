"""The build strategies as a table of their properties: what each one is, written once.

Everything that used to test a strategy's name (is its Dockerfile generated, which stage builds the
dependencies, what its default budget and expected linkage are, what its runtime stage stands on)
reads it here. A generated strategy's row holds its Dockerfile template too (defined in
:mod:`pytest_rustimage.recipe.dockerfile`, which stands below this table and does not import it), and
:func:`render` writes a recipe's Dockerfile from its strategy's row. Adding a strategy is a row in
:data:`STRATEGIES` (and, for a generated one, its template function).
"""

from __future__ import annotations

from dataclasses import dataclass

from pytest_rustimage.errors import ConfigError
from pytest_rustimage.recipe.dockerfile import (
    Recipe,
    Template,
    assemble,
    chef_template,
    dummy_main_template,
    incremental_template,
    naive_template,
    static_template,
)

SCRATCH = "scratch"
RUNTIME_IMAGE = "runtime image"  # the configured runtime base (rust_image_runtime)
OWN = "its own"  # the crate's Dockerfile decides


@dataclass(frozen=True)
class Strategy:
    """One way of building a crate's image."""

    name: str
    summary: str
    template: Template | None  # the Dockerfile's build stages the plugin writes; None: the crate's own is built
    deps_stage: str | None  # the stage that builds only the dependencies, for the cache probe
    default_budget: str  # max-size when the crate sets none
    default_linkage: str  # expect-linkage when the crate sets none: static, dynamic or any
    runtime: str  # what the final stage stands on: SCRATCH, RUNTIME_IMAGE or OWN
    control: bool = False  # a recipe kept to show what the cache check catches, not to ship
    cache_mounts: bool = False  # its build steps use cache mounts (BuildKit or buildah, never the legacy builder)
    copies_only_rust: bool = False  # copies only manifests and src/: an edit of another file reaches no step

    @property
    def generated(self) -> bool:
        """Whether the plugin writes the Dockerfile (else the crate's own is built)."""
        return self.template is not None

    @property
    def target(self) -> str | None:
        """The stage to build (``--target``): the generated Dockerfiles' last stage, else the Dockerfile's own."""
        return "runtime" if self.generated else None


STRATEGIES: dict[str, Strategy] = {
    s.name: s
    for s in (
        Strategy("chef", "cargo-chef's planner, cook and build stages onto a slim runtime", chef_template, "cook",
                 "200MiB", "any", RUNTIME_IMAGE),
        Strategy("static", "cargo-chef's stages for a static target, the binary alone on scratch", static_template,
                 "cook", "25MiB", "static", SCRATCH),
        Strategy("incremental", "cargo-chef's stages with a cache mount for target/: after an edit cargo "
                 "recompiles only what it would on the host", incremental_template, "cook", "200MiB", "any",
                 RUNTIME_IMAGE, cache_mounts=True),
        Strategy("naive", "copy everything, then build: every edit recompiles every dependency", naive_template,
                 None, "200MiB", "any", RUNTIME_IMAGE, control=True),
        Strategy("dummy-main", "the manual trick: dependencies built against a placeholder main.rs",
                 dummy_main_template, None, "200MiB", "any", RUNTIME_IMAGE, control=True, copies_only_rust=True),
        Strategy("dockerfile", "the crate's own Dockerfile or Containerfile", None, None, "1GiB", "any", OWN),
    )
}  # fmt: skip
NAMES = tuple(STRATEGIES)
DEFAULT_STRATEGY = "chef"


def strategy(name: str) -> Strategy:
    """The strategy called ``name``; a :class:`ConfigError` listing the known ones otherwise."""
    try:
        return STRATEGIES[name]
    except KeyError:
        raise ConfigError(f"unknown strategy {name!r}; choose from: {', '.join(NAMES)}") from None


def render(recipe: Recipe) -> str:
    """The Dockerfile of ``recipe``'s generated strategy: its row's template between the header and
    the runtime stage, which stands on ``scratch`` when the row says so."""
    row = STRATEGIES.get(recipe.strategy)
    if row is None or row.template is None:
        raise ValueError(f"no template for strategy {recipe.strategy!r}")
    return assemble(recipe, row.template, on_scratch=row.runtime == SCRATCH)

"""Which Debian package gives a library the image lacks: asked of the image it was built with.

A failed linkage check names what is missing; a person then wants to know what to install. The
builder image linked the binary, so it has the library, and on a Debian builder ``dpkg -S`` there
says which package put it there. That is one short container run, made only when a check has failed
already. It is best effort: a builder without ``dpkg`` (Alpine, distroless), one gone from the
engine, or a run that fails gives no hint, and the advice names the library instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pytest_rustimage.engines import Engine
from pytest_rustimage.errors import RustImageError
from pytest_rustimage.inspect.loader import parse_dpkg_search
from pytest_rustimage.recipe.instructions import parse
from pytest_rustimage.recipe.spec import ImageSpec


def builder_image(spec: ImageSpec) -> str | None:
    """The image the binary was built in: the configured builder for the generated strategies; for a
    crate's own multi-stage Dockerfile the first stage's base (when it names an image, not an ``ARG``);
    else None."""
    if spec.traits.generated:
        return spec.builder_image
    if spec.dockerfile is None:
        return None
    try:
        stages = parse(spec.dockerfile.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return None
    if len(stages) < 2:
        return None
    base = stages[0].base
    return None if "$" in base or base == "scratch" else base


def package_hints(
    engine: Engine, image: str | None, libraries: Iterable[str], labels: Mapping[str, str]
) -> dict[str, str]:
    """Library file name -> the Debian package that has it in ``image`` (``dpkg -S``), for those it knows."""
    names = sorted({name.rsplit("/", 1)[-1] for name in libraries if name})
    if image is None or not names or engine.image_id(image) is None:
        return {}
    try:
        done = engine.run(
            image, ["-S", *(f"*/{name}" for name in names)], entrypoint=["dpkg"], labels=labels, timeout=60
        )
    except RustImageError:
        return {}
    return parse_dpkg_search(done.stdout)  # dpkg exits 1 when some are unknown: the others still count

"""The one :class:`BuildRequest` a spec's build asks its engine for, whoever builds it.

The session's build of an image and the cache probe's builds of its edited copy ask for the same
thing (the base images as build args, the strategy's target stage, the timeout and the secrets);
only the tag, the labels and whether the cache may be used differ.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path

from pytest_rustimage.engines.protocol import BuildRequest
from pytest_rustimage.names import BUILT_LABEL, EPOCH_LABEL
from pytest_rustimage.recipe.oci import source_epoch
from pytest_rustimage.recipe.spec import ImageSpec, secret_values


def build_request(
    spec: ImageSpec,
    *,
    context: Path,
    dockerfile: Path,
    tag: str,
    labels: Mapping[str, str],
    no_cache: bool = False,
    epoch: int | None = None,
) -> BuildRequest:
    """What building ``spec``'s context as ``tag`` asks of the engine. A generated strategy's final build
    step gets ``SOURCE_DATE_EPOCH``: ``epoch`` when given (a second build of an image: the time it was
    built with), else the crate's source time (:func:`source_epoch`), so that what embeds a time embeds
    the same one in every build of the same sources (a build arg of the crate's own wins). The time is
    also a label of the image (:data:`EPOCH_LABEL`), since it is not one of the inputs its tag names."""
    when: dict[str, str] = {}
    if spec.traits.generated:
        when = {"SOURCE_DATE_EPOCH": str(source_epoch(spec.crate.root) if epoch is None else epoch)}
    return BuildRequest(
        context=context,
        dockerfile=dockerfile,
        tag=tag,
        build_args={
            "BUILDER_IMAGE": spec.builder_image,
            "RUNTIME_IMAGE": spec.runtime_image,
            **when,
            **spec.build_args,
        },
        # when it was built, for prune's grace period: with SOURCE_DATE_EPOCH, BuildKit 0.11+ dates the
        # image (its Created) at the source time; the caller's labels may say it already
        labels={
            BUILT_LABEL: f"{time.time():.3f}",
            **labels,
            **({EPOCH_LABEL: when["SOURCE_DATE_EPOCH"]} if when else {}),
        },
        target=spec.traits.target,
        timeout=spec.build_timeout,
        no_cache=no_cache,
        secrets=secret_values(spec),
    )


def image_epoch(labels: Mapping[str, str]) -> int | None:
    """The ``SOURCE_DATE_EPOCH`` an image was built with, from its labels; None when it has none (an
    image of the ``dockerfile`` strategy, or built before the label was set)."""
    value = labels.get(EPOCH_LABEL, "")
    return int(value) if value.isdigit() else None

"""The one :class:`BuildRequest` a spec's build asks its engine for, whoever builds it.

The session's build of an image and the cache probe's builds of its edited copy ask for the same
thing (the base images as build args, the strategy's target stage, the timeout and the secrets);
only the tag, the labels and whether the cache may be used differ.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pytest_rustimage.engines.protocol import BuildRequest
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
) -> BuildRequest:
    """What building ``spec``'s context as ``tag`` asks of the engine. A generated strategy's final build
    step gets ``SOURCE_DATE_EPOCH``, the crate's source time (:func:`source_epoch`), so that what embeds a
    time embeds the same one in every build of the same sources (a build arg of the crate's own wins)."""
    epoch = {"SOURCE_DATE_EPOCH": str(source_epoch(spec.crate.root))} if spec.traits.generated else {}
    return BuildRequest(
        context=context,
        dockerfile=dockerfile,
        tag=tag,
        build_args={
            "BUILDER_IMAGE": spec.builder_image,
            "RUNTIME_IMAGE": spec.runtime_image,
            **epoch,
            **spec.build_args,
        },
        labels=dict(labels),
        target=spec.traits.target,
        timeout=spec.build_timeout,
        no_cache=no_cache,
        secrets=secret_values(spec),
    )

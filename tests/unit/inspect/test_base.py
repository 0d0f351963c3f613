"""Which layers of an image are its runtime base's: the own bytes the baseline gates."""

from __future__ import annotations

from pytest_rustimage.inspect.base import base_diff_ids, base_layer_count, split
from pytest_rustimage.inspect.facts import Layer

LAYERS = (Layer(100, "base", "sha256:aa"), Layer(7, "COPY binary", "sha256:bb"), Layer(3, "RUN x", "sha256:cc"))


def test_the_base_is_the_common_prefix_of_diff_ids() -> None:
    assert base_layer_count(LAYERS, ("sha256:aa",)) == 1
    assert base_layer_count(LAYERS, ("aa",)) == 1  # Podman may leave the prefix out
    assert base_layer_count(LAYERS, ("sha256:aa", "sha256:zz")) == 1  # a rebuilt base shares only its first layer
    assert base_layer_count(LAYERS, ("sha256:zz",)) == 0
    assert base_layer_count(LAYERS, ()) == 0
    assert base_layer_count((Layer(5, "x", ""),), ("",)) == 0  # a layer without a diff id is never the base's


def test_split_gives_the_base_bytes() -> None:
    inspect = {"Id": "sha256:11", "RootFS": {"Type": "layers", "Layers": ["sha256:aa"]}}
    base = split("debian:bookworm-slim", "sha256:11", LAYERS, base_diff_ids(inspect))
    assert (base.name, base.layers, base.size) == ("debian:bookworm-slim", 1, 100)
    assert split("scratch", "", LAYERS, ("sha256:aa",)).size == 0  # scratch: the image owns every byte
    assert base_diff_ids({}) == ()

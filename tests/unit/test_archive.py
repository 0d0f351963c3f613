"""Measuring images from their archives: content bytes per layer, the same for every engine."""

from __future__ import annotations

import io
import json
import tarfile

import pytest

from pytest_rustimage.inspect.archive import (
    ArchiveLayer,
    LayerContent,
    StaleGuess,
    content_size,
    layer_from_data,
    layer_to_data,
    read_archive,
    read_layer,
)


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def layer_tar(
    files: dict[str, bytes], links: dict[str, str] | None = None, hard: dict[str, str] | None = None
) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        folder = tarfile.TarInfo("usr")
        folder.type = tarfile.DIRTYPE
        tar.addfile(folder)
        for name, data in files.items():
            _add(tar, name, data)
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tar.addfile(info)
        for name, target in (hard or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.LNKTYPE
            info.linkname = target
            tar.addfile(info)
    return buffer.getvalue()


def image_archive(layers: list[tuple[str, bytes]], history: list[dict[str, object]], *, manifest_last: bool) -> bytes:
    config = {"rootfs": {"type": "layers", "diff_ids": [f"sha256:{i}" for i in range(len(layers))]}, "history": history}
    manifest = [{"Config": "cfg.json", "RepoTags": ["x:1"], "Layers": [name for name, _ in layers]}]
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        if not manifest_last:
            _add(tar, "manifest.json", json.dumps(manifest).encode())
        for name, data in layers:
            _add(tar, name, data)
        _add(tar, "cfg.json", json.dumps(config).encode())
        if manifest_last:  # Docker 20.10 writes it last
            _add(tar, "manifest.json", json.dumps(manifest).encode())
    return buffer.getvalue()


def test_content_size_counts_file_bytes_and_symlink_targets_only() -> None:
    data = layer_tar({"usr/a": b"x" * 1000, "usr/b": b"y" * 24}, links={"usr/c": "a"}, hard={"usr/d": "usr/a"})
    assert content_size(io.BytesIO(data)) == 1000 + 24 + len("a")
    assert len(data) > 1025  # the tar itself is larger: headers and padding are not counted


@pytest.mark.parametrize("manifest_last", [True, False])
def test_read_archive_maps_layers_to_history_without_empty_layers(manifest_last: bool) -> None:
    big = layer_tar({"usr/big": b"z" * (2 << 20)})  # streamed, not read into memory
    small = layer_tar({"usr/bin/hello": b"h" * 300})
    empty = layer_tar({})
    history = [
        {"created_by": "ADD rootfs"},
        {"created_by": "ENV A=1", "empty_layer": True},
        {"created_by": "WORKDIR /app"},
        {"created_by": "COPY hello"},
        {"created_by": "ENTRYPOINT", "empty_layer": True},
    ]
    archive = read_archive(
        io.BytesIO(
            image_archive(
                [("l1/layer.tar", big), ("l2/layer.tar", empty), ("blobs/sha256/l3", small)],
                history,
                manifest_last=manifest_last,
            )
        )
    )
    assert archive.layers == (
        ArchiveLayer("sha256:0", 2 << 20, "ADD rootfs"),
        ArchiveLayer("sha256:1", 0, "WORKDIR /app"),
        ArchiveLayer("sha256:2", 300, "COPY hello"),
    )
    assert archive.size == (2 << 20) + 300


def test_history_that_does_not_match_leaves_created_by_empty() -> None:
    archive = read_archive(io.BytesIO(image_archive([("a.tar", layer_tar({"f": b"1"}))], [], manifest_last=True)))
    assert archive.layers == (ArchiveLayer("sha256:0", 1, ""),)


def test_not_an_image_archive_is_refused() -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        _add(tar, "hello.txt", b"hi")
    with pytest.raises(ValueError, match="not an image archive"):
        read_archive(io.BytesIO(buffer.getvalue()))


def whiteout_layer(names: list[str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name in names:
            _add(tar, name, b"")
    return buffer.getvalue()


def test_waste_counts_what_later_layers_delete_hide_or_overwrite() -> None:
    from pytest_rustimage.inspect.archive import read_layer, wasted

    base = read_layer(
        io.BytesIO(
            layer_tar(
                {
                    "usr/keep": b"k" * 10,
                    "tmp/junk": b"j" * 1000,
                    "etc/conf": b"c" * 100,
                    "var/cache/a": b"a" * 50,
                    "var/cache/b": b"b" * 70,
                    "opt/x": b"x" * 5,
                }
            )
        )
    )
    deletes = read_layer(io.BytesIO(whiteout_layer(["tmp/.wh.junk", "var/.wh.cache"])))  # a file, a folder
    overwrites = read_layer(io.BytesIO(layer_tar({"etc/conf": b"C" * 120})))
    hides = read_layer(io.BytesIO(whiteout_layer(["opt/.wh..wh..opq"])))
    assert deletes.whiteouts == {"tmp/junk", "var/cache"} and hides.opaque == {"opt"}
    assert wasted([base, deletes, overwrites, hides]) == [1000 + 50 + 70 + 100 + 5, 0, 0, 0]
    assert wasted([base]) == [0]


def test_read_archive_reports_waste_per_layer() -> None:
    first = layer_tar({"tmp/junk": b"j" * 4096})
    second = whiteout_layer(["tmp/.wh.junk"])
    archive = read_archive(io.BytesIO(image_archive([("a.tar", first), ("b.tar", second)], [], manifest_last=True)))
    assert [layer.wasted for layer in archive.layers] == [4096, 0]
    assert archive.size == 4096  # the deleted bytes still count: they are in the image


# --- layers measured before, by diff id -------------------------------------------------------


def _digest(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def engine_archive(layers: list[bytes], engine: str, v1_ids: list[str] | None = None, lie: bool = False) -> bytes:
    """An archive laid out as ``docker save`` 20.10 writes it (the config first, then a folder per layer
    named by its v1 id, in the order of those ids: ``VERSION``, ``json`` naming its parent, ``layer.tar``;
    the manifest last) or as ``podman save`` does (``DIFFID.tar`` first, then the config, the manifest).
    ``lie``: every layer's json claims to have no parent (a layout this reader does not know)."""
    diff_ids = [f"sha256:{_digest(data)}" for data in layers]
    config = json.dumps({"rootfs": {"type": "layers", "diff_ids": diff_ids}, "history": []}).encode()
    config_name = f"{_digest(config)}.json"
    v1 = v1_ids or [f"{i:064x}" for i in range(len(layers))]
    names = [f"{v1[i]}/layer.tar" if engine == "docker" else f"{_digest(d)}.tar" for i, d in enumerate(layers)]
    manifest = json.dumps([{"Config": config_name, "RepoTags": ["x:1"], "Layers": names}]).encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        if engine == "docker":
            _add(tar, config_name, config)
            for i in sorted(range(len(layers)), key=lambda i: v1[i]):
                meta: dict[str, object] = {"id": v1[i]}
                if i and not lie:
                    meta["parent"] = v1[i - 1]
                if i == len(layers) - 1 and not lie:
                    meta["config"] = {}
                _add(tar, f"{v1[i]}/VERSION", b"1.0")
                _add(tar, f"{v1[i]}/json", json.dumps(meta).encode())
                _add(tar, names[i], layers[i])
        else:
            for i, data in enumerate(layers):
                _add(tar, names[i], data)
            _add(tar, config_name, config)
        _add(tar, "manifest.json", manifest)
    return buffer.getvalue()


BASE = layer_tar({"usr/lib/libc.so": b"c" * 3000, "etc/passwd": b"root"})
APP = layer_tar({"usr/local/bin/app": b"a" * 500, "etc/passwd": b"root:x:0"})


@pytest.mark.parametrize(
    ("engine", "v1_ids"),
    [("docker", ["a" * 64, "b" * 64]), ("docker", ["f" * 64, "0" * 64]), ("podman", None)],
    ids=["docker-base-first", "docker-top-first", "podman"],
)
def test_a_known_layer_is_passed_over_and_the_others_are_learned(engine: str, v1_ids: list[str] | None) -> None:
    full = read_archive(io.BytesIO(engine_archive([BASE, APP], engine, v1_ids)))
    base_id, app_id = (layer.diff_id for layer in full.layers)
    asked: list[str] = []
    learned: dict[str, LayerContent] = {}
    base_content = read_layer(io.BytesIO(BASE))

    def known(diff_id: str) -> LayerContent | None:
        asked.append(diff_id)
        return base_content if diff_id == base_id else None

    again = read_archive(io.BytesIO(engine_archive([BASE, APP], engine, v1_ids)), known, learned)
    assert again == full  # the same sizes and waste (etc/passwd of the base is overwritten by APP)
    assert again.layers[0].wasted == len(b"root")
    assert sorted(asked) == sorted([base_id, app_id])
    assert set(learned) == {app_id} and learned[app_id] == read_layer(io.BytesIO(APP))


def test_a_known_layer_is_never_read_even_when_its_bytes_are_garbage() -> None:
    """Passed over means not read: a cached layer's tar bytes are not parsed."""
    garbage = b"not a tar at all" * 100
    full_id = f"sha256:{_digest(garbage)}"
    stand_in = LayerContent({"usr/x": 7}, set(), set())
    facts = read_archive(io.BytesIO(engine_archive([garbage], "podman")), lambda d: stand_in if d == full_id else None)
    assert facts.size == 7


def test_a_docker_layer_taken_for_a_known_one_by_its_place_is_found_out() -> None:
    # both layers' json claim to be the first: the top one, whose folder comes first, is taken for the base
    data = engine_archive([BASE, APP], "docker", ["f" * 64, "0" * 64], lie=True)
    full = read_archive(io.BytesIO(engine_archive([BASE, APP], "docker")))
    base_id = full.layers[0].diff_id
    with pytest.raises(StaleGuess):
        read_archive(io.BytesIO(data), lambda d: read_layer(io.BytesIO(BASE)) if d == base_id else None)
    learned: dict[str, LayerContent] = {}
    assert read_archive(io.BytesIO(data), learned=learned) == full  # read without known layers: right
    assert learned == {la.diff_id: read_layer(io.BytesIO(d)) for la, d in zip(full.layers, (BASE, APP), strict=True)}


def test_a_middle_layer_of_unknown_place_is_read() -> None:
    mid = layer_tar({"usr/share/x": b"m" * 40})
    layers = [BASE, mid, APP]
    full = read_archive(io.BytesIO(engine_archive(layers, "docker")))
    ids = [la.diff_id for la in full.layers]
    asked: list[str] = []

    def known(diff_id: str) -> LayerContent | None:
        asked.append(diff_id)
        return None

    # the middle layer's folder comes before its parent's: its place is not known when it is met
    assert read_archive(io.BytesIO(engine_archive(layers, "docker", ["b" * 64, "a" * 64, "c" * 64])), known) == full
    assert ids[1] not in asked and {ids[0], ids[2]} <= set(asked)


def test_a_layer_survives_being_stored() -> None:
    content = read_layer(io.BytesIO(layer_tar({"usr/a": b"12"}, links={"usr/b": "a"})))
    content.whiteouts.add("etc/old")
    content.opaque.add("var/cache")
    assert layer_from_data(json.loads(json.dumps(layer_to_data(content)))) == content
    with pytest.raises(ValueError, match="not a stored layer"):
        layer_from_data({"files": {}})

"""Measuring images from their archives: content bytes per layer, the same for every engine."""

from __future__ import annotations

import io
import json
import random
import tarfile
from collections.abc import Callable, Sequence

import pytest

from pytest_rustimage.inspect.archive import (
    SMALL,
    ArchiveLayer,
    LayerContent,
    StaleGuess,
    content_size,
    layer_from_data,
    layer_to_data,
    read_archive,
    read_layer,
)
from pytest_rustimage.inspect.layer_stream import LayerUnreadable
from tests.unit.inspect.test_loader import compress, hide_zstd


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


def whiteout_layer(names: list[str], files: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name in names:
            _add(tar, name, b"")
        for name, data in (files or {}).items():
            _add(tar, name, data)
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


def engine_archive(
    layers: list[bytes],
    engine: str,
    v1_ids: list[str] | None = None,
    lie: bool = False,
    codecs: Sequence[str] = (),
) -> bytes:
    """An archive laid out as ``docker save`` 20.10 writes it (the config first, then a folder per layer
    named by its v1 id, in the order of those ids: ``VERSION``, ``json`` naming its parent, ``layer.tar``;
    the manifest last), as ``podman save`` does (``DIFFID.tar`` first, then the config, the manifest) or
    with OCI blob names (``engine="oci"``: ``blobs/sha256/DIGEST``, the config too).
    ``lie``: every layer's json claims to have no parent (a layout this reader does not know).
    ``codecs``: per layer, "" (plain), "gzip" or "zstd"; a compressed layer is named by its blob's
    digest, and its diff id is still that of its tar."""
    diff_ids = [f"sha256:{_digest(data)}" for data in layers]
    layers = [compress(data, codec) for data, codec in zip(layers, [*codecs, *[""] * len(layers)], strict=False)]
    config = json.dumps({"rootfs": {"type": "layers", "diff_ids": diff_ids}, "history": []}).encode()
    config_name = f"blobs/sha256/{_digest(config)}" if engine == "oci" else f"{_digest(config)}.json"
    v1 = v1_ids or [f"{i:064x}" for i in range(len(layers))]
    by_digest = "blobs/sha256/{}" if engine == "oci" else "{}.tar"
    names = [f"{v1[i]}/layer.tar" if engine == "docker" else by_digest.format(_digest(d)) for i, d in enumerate(layers)]
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


# --- compressed layers ---------------------------------------------------------------------


def _layer_names(archive: bytes) -> list[str]:
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        handle = tar.extractfile("manifest.json")
        assert handle is not None
        return [str(name) for name in json.loads(handle.read())[0]["Layers"]]


NOISE = random.Random(20).randbytes(3 << 19)  # 1.5 MiB that does not compress: its blob stays over SMALL
LOWER = layer_tar(
    {"usr/lib/libbig.so.1": NOISE, "etc/passwd": b"root", "tmp/junk": b"j" * 700},
    links={"usr/lib/libbig.so": "libbig.so.1"},
)
MIDDLE = layer_tar({"usr/share/doc": b"d" * 90})
UPPER = whiteout_layer(["tmp/.wh.junk"], {"etc/passwd": b"root:x:0", "usr/local/bin/app": b"a" * 500})


@pytest.mark.parametrize("engine", ["docker", "podman", "oci"])
@pytest.mark.parametrize("codecs", [("gzip", "", "zstd"), ("zstd", "", "gzip")], ids=["gzip-big", "zstd-big"])
def test_a_compressed_layer_is_measured_by_its_uncompressed_content(engine: str, codecs: tuple[str, ...]) -> None:
    layers = [LOWER, MIDDLE, UPPER]
    big, _, little = (compress(data, codec) for data, codec in zip(layers, codecs, strict=True))
    assert len(big) > SMALL > len(little)  # one layer streamed, one read into memory
    plain = read_archive(io.BytesIO(engine_archive(layers, engine)))
    learned: dict[str, LayerContent] = {}
    packed = read_archive(io.BytesIO(engine_archive(layers, engine, codecs=codecs)), learned=learned)
    assert packed == plain  # the same sizes, waste and diff ids as the same layers uncompressed
    assert [layer.size for layer in packed.layers] == [len(NOISE) + 4 + 700 + len("libbig.so.1"), 90, 8 + 500]
    assert [layer.wasted for layer in packed.layers] == [4 + 700, 0, 0]  # etc/passwd overwritten, tmp/junk deleted
    assert learned == {la.diff_id: read_layer(io.BytesIO(d)) for la, d in zip(plain.layers, layers, strict=True)}


def _damaged(blob: bytes) -> bytes:
    """``blob`` with its last 8 bytes changed: a gzip stream's checksum and length, read only after the
    tar's end (its content intact: the damage is found only by reading the stream to its end)."""
    return blob[:-8] + bytes(b ^ 0xFF for b in blob[-8:])


NO_DECODER = "it is zstd-compressed, and this Python has no zstd decoder"


@pytest.mark.parametrize("engine", ["docker", "podman"])
@pytest.mark.parametrize(
    ("layer", "codec", "spoil", "why"),
    [
        pytest.param(UPPER, "zstd", None, NO_DECODER, id="zstd-small-no-decoder"),
        pytest.param(LOWER, "zstd", None, NO_DECODER, id="zstd-big-no-decoder"),
        pytest.param(UPPER, "gzip", lambda blob: blob[:-40], "it is damaged: ", id="gzip-small-cut"),
        pytest.param(LOWER, "gzip", _damaged, "it is damaged: BadGzipFile: CRC", id="gzip-big-bad-checksum"),
        pytest.param(LOWER, "zstd", lambda blob: blob[: len(blob) // 2], "it is damaged: ", id="zstd-big-cut"),
        pytest.param(UPPER, "", lambda blob: b"not a tar " * 99, "it is not in the archive as a tar", id="garbage"),
    ],
)
def test_a_layer_that_cannot_be_read_fails_naming_it(
    monkeypatch: pytest.MonkeyPatch,
    engine: str,
    layer: bytes,
    codec: str,
    spoil: Callable[[bytes], bytes] | None,
    why: str,
) -> None:
    blob = compress(layer, codec)
    if spoil is None:
        hide_zstd(monkeypatch)  # intact, but this Python cannot decode it
    else:
        blob = spoil(blob)
    archive = engine_archive([MIDDLE, blob], engine)  # the blob put in as it is: engine_archive compresses nothing
    name = _layer_names(archive)[1]
    with pytest.raises(LayerUnreadable) as raised:
        read_archive(io.BytesIO(archive))
    assert str(raised.value).startswith(f"layer {name} cannot be read: {why}")
    assert isinstance(raised.value, ValueError)  # what measuring turns into the size check's failure


def test_a_layer_the_manifest_names_but_the_archive_lacks_fails_naming_it() -> None:
    archive = image_archive([("a.tar", layer_tar({"f": b"1"}))], [], manifest_last=True)
    manifest = [{"Config": "cfg.json", "RepoTags": ["x:1"], "Layers": ["a.tar", "gone.tar"]}]
    buffer = io.BytesIO()
    with tarfile.open(fileobj=io.BytesIO(archive)) as source, tarfile.open(fileobj=buffer, mode="w") as tar:
        for member in source:
            handle = source.extractfile(member)
            assert handle is not None
            _add(tar, member.name, json.dumps(manifest).encode() if member.name == "manifest.json" else handle.read())
    with pytest.raises(LayerUnreadable, match=r"^layer gone\.tar cannot be read: it is not in the archive"):
        read_archive(io.BytesIO(buffer.getvalue()))


def test_a_docker_layer_written_as_a_link_to_an_earlier_one_is_measured_as_it() -> None:
    """``docker save`` writes a layer that repeats an earlier one as a symlink to its tar."""
    data = engine_archive([BASE, BASE], "docker")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=io.BytesIO(data)) as source, tarfile.open(fileobj=buffer, mode="w") as tar:
        for member in source:
            if member.name == f"{1:064x}/layer.tar":
                link = tarfile.TarInfo(member.name)
                link.type = tarfile.SYMTYPE
                link.linkname = f"../{0:064x}/layer.tar"
                tar.addfile(link)
            else:
                tar.addfile(member, source.extractfile(member))
    facts = read_archive(io.BytesIO(buffer.getvalue()))
    size = read_layer(io.BytesIO(BASE)).size
    assert [(la.size, la.wasted) for la in facts.layers] == [(size, size), (size, 0)]

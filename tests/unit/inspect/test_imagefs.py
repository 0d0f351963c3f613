"""An image's merged files from its archive: layer order, deletions, links followed inside the image."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile

import pytest

from pytest_rustimage.inspect.imagefs import FsProblem, read_image_fs
from pytest_rustimage.inspect.layer_stream import layer_format
from tests.unit.inspect.test_loader import Entry, compress, hide_zstd, layer_tar


def docker_archive(*layers: list[Entry], repeat_first: bool = False) -> io.BytesIO:
    """As Docker 20.10 writes it: ``V1ID/layer.tar`` members in no useful order, a repeated layer as a link
    to the first one's tar, and the manifest at the end."""
    out = io.BytesIO()
    names = [f"{9 - index:02d}{'a' * 62}/layer.tar" for index in range(len(layers))]
    order = list(reversed(list(zip(names, layers, strict=True))))  # the upper layer's tar comes first
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, entries in order:
            data = layer_tar(entries)
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        if repeat_first:
            info = tarfile.TarInfo(f"{'b' * 64}/layer.tar")
            info.type, info.linkname = tarfile.SYMTYPE, f"../{names[0]}"
            tar.addfile(info)
            names.append(info.name)
        manifest = json.dumps([{"Config": "c.json", "Layers": names}]).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(manifest)
        tar.addfile(info, io.BytesIO(manifest))
    out.seek(0)
    return out


def test_layers_apply_in_the_manifests_order_whatever_the_members_order() -> None:
    fs = read_image_fs(
        docker_archive(
            [("file", "etc/ld.so.conf", b"old\n"), ("file", "usr/lib/libx.so.1", b"x1")],
            [("file", "etc/ld.so.conf", b"new\n"), ("whiteout", "usr/lib/libx.so.1")],
        )
    )
    assert fs.read("/etc/ld.so.conf") == b"new\n" and not fs.exists("/usr/lib/libx.so.1")


def test_a_repeated_layer_written_as_a_link_is_that_layer_again() -> None:
    fs = read_image_fs(
        docker_archive([("file", "a/libz.so.1", b"z")], [("whiteout", "a/libz.so.1")], repeat_first=True)
    )
    assert fs.read("a/libz.so.1") == b"z"  # the third layer (the first again) brings it back


def test_links_relative_absolute_and_through_folders() -> None:
    fs = read_image_fs(
        docker_archive(
            [
                ("link", "lib", "usr/lib"),
                ("file", "usr/lib/real/libq.so.1.2", b"q"),
                ("link", "usr/lib/libq.so.1", "real/../real/libq.so.1.2"),
                ("link", "opt/libq.so", "/lib/libq.so.1"),
                ("file", "usr/bin/tool", b"not kept"),
            ]
        )
    )
    assert fs.resolve("/opt/libq.so") == "/usr/lib/real/libq.so.1.2"
    assert fs.read("/opt/libq.so") == b"q" and fs.is_dir("/lib/real") and fs.listdir("/lib") == ["libq.so.1", "real"]
    assert fs.glob("/lib/*/libq*") == ["/lib/real/libq.so.1.2"]
    with pytest.raises(FsProblem, match="bytes were not read"):
        fs.read("/usr/bin/tool")
    with pytest.raises(FsProblem, match=r"is not in the image \(/usr/bin/tool is not a folder\)"):
        fs.resolve("/usr/bin/tool/x")


def test_a_file_replacing_a_folder_removes_what_was_in_it_and_an_opaque_folder_hides_the_lower_content() -> None:
    fs = read_image_fs(
        docker_archive(
            [("file", "opt/x/liba.so", b"a"), ("file", "srv/old/libb.so", b"b")],
            [
                ("file", "opt/x.so", b"old"),
                ("file", "opt/x", b"a file now"),
                ("opaque", "srv"),
                ("file", "srv/libc.so", b"c"),
            ],
        )
    )
    assert not fs.exists("/opt/x/liba.so") and fs.node("/opt/x").kind == "file"  # type: ignore[union-attr]
    assert fs.listdir("/srv") == ["libc.so"] and fs.is_dir("/srv")


def test_a_stream_that_is_no_image_archive_is_refused() -> None:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        info = tarfile.TarInfo("hello.txt")
        tar.addfile(info, io.BytesIO(b""))
    out.seek(0)
    with pytest.raises(ValueError, match=r"no manifest\.json"):
        read_image_fs(out)


def test_a_file_missing_behind_a_linked_folder_is_missing_and_a_link_to_nothing_dangles() -> None:
    fs = read_image_fs(
        docker_archive([("link", "lib", "usr/lib"), ("dir", "usr/lib"), ("link", "usr/lib/libv.so.1", "libv.so.1.0")])
    )
    with pytest.raises(FsProblem) as missing:
        fs.resolve("/lib/libnone.so.1")
    assert missing.value.reason == "missing" and str(missing.value) == (
        "/lib/libnone.so.1 is not in the image (/usr/lib/libnone.so.1 is missing)"
    )
    with pytest.raises(FsProblem) as dangling:
        fs.resolve("/lib/libv.so.1")
    assert dangling.value.reason == "dangling" and "/usr/lib/libv.so.1.0 is missing" in str(dangling.value)


def oci_archive(*blobs: bytes, absent: int = 0) -> io.BytesIO:
    """As Docker writes it with the containerd image store: ``blobs/sha256/HEX`` members named by their
    digest (layers as stored, compressed or not; the config a blob too), an index, the manifest last.
    ``absent`` more layers are listed in the manifest but not written."""
    out = io.BytesIO()
    config = json.dumps({"rootfs": {"type": "layers", "diff_ids": []}}).encode()
    members = [(f"blobs/sha256/{hashlib.sha256(b).hexdigest()}", b) for b in (config, *blobs)]
    layers = [name for name, _ in members[1:]] + [f"blobs/sha256/{index:064x}" for index in range(absent)]
    manifest = json.dumps([{"Config": members[0][0], "Layers": layers}]).encode()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, data in [("oci-layout", b'{"imageLayoutVersion": "1.0.0"}'), *members, ("manifest.json", manifest)]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    out.seek(0)
    return out


@pytest.mark.parametrize("codec", ["gzip", "zstd"])
def test_compressed_layers_are_read_told_by_their_first_bytes(codec: str) -> None:
    lower = layer_tar([("file", "usr/lib/libx.so.1", b"x1"), ("file", "usr/lib/liby.so.1", b"y1")])
    upper = layer_tar([("file", "usr/lib/libx.so.1", b"x2"), ("whiteout", "usr/lib/liby.so.1")])
    empty = layer_tar([])  # zero blocks only, as an empty layer is
    assert layer_format(compress(lower, codec)[:512]) == codec and layer_format(empty[:512]) == "tar"
    fs = read_image_fs(oci_archive(compress(lower, codec), empty, compress(upper, codec), compress(empty, codec)))
    assert not fs.unreadable  # the config blob is no layer, and an empty one is read as empty
    assert fs.read("/usr/lib/libx.so.1") == b"x2" and not fs.exists("/usr/lib/liby.so.1")


def test_a_layer_that_cannot_be_read_is_named_never_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    tar = layer_tar([("file", "usr/lib/libx.so.1", b"x1")])
    damaged = compress(tar, "gzip")[:-40]
    archive = oci_archive(tar, damaged, b"neither a tar nor compressed", compress(tar, "zstd"), absent=1)
    hide_zstd(monkeypatch)
    fs = read_image_fs(archive)
    damaged_name, other_name, zstd_name, absent_name = list(fs.unreadable)
    assert fs.unreadable[damaged_name].startswith("it is damaged: ")
    assert (
        fs.unreadable[other_name]
        == fs.unreadable[absent_name]
        == "it is not in the archive as a tar, gzip or zstd stream"
    )
    assert fs.unreadable[zstd_name].startswith("it is zstd-compressed, and this Python has no zstd decoder")
    assert fs.read("/usr/lib/libx.so.1") == b"x1"  # the layers that were read are still merged

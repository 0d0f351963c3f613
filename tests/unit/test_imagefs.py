"""An image's merged files from its archive: layer order, deletions, links followed inside the image."""

from __future__ import annotations

import io
import json
import tarfile

import pytest

from pytest_rustimage.inspect.imagefs import FsProblem, read_image_fs
from tests.unit.test_loader import Entry, layer_tar


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

"""One read of an image archive for sizes and files: exactly what the two separate reads give."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Sequence

import pytest

from pytest_rustimage.inspect.archive import ArchiveFacts, LayerContent, read_archive
from pytest_rustimage.inspect.imagefs import ImageFs, Node, read_image_fs
from pytest_rustimage.inspect.layer_stream import LayerUnreadable
from pytest_rustimage.inspect.onepass import read_archive_and_fs
from tests.unit.inspect.test_archive import LOWER, MIDDLE, UPPER, _damaged, engine_archive, image_archive
from tests.unit.inspect.test_loader import compress, hide_zstd

Member = tuple[str, str, bytes | str]  # (kind, name as stored, bytes of a file or a link's target)


def layer(*members: Member) -> bytes:
    """A layer tar of ``members``, names stored as given (``./`` prefixes and trailing slashes too)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for kind, name, value in members:
            info = tarfile.TarInfo(name)
            data = value if isinstance(value, bytes) else b""
            if kind == "dir":
                info.type = tarfile.DIRTYPE
            elif kind in ("link", "hard"):
                info.type, info.linkname = (tarfile.SYMTYPE if kind == "link" else tarfile.LNKTYPE), str(value)
            elif kind == "fifo":
                info.type = tarfile.FIFOTYPE
            else:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if kind == "file" else None)
    return out.getvalue()


BOTTOM = layer(
    ("dir", "./", b""),
    ("dir", "./usr/", b""),
    ("file", "./usr/lib/libold.so.1", b"o" * 300),
    ("hard", "./usr/lib/libold-again.so.1", "./usr/lib/libold.so.1"),
    ("link", "./usr/lib/libold.so", "libold.so.1"),
    ("file", "./usr/share/doc/readme", b"r" * 120),
    ("file", "./usr/share/doc/more/notes", b"n" * 40),
    ("file", "./etc/ld.so.conf", b"include /etc/ld.so.conf.d/*.conf\n"),
    ("file", "./etc/passwd", b"root:x:0:0::/root:/bin/sh\n"),
    ("fifo", "./run/pipe", b""),
    ("file", "./tmp/junk", b"j" * 700),
)
TOP = layer(
    ("file", "usr/share/doc/.wh..wh..opq", b""),  # the lower docs hidden
    ("file", "usr/share/doc/new", b"w" * 9),
    ("file", "tmp/.wh.junk", b""),
    ("file", "usr/lib/.wh.libold.so", b""),
    ("file", "usr/lib/libnew.so.2", b"N" * 64),
    ("hard", "usr/lib/libnew.so", "usr/lib/libnew.so.2"),
    ("hard", "usr/lib/libnowhere.so", "usr/lib/not-in-this-layer"),
    ("link", "lib", "usr/lib"),
    ("file", "etc/passwd", b"root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/app:/bin/false\n"),
    ("file", "app/server", b"\x7fELF" + b"s" * 200),
)


def snapshot(fs: ImageFs) -> tuple[dict[str, Node], dict[str, str]]:
    """Everything an ImageFs holds: each entry (kept bytes included) and its unreadable layers."""
    nodes = {path: node for path in fs.paths() if (node := fs.node(path)) is not None}
    return nodes, dict(fs.unreadable)


def separately(archive: bytes) -> tuple[ArchiveFacts, dict[str, LayerContent], ImageFs]:
    learned: dict[str, LayerContent] = {}
    facts = read_archive(io.BytesIO(archive), learned=learned)
    return facts, learned, read_image_fs(io.BytesIO(archive))


def assert_same(archive: bytes) -> ImageFs:
    """The one read gives the sizes, the learned layers and the files the two reads give; its files."""
    facts, learned, fs = separately(archive)
    both_learned: dict[str, LayerContent] = {}
    both_facts, both_fs = read_archive_and_fs(io.BytesIO(archive), both_learned)
    assert both_facts == facts
    assert both_learned == learned and len(learned) == len({la.diff_id for la in facts.layers})
    assert snapshot(both_fs) == snapshot(fs)
    return both_fs


@pytest.mark.parametrize("engine", ["docker", "podman", "oci"])
@pytest.mark.parametrize(
    "codecs", [(), ("gzip", "", "zstd", ""), ("", "zstd", "", "gzip")], ids=["plain", "gzip-zstd", "zstd-gzip"]
)
def test_one_read_gives_what_the_two_give(engine: str, codecs: Sequence[str]) -> None:
    archive = engine_archive([LOWER, BOTTOM, MIDDLE, TOP, UPPER], engine, codecs=codecs)
    fs = assert_same(archive)
    facts = read_archive(io.BytesIO(archive))
    assert [la.wasted for la in facts.layers][1] > 0 and len(facts.layers) == 5  # the test is not of nothing
    assert fs.read("/lib/libnew.so") == b"N" * 64 and not fs.exists("/tmp/junk") and not fs.unreadable
    assert fs.listdir("/usr/share/doc") == ["new"] and fs.node("/run/pipe") == Node("other")


@pytest.mark.parametrize(("v1_ids"), [["a" * 64, "b" * 64, "c" * 64], ["f" * 64, "0" * 64, "7" * 64]])
def test_docker_layers_in_any_order_of_their_v1_ids(v1_ids: list[str]) -> None:
    assert_same(engine_archive([BOTTOM, TOP, UPPER], "docker", v1_ids))
    assert_same(engine_archive([BOTTOM, TOP, UPPER], "docker", v1_ids, lie=True))


def test_a_repeated_docker_layer_written_as_a_link_is_that_layer_in_both() -> None:
    data = engine_archive([BOTTOM, TOP, BOTTOM], "docker")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=io.BytesIO(data)) as source, tarfile.open(fileobj=buffer, mode="w") as tar:
        for member in source:
            if member.name == f"{2:064x}/layer.tar":
                link = tarfile.TarInfo(member.name)
                link.type, link.linkname = tarfile.SYMTYPE, f"../{0:064x}/layer.tar"
                tar.addfile(link)
            else:
                tar.addfile(member, source.extractfile(member))
    fs = assert_same(buffer.getvalue())
    assert fs.read("/usr/lib/libold.so.1") == b"o" * 300 and fs.exists("/tmp/junk")  # back with the repeat


def test_a_layer_named_neither_way_is_measured_and_left_out_of_the_files_alike() -> None:
    """``read_archive`` tells layers by their bytes, ``read_image_fs`` by their names: one read keeps both."""
    archive = image_archive([("a.tar", BOTTOM), (f"{1:064x}.tar", TOP)], [], manifest_last=True)
    fs = assert_same(archive)
    assert list(fs.unreadable) == ["a.tar"]


@pytest.mark.parametrize("spoil", ["no-zstd-decoder", "gzip-bad-checksum", "garbage"])
def test_an_unreadable_layer_fails_as_the_sizes_do(monkeypatch: pytest.MonkeyPatch, spoil: str) -> None:
    """Where a layer cannot be read, the sizes cannot be told: the one read fails as ``read_archive``
    does, naming the layer; the files, read alone, name it unreadable (what a caller falls back to)."""
    blob = {"no-zstd-decoder": compress(LOWER, "zstd"), "gzip-bad-checksum": _damaged(compress(LOWER, "gzip"))}
    if spoil == "no-zstd-decoder":
        hide_zstd(monkeypatch)
    archive = engine_archive([TOP, blob.get(spoil, b"not a tar " * 99)], "podman")
    with pytest.raises(LayerUnreadable) as alone:
        read_archive(io.BytesIO(archive))
    with pytest.raises(LayerUnreadable) as both:
        read_archive_and_fs(io.BytesIO(archive))
    assert str(both.value) == str(alone.value) and "cannot be read" in str(both.value)
    if spoil != "gzip-bad-checksum":  # a checksum past the tar's end: the files alone never read that far
        assert len(read_image_fs(io.BytesIO(archive)).unreadable) == 1


def test_a_stream_that_is_no_image_archive_is_refused_alike() -> None:
    with pytest.raises(ValueError, match="not an image archive"):
        read_archive_and_fs(io.BytesIO(layer(("file", "x", b"1"))))

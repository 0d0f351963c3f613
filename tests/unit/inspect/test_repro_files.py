"""compare_files: two images' listings, engines' own files and unknown fields left out."""

from __future__ import annotations

from pytest_rustimage.inspect.imagefs import ImageFs, Node
from pytest_rustimage.inspect.repro import explain
from pytest_rustimage.inspect.repro_files import (
    FileChange,
    FileEntry,
    compare_files,
    describe_files,
    entries_from_fs,
)

BIN = FileEntry("/usr/local/bin/hello", "file", 1000, 0o755, digest="sha256:" + "a" * 64)
BASE = [
    FileEntry("/", "dir", mode=0o755),
    FileEntry("/usr", "dir", mode=0o755),
    FileEntry("/usr/local", "dir", mode=0o755),
    FileEntry("/usr/local/bin", "dir", mode=0o755),
    BIN,
    FileEntry("/lib64", "link", 7, 0o777, link="usr/lib64"),
]


def test_the_same_listing_is_identical_whatever_the_order_and_spelling() -> None:
    other = [FileEntry(e.path.lstrip("/") or "/", e.kind, e.size, e.mode, e.link, e.digest) for e in reversed(BASE)]
    diff = compare_files(BASE, other)
    assert diff.identical and diff.only_a == diff.only_b == diff.unchecked == () and diff.changed == ()
    assert describe_files(diff) == ["The images' files are the same."]


def test_paths_in_one_only_and_changed_fields_are_named() -> None:
    b = [
        *BASE[:4],
        FileEntry("/usr/local/bin/hello", "file", 1200, 0o700, digest="sha256:" + "b" * 64),
        FileEntry("/lib64", "link", 9, 0o777, link="usr/lib/x"),
        FileEntry("/etc/extra.conf", "file", 3, 0o644, digest="sha256:00"),
    ]
    diff = compare_files([*BASE, FileEntry("/app", "dir", mode=0o755)], b)
    assert diff.only_a == ("/app",)
    assert diff.only_b == ("/etc/extra.conf",)  # a listing need not hold the folders its files are in
    assert [(c.path, c.fields) for c in diff.changed] == [
        ("/lib64", ("size", "link")),
        ("/usr/local/bin/hello", ("size", "mode", "digest")),
    ]
    lines = describe_files(diff, ("docker", "podman"))
    assert "  only in docker (1): /app" in lines
    assert (
        "    /usr/local/bin/hello: size 1000 vs 1200, mode 755 vs 700, content differs (aaaaaaaaaaaa vs bbbbbbbbbbbb)"
        in lines
    )
    assert "    /lib64: size 7 vs 9, link 'usr/lib64' vs 'usr/lib/x'" in lines


def test_a_kind_change_is_named() -> None:
    diff = compare_files(BASE, [*BASE[:5], FileEntry("/lib64", "dir", 0, 0o777)])
    assert diff.changed == (
        FileChange("/lib64", ("kind", "size", "link"), BASE[5], FileEntry("/lib64", "dir", 0, 0o777)),
    )


def test_engine_files_and_folders_made_only_for_them_are_left_out() -> None:
    docker = [*BASE, FileEntry("/.dockerenv", "file", 0, 0o755, digest="sha256:e3")]
    docker += [FileEntry("/etc", "dir", mode=0o755), FileEntry("/etc/hostname", "file", 13, 0o644, digest="sha256:1")]
    podman = [*BASE, FileEntry("/run", "dir", mode=0o755), FileEntry("/run/.containerenv", "file", 0, 0o644)]
    podman += [FileEntry("/run/secrets", "dir", mode=0o755), FileEntry("/etc", "dir", mode=0o755)]
    podman += [FileEntry("/etc/hostname", "file", 0, 0o644, digest="sha256:2")]
    podman += [FileEntry("/etc/resolv.conf", "file", 40, 0o644), FileEntry("/etc/hosts", "file", 0, 0o644)]
    diff = compare_files(docker, podman)
    assert diff.identical, diff
    assert set(diff.ignored) == {
        "/.dockerenv",
        "/etc/hostname",
        "/etc/hosts",
        "/etc/resolv.conf",
        "/run",
        "/run/.containerenv",
        "/run/secrets",
    }
    assert describe_files(diff) == ["The images' files are the same (mtimes and engine files aside)."]


def test_a_folder_with_real_content_beside_engine_files_is_not_left_out() -> None:
    podman = [*BASE, FileEntry("/etc", "dir"), FileEntry("/etc/hosts", "file"), FileEntry("/etc/app.toml", "file", 5)]
    diff = compare_files(BASE, podman)
    assert diff.only_b == ("/etc", "/etc/app.toml")


def test_unknown_fields_are_not_compared_and_unread_contents_are_told() -> None:
    unread = FileEntry(BIN.path, "file", 1000, None, digest=None)
    diff = compare_files(BASE, [*BASE[:4], unread, BASE[5]])
    assert diff.identical and diff.unchecked == (BIN.path,)
    assert describe_files(diff)[-1] == "  1 file of equal size had no digest to compare: /usr/local/bin/hello"


def test_entries_from_an_image_fs() -> None:
    fs = ImageFs(
        {
            "usr/local/bin/hello": Node("file", size=5),
            "lib/libc.so.6": Node("file", size=3, data=b"abc"),
            "lib64": Node("link", target="lib", size=3),
        }
    )
    entries = {e.path: e for e in entries_from_fs(fs)}
    assert entries["/usr/local/bin/hello"] == FileEntry("/usr/local/bin/hello", "file", 5)
    expected = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert entries["/lib/libc.so.6"].digest == expected
    assert entries["/lib64"].link == "lib" and entries["/usr"].kind == "dir"


def test_explain_tells_the_files_after_the_binary() -> None:
    text = explain(None, compare_files(BASE, BASE[:4]), labels=("first build", "second build"))
    assert text.splitlines() == [
        "The images' files differ:",
        "  only in first build (2): /lib64, /usr/local/bin/hello",
    ]

"""Cutting the cc runtime base out of a Debian rootfs: what is kept and what is written anew."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

from pytest_rustimage.housekeeping.cc_base import PASSWD, cut, kept, package_lists

LISTS = {
    "var/lib/dpkg/info/libc6:amd64.list": b"/.\n/lib64\n/lib64/ld-linux-x86-64.so.2\n"
    b"/usr/lib/x86_64-linux-gnu/libc.so.6\n",
    "var/lib/dpkg/info/libgcc-s1:amd64.list": b"/usr/lib/x86_64-linux-gnu/libgcc_s.so.1\n",
    "var/lib/dpkg/info/bash.list": b"/usr/bin/bash\n",
}


def test_the_listed_files_of_libc_and_libgcc_only() -> None:
    listed = package_lists(LISTS)
    assert "usr/bin/bash" not in listed
    assert {"lib64/ld-linux-x86-64.so.2", "usr/lib/x86_64-linux-gnu/libc.so.6"} <= listed


def test_kept_follows_merged_usr_and_keeps_parents() -> None:
    names = [
        "./", "./lib64", "./usr/", "./usr/lib64/", "./usr/lib64/ld-linux-x86-64.so.2", "./usr/lib/",
        "./usr/lib/x86_64-linux-gnu/", "./usr/lib/x86_64-linux-gnu/libc.so.6", "./usr/bin/", "./usr/bin/bash",
        "./etc/", "./etc/ssl/", "./etc/ssl/certs/", "./etc/ssl/certs/ca-certificates.crt", "./etc/shadow",
    ]  # fmt: skip
    keep = kept(names, package_lists(LISTS))
    assert "usr/lib64/ld-linux-x86-64.so.2" in keep  # dpkg says /lib64/..., the file is behind the link
    assert {"lib64", "usr", "usr/lib", "etc/ssl/certs/ca-certificates.crt", "etc/ssl"} <= keep
    assert not {"usr/bin/bash", "usr/bin", "etc/shadow"} & keep


def test_cut_writes_the_user_and_drops_the_rest(tmp_path: Path) -> None:
    rootfs = tmp_path / "full.tar"
    with tarfile.open(rootfs, "w") as tar:
        for name, data in [*LISTS.items(), ("usr/lib/x86_64-linux-gnu/libc.so.6", b"ELF"), ("usr/bin/bash", b"sh")]:
            info = tarfile.TarInfo(f"./{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    cut(rootfs, tmp_path / "cc.tar")
    with tarfile.open(tmp_path / "cc.tar") as tar:
        names = set(tar.getnames())
        passwd = tar.extractfile("etc/passwd").read().decode()  # type: ignore[union-attr]
        home = tar.getmember("home/nonroot")
        tmp_mode = tar.getmember("tmp").mode
    assert "usr/lib/x86_64-linux-gnu/libc.so.6" in names and "usr/bin/bash" not in names
    assert not any(n.startswith("var/lib/dpkg") for n in names)  # no package database: nothing to install with
    assert passwd == PASSWD and "nonroot:x:65532:65532" in passwd
    assert (home.uid, home.isdir(), tmp_mode) == (65532, True, 0o1777)

"""The small runtime base ``pytest-rustimage/runtime:cc-bookworm``: what a dynamically linked Rust binary needs.

Like distroless ``cc`` (``gcr.io/distroless/cc-debian12``, its registry equivalent): glibc
(``libc6``), ``libgcc_s`` (``libgcc-s1``), the CA certificate bundle and the files of the 65532
non-root user, nothing else: no shell, no package manager. It is cut out of a Debian minbase rootfs
that mmdebstrap made with ``ca-certificates``: the files dpkg lists for :data:`PACKAGES`, the bundle
``update-ca-certificates`` wrote, the loader cache, the top-level links of merged ``/usr``, and the
folders above them (:func:`kept`); ``/etc/passwd``, ``/etc/group``, ``/home/nonroot`` and ``/tmp`` are
written anew (:func:`user_files`). Pure but for :func:`cut`, which copies members between two tars.
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath

PACKAGES = ("libc6", "libgcc-s1")
EXTRA_FILES = ("etc/ssl/certs/ca-certificates.crt", "etc/ld.so.cache", "etc/os-release", "usr/lib/os-release")
MERGED_USR_LINKS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
NONROOT = 65532
PASSWD = f"root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:{NONROOT}:{NONROOT}:nonroot:/home/nonroot:/sbin/nologin\n"
GROUP = f"root:x:0:\nnonroot:x:{NONROOT}:\n"


def _norm(name: str) -> str:
    return name.removeprefix("./").strip("/")


def package_lists(members: Mapping[str, bytes], packages: Iterable[str] = PACKAGES) -> set[str]:
    """The paths dpkg lists for ``packages``, from the ``var/lib/dpkg/info/PKG[:ARCH].list`` texts in ``members``."""
    wanted = set(packages)
    paths: set[str] = set()
    for name, text in members.items():
        stem = PurePosixPath(name).name.removesuffix(".list")
        if name.startswith("var/lib/dpkg/info/") and name.endswith(".list") and stem.split(":")[0] in wanted:
            paths.update(_norm(line) for line in text.decode().splitlines() if _norm(line))
    return paths


def kept(names: Iterable[str], listed: set[str]) -> set[str]:
    """The rootfs members to keep: the listed files that exist, the extra files, the merged-/usr
    links, and every folder above them."""
    present = {_norm(n) for n in names}
    # merged /usr: dpkg lists /lib64/ld-linux-x86-64.so.2, the file is usr/lib64/... behind the lib64 link
    listed = listed | {f"usr/{p}" for p in listed if p.split("/", 1)[0] in MERGED_USR_LINKS}
    keep = {p for p in listed | set(EXTRA_FILES) | set(MERGED_USR_LINKS) if p in present}
    for path in list(keep):
        parent = PurePosixPath(path).parent
        while str(parent) not in (".", ""):
            keep.add(str(parent))
            parent = parent.parent
    return {p for p in keep if p in present}


def user_files() -> list[tuple[tarfile.TarInfo, bytes | None]]:
    """The non-root user's files, written anew: passwd, group, its home, and a /tmp for everyone."""
    out: list[tuple[tarfile.TarInfo, bytes | None]] = []
    for name, mode, uid in (("home", 0o755, 0), ("home/nonroot", 0o700, NONROOT), ("tmp", 0o1777, 0)):
        info = tarfile.TarInfo(name)
        info.type, info.mode, info.uid, info.gid = tarfile.DIRTYPE, mode, uid, uid
        out.append((info, None))
    for name, text in (("etc/passwd", PASSWD), ("etc/group", GROUP)):
        info = tarfile.TarInfo(name)
        info.mode, info.size = 0o644, len(text)
        out.append((info, text.encode()))
    return out


def cut(rootfs: Path, output: Path) -> int:
    """Write the cc base's rootfs from mmdebstrap's ``rootfs`` tar to ``output``; returns its members."""
    with tarfile.open(rootfs) as source:
        members = source.getmembers()
        lists = {
            _norm(m.name): source.extractfile(m).read()  # type: ignore[union-attr]
            for m in members
            if m.isfile() and _norm(m.name).startswith("var/lib/dpkg/info/") and m.name.endswith(".list")
        }
        keep = kept((m.name for m in members), package_lists(lists))
        written = 0
        ours = {info.name for info, _ in user_files()}
        with tarfile.open(output, "w") as out:
            for member in members:
                name = _norm(member.name)
                if name not in keep or name in ours:
                    continue
                member.name = name
                out.addfile(member, source.extractfile(member) if member.isfile() else None)
                written += 1
            for info, data in user_files():
                out.addfile(info, io.BytesIO(data) if data is not None else None)
                written += 1
    return written

"""Resolving a dynamic binary in an image's files, as ld.so would: real ELF files compiled here, packed
into real image archives (layer tars and a manifest), read back through :func:`read_image_fs`."""

from __future__ import annotations

import gzip
import importlib
import io
import json
import subprocess
import sys
import tarfile
from collections.abc import Sequence
from pathlib import Path

import pytest

from pytest_rustimage.inspect.elf import inspect_elf
from pytest_rustimage.inspect.imagefs import ImageFs, read_image_fs
from pytest_rustimage.inspect.loader import (
    Loading,
    conf_folders,
    fixes_for,
    glibc_version,
    parse_dpkg_search,
    resolve_loading,
)

MULTIARCH = "usr/lib/x86_64-linux-gnu"
LIBC = Path("/lib/x86_64-linux-gnu/libc.so.6")
LOADER = Path("/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2")
INTERP = "/lib64/ld-linux-x86-64.so.2"

# An entry of a layer: ("file", path, bytes) | ("link", path, target) | ("dir", path) | ("whiteout", path)
# | ("opaque", folder)
Entry = tuple[str, ...] | tuple[str, str, bytes]


def layer_tar(entries: Sequence[Entry]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for entry in entries:
            kind, path = str(entry[0]), str(entry[1])
            if kind in ("whiteout", "opaque"):
                folder, _, name = path.rpartition("/")
                marker = ".wh..wh..opq" if kind == "opaque" else f".wh.{name}"
                info = tarfile.TarInfo(f"{path}/{marker}" if kind == "opaque" else f"{folder}/{marker}".lstrip("/"))
                tar.addfile(info, io.BytesIO(b""))
            elif kind == "dir":
                info = tarfile.TarInfo(path)
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif kind == "link":
                info = tarfile.TarInfo(path)
                info.type, info.linkname = tarfile.SYMTYPE, str(entry[2])
                tar.addfile(info)
            else:
                data = entry[2]
                assert isinstance(data, bytes)
                info = tarfile.TarInfo(path)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def compress(data: bytes, codec: str) -> bytes:
    """``data`` as a layer blob: as it is (""), gzip, or zstd in two frames (as zstd:chunked writes several)."""
    if codec == "gzip":
        return gzip.compress(data)
    if codec == "zstd":
        try:
            compressor = importlib.import_module("zstandard").ZstdCompressor().compress
        except ImportError:
            compressor = importlib.import_module("compression.zstd").compress  # Python 3.14
        half = len(data) // 2
        return bytes(compressor(data[:half])) + bytes(compressor(data[half:]))
    return data


def image(*layers: Sequence[Entry], codecs: Sequence[str] = ()) -> ImageFs:
    """An image archive of ``layers`` (:func:`image_archive`), read back."""
    return read_image_fs(image_archive(*layers, codecs=codecs))


def image_archive(*layers: Sequence[Entry], codecs: Sequence[str] = ()) -> io.BytesIO:
    """An image archive as Podman writes it (``HEX.tar`` members, manifest last); ``codecs``: how each
    layer is compressed (see :func:`compress`; a ``.tar`` name whatever the codec)."""
    out = io.BytesIO()
    names = [f"{index:064x}.tar" for index in range(1, len(layers) + 1)]
    codecs = [*codecs, *[""] * (len(layers) - len(codecs))]
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, entries, codec in zip(names, layers, codecs, strict=True):
            data = compress(layer_tar(entries), codec)
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        manifest = json.dumps([{"Config": "c.json", "Layers": names}]).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(manifest)
        tar.addfile(info, io.BytesIO(manifest))
    out.seek(0)
    return out


def gcc(tmp: Path, out: str, source: str, *args: str) -> bytes:
    src = tmp / f"{out}.c"
    src.write_text(source)
    subprocess.run(["gcc", "-O1", "-o", str(tmp / out), str(src), *args], check=True, capture_output=True)
    return (tmp / out).read_bytes()


def version_script(tmp: Path, name: str, *versions: str, symbol: str = "greet") -> str:
    """A version script giving each version a node (the last one holds ``symbol``), chained in order."""
    lines = []
    for index, version in enumerate(versions):
        body = f"global: {symbol};" if index == len(versions) - 1 else ""
        parent = f" {versions[index - 1]}" if index else ""
        lines.append(f"{version} {{ {body} }}{parent};")
    if len(versions) == 1:
        lines[0] = lines[0].replace("{  }", "{ global: " + symbol + "; local: *; }")
    path = tmp / f"{name}.map"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


class Built:
    """The real ELF files the tests put in images, compiled once per module."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        greet = "int greet(void) { return 42; }\n"
        self.greet = gcc(tmp, "libgreet.so.1", greet, "-shared", "-fPIC", "-Wl,-soname,libgreet.so.1")
        self.greet_v2 = gcc(
            tmp,
            "libgreet-v2.so.1",
            greet,
            "-shared",
            "-fPIC",
            "-Wl,-soname,libgreet.so.1",
            f"-Wl,--version-script={version_script(tmp, 'v2', 'GREET_1', 'GREET_2')}",
        )
        self.greet_v1 = gcc(
            tmp,
            "libgreet-v1.so.1",
            greet,
            "-shared",
            "-fPIC",
            "-Wl,-soname,libgreet.so.1",
            f"-Wl,--version-script={version_script(tmp, 'v1', 'GREET_1')}",
        )
        (tmp / "lib").mkdir()
        (tmp / "lib" / "libgreet.so").symlink_to(tmp / "libgreet.so.1")
        (tmp / "v2").mkdir()
        (tmp / "v2" / "libgreet.so").symlink_to(tmp / "libgreet-v2.so.1")
        main = "int greet(void);\nint main(void) { return greet() == 42 ? 0 : 1; }\n"
        link = ["-L", str(tmp / "lib"), "-lgreet"]
        self.app_runpath = gcc(tmp, "app-runpath", main, *link, "-Wl,--enable-new-dtags,-rpath,$ORIGIN/../lib")
        self.app_rpath = gcc(tmp, "app-rpath", main, *link, "-Wl,--disable-new-dtags,-rpath,/opt/a")
        self.app_plain = gcc(tmp, "app-plain", main, *link)
        self.app_v2 = gcc(tmp, "app-v2", main, "-L", str(tmp / "v2"), "-lgreet")
        # a library that needs libgreet through its own $ORIGIN runpath
        outer = "int greet(void);\nint outer(void) { return greet(); }\n"
        self.outer = gcc(
            tmp, "libouter.so", outer, "-shared", "-fPIC", *link, "-Wl,--enable-new-dtags,-rpath,$ORIGIN/greet"
        )
        (tmp / "lib" / "libouter.so").symlink_to(tmp / "libouter.so")
        self.app_outer = gcc(
            tmp, "app-outer", "int outer(void);\nint main(void) { return outer(); }\n", *link, "-louter"
        )
        # a stand-in for bullseye's glibc 2.31: a libc.so.6 that defines GLIBC_2.2.5 ... GLIBC_2.31 only
        old = ("GLIBC_2.2.5", "GLIBC_2.3", "GLIBC_2.17", "GLIBC_2.28", "GLIBC_2.30", "GLIBC_2.31")
        self.old_libc = gcc(
            tmp,
            "old-libc.so.6",
            "int old_glibc(void) { return 0; }\n",
            "-shared",
            "-fPIC",
            "-nostdlib",
            "-Wl,-soname,libc.so.6",
            f"-Wl,--version-script={version_script(tmp, 'libc', *old, symbol='old_glibc')}",
        )
        self.hello = gcc(tmp, "hello", '#include <stdio.h>\nint main(void) { puts("hi"); return 0; }\n')
        self.static = gcc(tmp, "static", "int main(void) { return 0; }\n", "-static")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return Built(tmp_path_factory.mktemp("elf"))


def debian_base() -> list[Entry]:
    """A usrmerged Debian layout: /lib and /lib64 are links, the loader is reached through two links."""
    return [
        ("link", "lib", "usr/lib"),
        ("link", "lib64", "usr/lib64"),
        ("dir", "usr/lib64"),
        ("link", f"usr/lib64/{LOADER.name}", f"../lib/x86_64-linux-gnu/{LOADER.name}"),
        ("file", f"{MULTIARCH}/{LOADER.name}", LOADER.read_bytes()),
        ("file", f"{MULTIARCH}/libc.so.6", LIBC.read_bytes()),
        ("file", "etc/ld.so.conf", b"include /etc/ld.so.conf.d/*.conf\n"),
        ("file", "etc/ld.so.conf.d/libc.conf", b"# libc default configuration\n/usr/local/lib\n"),
    ]


def resolve(fs: ImageFs, path: str, data: bytes, **env: str) -> Loading:
    return resolve_loading(fs, path, inspect_elf(data), env=env)


def test_a_runpath_with_origin_finds_the_library_beside_the_binary(built: Built) -> None:
    fs = image(
        debian_base(),
        [("file", "opt/app/bin/app", built.app_runpath), ("file", "opt/app/lib/libgreet.so.1", built.greet)],
    )
    loading = resolve(fs, "/opt/app/bin/app", built.app_runpath)
    assert loading.loads, loading.problems
    assert loading.interpreter == f"/{MULTIARCH}/{LOADER.name}"  # through /lib64 and the loader's own link
    assert loading.resolved["libgreet.so.1"] == "/opt/app/lib/libgreet.so.1"
    assert loading.resolved["libc.so.6"] == "/lib/x86_64-linux-gnu/libc.so.6"  # the first default folder
    assert loading.resolved["ld-linux-x86-64.so.2"] == INTERP  # libc's need: the loader, loaded once


def test_a_runpath_folder_without_the_library_names_the_expanded_folder(built: Built) -> None:
    fs = image(debian_base(), [("file", "opt/app/bin/app", built.app_runpath)])
    loading = resolve(fs, "/opt/app/bin/app", built.app_runpath)
    (problem,) = loading.problems
    assert problem.kind == "missing" and problem.library == "libgreet.so.1" and problem.looked_in[0] == "/opt/app/lib"
    assert problem.text().startswith(
        "libgreet.so.1 (needed by /opt/app/bin/app) is not in the image; looked in /opt/app/lib, /usr/local/lib, "
        "/lib/x86_64-linux-gnu, /usr/lib/x86_64-linux-gnu"
    )
    assert fixes_for(loading.problems) == ["add libgreet.so.1 to the runtime image, or link it statically"]
    assert fixes_for(loading.problems, packages={"libgreet.so.1": "libgreet1"}, runtime="debian:bookworm-slim") == [
        "install libgreet1 in the runtime stage (debian:bookworm-slim): the builder's libgreet.so.1 comes from it"
    ]


def test_ld_so_conf_includes_are_followed_and_a_glob_matching_nothing_is_fine(built: Built) -> None:
    conf = b"include /etc/ld.so.conf.d/*.conf\ninclude /etc/nothing/*.conf\ninclude more.d/*.conf\n"
    fs = image(
        debian_base(),
        [
            ("file", "etc/ld.so.conf", conf),
            ("file", "etc/more.d/greet.conf", b"/opt/greet/lib  # a comment\n"),
            ("file", "opt/greet/lib/libgreet.so.1", built.greet),
            ("file", "usr/local/bin/app", built.app_plain),
        ],
    )
    assert conf_folders(fs) == ("/usr/local/lib", "/opt/greet/lib")
    loading = resolve(fs, "/usr/local/bin/app", built.app_plain)
    assert loading.loads and loading.resolved["libgreet.so.1"] == "/opt/greet/lib/libgreet.so.1"


def test_an_include_loop_ends(built: Built) -> None:
    fs = image(
        debian_base(),
        [("file", "etc/ld.so.conf", b"include /etc/ld.so.conf\n/opt/x\ninclude /etc/ld.so.conf.d/*.conf\n")],
    )
    assert conf_folders(fs) == ("/opt/x", "/usr/local/lib")


@pytest.mark.parametrize(("app", "found"), [("rpath", "/opt/a"), ("runpath", "/opt/b")])
def test_rpath_comes_before_ld_library_path_and_runpath_after_it(built: Built, app: str, found: str) -> None:
    data = built.app_rpath if app == "rpath" else built.app_runpath
    fs = image(
        debian_base(),
        [
            ("file", "opt/a/libgreet.so.1", built.greet),
            ("file", "opt/b/libgreet.so.1", built.greet),
            ("file", "opt/lib/libgreet.so.1", built.greet),  # the runpath's $ORIGIN/../lib for /opt/bin/app
            ("file", "opt/bin/app", data),
        ],
    )
    loading = resolve(fs, "/opt/bin/app", data, LD_LIBRARY_PATH="/opt/b")
    assert loading.resolved["libgreet.so.1"] == f"{found}/libgreet.so.1"


def test_a_librarys_own_needs_are_found_through_its_own_origin(built: Built) -> None:
    fs = image(
        debian_base(),
        [
            ("file", "usr/local/lib/libouter.so", built.outer),
            ("file", "usr/local/lib/greet/libgreet.so.1", built.greet),
            ("file", "usr/local/bin/app", built.app_outer),
        ],
    )
    loading = resolve(fs, "/usr/local/bin/app", built.app_outer)
    assert loading.loads, loading.problems
    assert loading.resolved["libouter.so"] == "/usr/local/lib/libouter.so"
    assert loading.resolved["libgreet.so.1"] == "/usr/local/lib/greet/libgreet.so.1"
    assert "libgreet.so.1" not in inspect_elf(built.app_outer).needed  # only libouter's need: found by its runpath


def test_a_library_older_than_the_one_linked_against_lacks_its_version(built: Built) -> None:
    fs = image(debian_base(), [("file", f"{MULTIARCH}/libgreet.so.1", built.greet_v1), ("file", "app", built.app_v2)])
    loading = resolve(fs, "/app", built.app_v2)
    (problem,) = loading.problems
    assert problem.kind == "version" and problem.versions_needed == ("GREET_2",)
    assert problem.text() == (
        "/lib/x86_64-linux-gnu/libgreet.so.1 lacks GREET_2 needed by /app; it provides up to GREET_1 (1 GREET versions)"
    )
    fs = image(debian_base(), [("file", f"{MULTIARCH}/libgreet.so.1", built.greet_v2), ("file", "app", built.app_v2)])
    assert resolve(fs, "/app", built.app_v2).loads


def test_a_binary_built_on_a_newer_glibc_than_the_runtimes(built: Built) -> None:
    base = [e for e in debian_base() if e[1] != f"{MULTIARCH}/libc.so.6"]
    fs = image(base, [("file", f"{MULTIARCH}/libc.so.6", built.old_libc), ("file", "usr/local/bin/hello", built.hello)])
    loading = resolve(fs, "/usr/local/bin/hello", built.hello)
    problems = [p for p in loading.problems if p.needed_by == "/usr/local/bin/hello"]
    assert [p.kind for p in problems] == ["version"], loading.problems
    assert "GLIBC_2.34" in problems[0].versions_needed
    assert problems[0].text().endswith("it provides up to GLIBC_2.31 (6 GLIBC versions)")
    assert glibc_version("GLIBC_2.31") == (2, 31) and glibc_version("GLIBC_PRIVATE") is None
    assert sorted(["GLIBC_2.34", "GLIBC_2.4", "GLIBC_2.17"], key=lambda v: glibc_version(v) or ()) == [
        "GLIBC_2.4",
        "GLIBC_2.17",
        "GLIBC_2.34",
    ]
    (fix,) = fixes_for(loading.problems)
    assert "rust:1-bookworm with debian:bookworm-slim" in fix and "static strategy" in fix


@pytest.mark.parametrize(
    ("entries", "kind", "words"),
    [
        ([("link", f"{MULTIARCH}/libgreet.so.1", "libgreet.so.1.0")], "missing", "is a dangling link"),
        (
            [
                ("link", f"{MULTIARCH}/libgreet.so.1", "libloop.so"),
                ("link", f"{MULTIARCH}/libloop.so", "libgreet.so.1"),
            ],
            "missing",
            "is a link loop",
        ),
        ([("file", f"{MULTIARCH}/libgreet.so.1", b"\x7fELF\x02\x01\x01")], "unreadable", "malformed or truncated ELF"),
        ([("file", f"{MULTIARCH}/libgreet.so.1", b"not a library\n")], "unreadable", "is not an ELF file"),
        ([("dir", f"{MULTIARCH}/libgreet.so.1")], "unreadable", "is not a regular file"),
    ],
)
def test_unusual_files_where_a_library_should_be_cannot_load(
    built: Built, entries: list[Entry], kind: str, words: str
) -> None:
    fs = image(debian_base(), [*entries, ("file", "app", built.app_plain)])
    loading = resolve(fs, "/app", built.app_plain)
    (problem,) = loading.problems
    assert problem.kind == kind and words in problem.text(), problem.text()
    assert "libgreet.so.1" in problem.text()


def test_the_interpreter_missing_or_broken(built: Built) -> None:
    base = [e for e in debian_base() if e[1] != f"usr/lib64/{LOADER.name}"]
    loading = resolve(image(base, [("file", "app", built.hello)]), "/app", built.hello)
    assert [p.kind for p in loading.problems] == ["interpreter"]
    assert loading.problems[0].text().startswith(f"the interpreter {INTERP} (of /app) cannot load: {INTERP}")
    assert loading.interpreter is None


def test_a_library_for_another_machine_is_passed_over(built: Built) -> None:
    other = bytearray(built.greet)
    other[18:20] = (183).to_bytes(2, "little")  # e_machine: EM_AARCH64
    fs = image(
        debian_base(),
        [
            ("file", "opt/app/lib/libgreet.so.1", bytes(other)),
            ("file", f"{MULTIARCH}/libgreet.so.1", built.greet),
            ("file", "opt/app/bin/app", built.app_runpath),
        ],
    )
    loading = resolve(fs, "/opt/app/bin/app", built.app_runpath)
    assert loading.loads and loading.resolved["libgreet.so.1"] == "/lib/x86_64-linux-gnu/libgreet.so.1"


def test_a_whiteout_or_an_opaque_folder_hides_a_lower_layers_library(built: Built) -> None:
    lower = [*debian_base(), ("file", "opt/app/lib/libgreet.so.1", built.greet)]
    app = ("file", "opt/app/bin/app", built.app_runpath)
    assert resolve(image(lower, [app]), "/opt/app/bin/app", built.app_runpath).loads
    for hiding in (("whiteout", "opt/app/lib/libgreet.so.1"), ("opaque", "opt/app/lib"), ("whiteout", "opt/app")):
        fs = image(lower, [hiding], [app])
        loading = resolve(fs, "/opt/app/bin/app", built.app_runpath)
        assert [p.library for p in loading.problems] == ["libgreet.so.1"], hiding


def test_a_static_binary_has_nothing_to_resolve(built: Built) -> None:
    loading = resolve(image([("file", "app", built.static)]), "/app", built.static)
    assert loading == Loading(None, {}) and loading.loads


def test_dpkg_search_output_gives_each_file_its_package() -> None:
    output = (
        "libgomp1:amd64: /usr/lib/x86_64-linux-gnu/libgomp.so.1\n"
        "diversion by dash from: /bin/sh\n"
        "libssl3:amd64, libssl3t64:amd64: /usr/lib/x86_64-linux-gnu/libssl.so.3\n"
        "libc6:amd64: /lib/x86_64-linux-gnu/libc.so.6\n"
        "dpkg-query: no path found matching pattern */libnothere.so\n"
    )
    assert parse_dpkg_search(output) == {"libgomp.so.1": "libgomp1", "libssl.so.3": "libssl3", "libc.so.6": "libc6"}
    assert parse_dpkg_search("") == {}


def test_the_executables_origin_is_its_real_folder_when_it_is_reached_through_a_link(built: Built) -> None:
    fs = image(
        debian_base(),
        [
            ("file", "opt/app/bin/app", built.app_runpath),
            ("file", "opt/app/lib/libgreet.so.1", built.greet),
            ("link", "usr/local/bin/app", "/opt/app/bin/app"),
        ],
    )
    loading = resolve(fs, "/usr/local/bin/app", built.app_runpath)
    assert loading.loads and loading.resolved["libgreet.so.1"] == "/opt/app/lib/libgreet.so.1"


@pytest.mark.parametrize("codec", ["gzip", "zstd"])
def test_libraries_in_compressed_layers_are_found(built: Built, codec: str) -> None:
    app = [("file", "opt/app/bin/app", built.app_runpath), ("file", "opt/app/lib/libgreet.so.1", built.greet)]
    fs = image(debian_base(), app, codecs=[codec, codec])
    assert not fs.unreadable
    loading = resolve(fs, "/opt/app/bin/app", built.app_runpath)
    assert loading.loads, loading.problems
    assert loading.resolved["libgreet.so.1"] == "/opt/app/lib/libgreet.so.1"


def hide_zstd(monkeypatch: pytest.MonkeyPatch) -> None:
    """This Python as one without a zstd decoder: neither zstandard nor Python 3.14's compression.zstd."""
    for module in ("zstandard", "compression.zstd"):
        monkeypatch.setitem(sys.modules, module, None)


def test_a_zstd_layer_without_a_decoder_means_cannot_tell(built: Built, monkeypatch: pytest.MonkeyPatch) -> None:
    app = [("file", "opt/app/bin/app", built.app_runpath), ("file", "opt/app/lib/libgreet.so.1", built.greet)]
    archive_name = f"{2:064x}.tar"
    archive = image_archive(debian_base(), app, codecs=["", "zstd"])
    hide_zstd(monkeypatch)
    fs = read_image_fs(archive)
    assert list(fs.unreadable) == [archive_name] and "pytest-rustimage[zstd]" in fs.unreadable[archive_name]
    loading = resolve(fs, "/opt/app/bin/app", built.app_runpath)
    (problem,) = loading.problems  # not a pass, and no "missing" libgreet that the layer might hold
    assert not loading.loads and loading.cannot_tell and problem.kind == "layer" and not loading.resolved
    assert problem.text() == (
        f"cannot tell whether /opt/app/bin/app loads: the image's layer {archive_name} could not be read "
        f"({fs.unreadable[archive_name]})"
    )
    assert "zstd-compressed" in problem.text()
    assert resolve(fs, "/app", built.static).loads  # a static binary needs nothing from any layer

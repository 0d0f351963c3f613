"""inspect_elf on real binaries built here with gcc, musl-gcc and rustc."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from pytest_rustimage.errors import NotAnElfError
from pytest_rustimage.inspect.elf import ElfFacts, debug_bytes, inspect_elf, is_debug_section

HELLO_C = '#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n'
# strerror() pulls in libc's error table, whose texts differ between libcs.
STRERROR_C = (
    "#include <stdio.h>\n#include <string.h>\nint main(int argc, char **argv) { puts(strerror(argc - 1)); return 0; }\n"
)
HELLO_RS = 'fn main() { println!("hello"); }\n'

GLIBC_INTERP = "/lib64/ld-linux-x86-64.so.2"


@dataclass(frozen=True)
class Built:
    """A binary built once for the session, or why it could not be."""

    path: Path | None
    skip_reason: str = ""

    def facts(self) -> ElfFacts:
        if self.path is None:
            pytest.skip(self.skip_reason)
        return inspect_elf(self.path.read_bytes(), name=self.path.name)


# name -> (compiler, flags, source file); each is built once per session.
BUILDS: dict[str, tuple[str, list[str], str]] = {
    "gcc-dynamic": ("gcc", [], "hello.c"),
    "gcc-static": ("gcc", ["-static", "-no-pie"], "hello.c"),
    "gcc-static-pie": ("gcc", ["-static-pie"], "hello.c"),
    "gcc-static-stripped": ("gcc", ["-static", "-no-pie", "-s"], "hello.c"),
    "rust-dynamic": ("rustc", ["-O"], "hello.rs"),
    "rust-crt-static": ("rustc", ["-O", "-Ctarget-feature=+crt-static"], "hello.rs"),
    "rust-debug": ("rustc", ["-O", "-g"], "hello.rs"),
    "rust-strip": ("rustc", ["-O", "-Cstrip=symbols"], "hello.rs"),
    "musl-dynamic": ("musl-gcc", [], "hello.c"),
    "musl-static": ("musl-gcc", ["-static"], "hello.c"),
    "musl-strerror": ("musl-gcc", ["-static", "-s"], "strerror.c"),
}
INSTALL_HINTS = {"musl-gcc": " (Debian: apt-get install musl-tools)"}


def _build(root: Path, name: str) -> Built:
    compiler, flags, source = BUILDS[name]
    if shutil.which(compiler) is None:
        hint = INSTALL_HINTS.get(compiler, "")
        return Built(None, f"{compiler} is not on PATH{hint}")
    out = root / name
    command = [compiler, *flags, str(root / source), "-o", str(out)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        # A compiler that is present but cannot build is a broken host: fail.
        pytest.fail(f"{' '.join(command)} failed:\n{result.stderr}")
    return Built(out)


@pytest.fixture(scope="session")
def binaries(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Built]:
    root = tmp_path_factory.mktemp("elf")
    (root / "hello.c").write_text(HELLO_C)
    (root / "strerror.c").write_text(STRERROR_C)
    (root / "hello.rs").write_text(HELLO_RS)
    return {name: _build(root, name) for name in BUILDS}


def test_gcc_dynamic(binaries: dict[str, Built]) -> None:
    facts = binaries["gcc-dynamic"].facts()
    assert facts.linkage == "dynamic"
    assert facts.interpreter == GLIBC_INTERP
    assert facts.needed == ("libc.so.6",)
    assert facts.libc == "glibc"
    assert facts.machine == "x86_64"
    assert facts.elf_type == "DYN"  # Debian's gcc builds PIE by default
    assert facts.stripped is False


def test_gcc_static(binaries: dict[str, Built]) -> None:
    facts = binaries["gcc-static"].facts()
    assert facts.linkage == "static"
    assert facts.interpreter is None
    assert facts.needed == ()
    assert facts.libc == "glibc"
    assert facts.machine == "x86_64"
    assert facts.elf_type == "EXEC"


def test_gcc_static_pie(binaries: dict[str, Built]) -> None:
    facts = binaries["gcc-static-pie"].facts()
    assert facts.linkage == "static-pie"
    assert facts.interpreter is None
    assert facts.needed == ()
    assert facts.libc == "glibc"
    assert facts.elf_type == "DYN"


def test_stripped_static_glibc(binaries: dict[str, Built]) -> None:
    built = binaries["gcc-static-stripped"]
    facts = built.facts()
    assert facts.linkage == "static"
    assert facts.libc == "glibc"
    assert facts.stripped is True
    assert facts.build_id is not None  # notes survive strip
    assert built.path is not None
    readelf = shutil.which("readelf")
    if readelf is not None:
        notes = subprocess.run([readelf, "-n", str(built.path)], capture_output=True, text=True, check=True).stdout
        assert f"Build ID: {facts.build_id}" in notes


def test_rust_dynamic(binaries: dict[str, Built]) -> None:
    facts = binaries["rust-dynamic"].facts()
    assert facts.linkage == "dynamic"
    assert facts.interpreter == GLIBC_INTERP
    assert "libc.so.6" in facts.needed
    assert facts.libc == "glibc"
    assert facts.machine == "x86_64"
    assert facts.elf_type == "DYN"


def test_rust_crt_static_is_static_pie(binaries: dict[str, Built]) -> None:
    facts = binaries["rust-crt-static"].facts()
    assert facts.linkage == "static-pie"
    assert facts.interpreter is None
    assert facts.needed == ()
    assert facts.libc == "glibc"
    assert facts.machine == "x86_64"
    assert facts.elf_type == "DYN"
    assert facts.build_id is not None
    assert re.fullmatch("[0-9a-f]{40}", facts.build_id)  # sha1, lowercase hex


def test_musl_dynamic(binaries: dict[str, Built]) -> None:
    facts = binaries["musl-dynamic"].facts()
    assert facts.linkage == "dynamic"
    assert facts.interpreter == "/lib/ld-musl-x86_64.so.1"
    assert facts.needed == ("libc.so",)  # Debian's musl soname says nothing
    assert facts.libc == "musl"  # so the interpreter decides


def test_musl_static(binaries: dict[str, Built]) -> None:
    facts = binaries["musl-static"].facts()
    assert facts.linkage == "static"
    assert facts.interpreter is None
    assert facts.needed == ()
    assert facts.libc == "musl"  # by the __init_libc symbol
    assert facts.machine == "x86_64"
    assert facts.elf_type == "EXEC"
    assert facts.stripped is False


def test_musl_static_stripped_with_strerror(binaries: dict[str, Built]) -> None:
    facts = binaries["musl-strerror"].facts()
    assert facts.linkage == "static"
    assert facts.stripped is True
    assert facts.libc == "musl"  # by musl's strerror text "No error information"


def test_script_is_not_elf() -> None:
    with pytest.raises(NotAnElfError) as info:
        inspect_elf(b"#!/bin/sh\necho hi\n", name="entrypoint.sh")
    message = str(info.value)
    assert "entrypoint.sh is not an ELF file" in message
    assert "#!/bin/sh" in message


def test_empty_is_not_elf() -> None:
    with pytest.raises(NotAnElfError, match="app is not an ELF file: it is empty"):
        inspect_elf(b"", name="app")


def test_other_bytes_are_named() -> None:
    with pytest.raises(NotAnElfError, match=r"starts with b'PK\\x03\\x04"):
        inspect_elf(b"PK\x03\x04rest-of-a-zip", name="app.zip")


@pytest.mark.parametrize("size", [2, 4, 10, 40, 63])
def test_truncated_header_is_not_elf(binaries: dict[str, Built], size: int) -> None:
    path = binaries["gcc-dynamic"].path
    if path is None:
        pytest.skip(binaries["gcc-dynamic"].skip_reason)
    with pytest.raises(NotAnElfError, match="hello-cut is not an ELF file"):
        inspect_elf(path.read_bytes()[:size], name="hello-cut")


def test_truncated_body_is_not_elf(binaries: dict[str, Built]) -> None:
    path = binaries["gcc-static"].path
    if path is None:
        pytest.skip(binaries["gcc-static"].skip_reason)
    with pytest.raises(NotAnElfError, match="truncated"):
        inspect_elf(path.read_bytes()[:4096], name="cut")


def test_object_file_is_not_an_executable(tmp_path: Path) -> None:
    if shutil.which("gcc") is None:
        pytest.skip("gcc is not on PATH")
    source = tmp_path / "lib.c"
    source.write_text("int f(void) { return 1; }\n")
    obj = tmp_path / "lib.o"
    subprocess.run(["gcc", "-c", str(source), "-o", str(obj)], check=True)
    expected = r"lib\.o is not an ELF executable: .*ET_REL"
    with pytest.raises(NotAnElfError, match=expected):
        inspect_elf(obj.read_bytes(), name="lib.o")


def _readelf_sections(path: Path) -> dict[str, int]:
    """Section name -> size as binutils' readelf prints them (``-W -S``), without NOBITS and NULL."""
    out = subprocess.run(["readelf", "-W", "-S", str(path)], capture_output=True, text=True, check=True).stdout
    sizes: dict[str, int] = {}
    for line in out.splitlines():
        match = re.match(r"\s*\[\s*\d+\]\s+(\S+)\s+(\S+)\s+[0-9a-f]+\s+[0-9a-f]+\s+([0-9a-f]+)", line)
        if match and "NULL" not in (match[1], match[2]) and match[2] != "NOBITS":
            sizes[match[1]] = sizes.get(match[1], 0) + int(match[3], 16)
    return sizes


@pytest.mark.parametrize("name", ["rust-dynamic", "rust-debug", "rust-strip", "gcc-static-stripped"])
def test_sections_are_what_readelf_says(binaries: dict[str, Built], name: str) -> None:
    if shutil.which("readelf") is None:
        pytest.skip("readelf is not on PATH (Debian: binutils)")
    facts = binaries[name].facts()
    path = binaries[name].path
    assert path is not None
    assert dict(facts.sections) == _readelf_sections(path)
    assert ".text" in facts.sections and ".bss" not in facts.sections  # NOBITS takes no bytes of the file
    assert sum(facts.sections.values()) < path.stat().st_size  # headers and padding are not sections


def test_debug_info_and_symbols_are_counted(binaries: dict[str, Built]) -> None:
    debug = binaries["rust-debug"].facts()
    stripped = binaries["rust-strip"].facts()
    assert debug.stripped is False and stripped.stripped is True
    wanted = sum(size for name, size in debug.sections.items() if name.startswith(".debug_"))
    wanted += debug.sections[".symtab"] + debug.sections[".strtab"]
    assert debug.debug_size == wanted > 0
    assert debug.debug_size > 0.3 * sum(debug.sections.values())  # -g: most of a small binary
    assert stripped.debug_size == 0 and not any(is_debug_section(n) for n in stripped.sections)


def test_debug_bytes_names() -> None:
    sections = {".text": 100, ".debug_info": 10, ".zdebug_line": 5, ".symtab": 3, ".strtab": 2, ".dynstr": 7}
    assert debug_bytes(sections) == 20  # .dynstr is needed by the loader: strip keeps it
    assert debug_bytes({}) == 0

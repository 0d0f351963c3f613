"""compare_binaries, causes and explain (and the strings they classify) on real binaries built twice here
with gcc and rustc."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pytest_rustimage.inspect.repro import SHOWN, BinaryDiff, causes, compare_binaries, explain
from pytest_rustimage.inspect.repro_files import FileEntry, compare_files
from pytest_rustimage.inspect.repro_strings import StringDiff, classify

NOW = 1_765_036_800.0  # 2026-12-06, so the tests do not depend on the clock

STAMPED_C = '#include <stdio.h>\nint main(void) { puts("built " __DATE__ " " __TIME__); return 0; }\n'
FILE_C = '#include <stdio.h>\nint main(void) { puts("source: " __FILE__); return 0; }\n'
DEFINED_C = '#include <stdio.h>\nint main(void) { puts("greeting: " GREETING); return 0; }\n'
# square() is a function of its own at -O0 and inlined away at -O2
OPT_C = """#include <stdio.h>
static int square(int x) { return x * x; }
int main(int argc, char **argv) { int s = 0; for (int i = 0; i < argc * 100; i++) s += square(i);
  printf("sum %d\\n", s); return 0; }
"""
FILE_RS = 'fn main() { println!("{}", file!()); }\n'


def build(
    root: Path, folder: str, source: str, *flags: str, env: dict[str, str] | None = None, name: str = "m.c"
) -> bytes:
    """``source`` written to ``root/folder/name`` and compiled by its absolute path (gcc, or rustc
    for ``.rs``); the binary's bytes."""
    compiler = "rustc" if name.endswith(".rs") else "gcc"
    if shutil.which(compiler) is None:
        pytest.skip(f"{compiler} is not on PATH")
    where = root / folder
    where.mkdir(parents=True, exist_ok=True)
    (where / name).write_text(source)
    out = where / f"out{len(list(where.iterdir()))}"
    command = [compiler, *flags, str(where / name), "-o", str(out)]
    result = subprocess.run(command, capture_output=True, text=True, check=False, env={**os.environ, **(env or {})})
    if result.returncode != 0:
        pytest.fail(f"{' '.join(command)} failed:\n{result.stderr}")
    return out.read_bytes()


def kinds(diff: BinaryDiff) -> set[str]:
    return {s.kind for s in diff.strings}


def test_same_folder_same_source_is_identical(tmp_path: Path) -> None:
    first = build(tmp_path, "x", FILE_C)
    second = build(tmp_path, "x", FILE_C)
    diff = compare_binaries(first, second)
    assert diff.identical and diff.elf and diff.differing_bytes == 0
    assert diff.sections == () and diff.strings == () and causes(diff) == []
    assert explain(diff) == f"The binaries are identical ({len(first)} bytes)."


def test_embedded_build_time_is_a_timestamp(tmp_path: Path) -> None:
    # gcc takes __DATE__ and __TIME__ from SOURCE_DATE_EPOCH: two builds at two known moments
    first = build(tmp_path, "x", STAMPED_C, env={"SOURCE_DATE_EPOCH": "1700000000"})
    second = build(tmp_path, "x", STAMPED_C, env={"SOURCE_DATE_EPOCH": "1700003661"})
    diff = compare_binaries(first, second, now=NOW)
    assert not diff.identical and diff.elf
    assert diff.strings == (
        StringDiff("timestamp", "built Nov 14 2023 22:13:20", "built Nov 14 2023 23:14:21", ".rodata"),
    )
    assert [s.name for s in diff.sections] == [".note.gnu.build-id", ".rodata"]
    assert diff.build_ids is not None and diff.build_ids[0] != diff.build_ids[1]
    assert [c.kind for c in causes(diff)] == ["timestamp"]
    text = explain(diff, labels=("first build", "second build"))
    assert "'built Nov 14 2023 22:13:20' vs 'built Nov 14 2023 23:14:21'" in text
    assert "SOURCE_DATE_EPOCH" in text and "SystemTime::now()" in text
    assert "a consequence, not a cause" in text


def test_embedded_build_folder_is_a_build_path_with_the_folders_to_remap(tmp_path: Path) -> None:
    first = build(tmp_path, "one", FILE_C)
    second = build(tmp_path, "two", FILE_C)
    diff = compare_binaries(first, second)
    (found,) = diff.strings
    assert found.kind == "build path"
    assert (found.a, found.b) == (f"source: {tmp_path}/one/m.c", f"source: {tmp_path}/two/m.c")
    (cause,) = causes(diff)
    assert cause.kind == "build path"
    assert f"--remap-path-prefix={tmp_path}/one=/build --remap-path-prefix={tmp_path}/two=/build" in cause.fix
    text = explain(diff)
    assert found.describe() in text and "/one/m.c'" in text and "/two/m.c'" in text  # long paths are cut
    assert "RUSTFLAGS" in text and "fixed path" in text


def test_debug_info_records_the_build_folder_even_for_a_relative_source(tmp_path: Path) -> None:
    if shutil.which("gcc") is None:
        pytest.skip("gcc is not on PATH")
    built = []
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "m.c").write_text(OPT_C)
        subprocess.run(["gcc", "-g", "-O2", "m.c", "-o", "out"], cwd=tmp_path / folder, check=True)
        built.append((tmp_path / folder / "out").read_bytes())
    diff = compare_binaries(*built)
    assert diff.strings == (StringDiff("build path", f"{tmp_path}/one", f"{tmp_path}/two", ".debug_line_str"),)
    (cause,) = causes(diff)
    assert cause.evidence.endswith("in .debug_line_str")
    assert f"--remap-path-prefix={tmp_path}/one=/build" in cause.fix and 'strip = "debuginfo"' in cause.fix


def test_a_relative_path_is_a_build_path_only_under_a_named_build_root() -> None:
    assert classify("built in work/one/target", ()) == "other"
    assert classify("built in work/one/target", ("work/one",)) == "build path"


def test_a_defined_value_is_other_and_quoted(tmp_path: Path) -> None:
    first = build(tmp_path, "x", DEFINED_C, '-DGREETING="hello world"')
    second = build(tmp_path, "x", DEFINED_C, '-DGREETING="hello there"')
    diff = compare_binaries(first, second)
    assert diff.strings == (StringDiff("other", "greeting: hello world", "greeting: hello there", ".rodata"),)
    (cause,) = causes(diff)
    assert cause.kind == "other" and "'greeting: hello world' vs 'greeting: hello there'" in cause.evidence
    assert "env!" in cause.fix


def test_an_epoch_number_is_a_timestamp_only_near_now(tmp_path: Path) -> None:
    first = build(tmp_path, "x", DEFINED_C, '-DGREETING="stamp 1765000000"')
    second = build(tmp_path, "x", DEFINED_C, '-DGREETING="stamp 1765003600"')
    assert kinds(compare_binaries(first, second, now=NOW)) == {"timestamp"}
    assert kinds(compare_binaries(first, second, now=NOW + 20 * 365 * 86400)) == {"other"}


def test_optimisation_levels_are_codegen_with_the_inlined_function_named(tmp_path: Path) -> None:
    first = build(tmp_path, "x", OPT_C, "-O0")
    second = build(tmp_path, "x", OPT_C, "-O2")
    diff = compare_binaries(first, second)
    assert kinds(diff) == {"symbol"}  # no embedded text differs
    assert any(s.a == "square" and s.b is None for s in diff.strings)
    assert ".text" in {s.name for s in diff.changed_sections}
    (cause,) = causes(diff)
    assert cause.kind == "codegen"
    assert ".text (" in cause.evidence and "'square' (only in a)" in cause.evidence
    text = explain(diff, labels=("-O0", "-O2"))
    assert "codegen differs: compare toolchain/flags/features" in text
    assert "'square' (only in -O0)" in text


def test_a_random_build_id_alone_is_named_with_its_linker_fix(tmp_path: Path) -> None:
    first = build(tmp_path, "x", FILE_C, "-Wl,--build-id=uuid")
    second = build(tmp_path, "x", FILE_C, "-Wl,--build-id=uuid")
    diff = compare_binaries(first, second)
    assert [s.name for s in diff.sections] == [".note.gnu.build-id"] and diff.strings == ()
    assert diff.changed_sections == ()
    (cause,) = causes(diff)
    assert cause.kind == "build id" and "--build-id=sha1" in cause.fix


def test_rust_file_macro_from_two_folders_is_a_build_path(tmp_path: Path) -> None:
    first = build(tmp_path, "a", FILE_RS, "-O", name="main.rs")
    second = build(tmp_path, "b", FILE_RS, "-O", name="main.rs")
    diff = compare_binaries(first, second)
    paths = diff.strings_of("build path")
    assert (paths[0].a, paths[0].b) == (f"{tmp_path}/a/main.rs", f"{tmp_path}/b/main.rs")
    assert kinds(diff) == {"build path"}
    assert [c.kind for c in causes(diff)] == ["build path"]
    assert f"--remap-path-prefix={tmp_path}/a=/build" in explain(diff)


def test_rust_debug_and_release_are_codegen_not_an_input(tmp_path: Path) -> None:
    first = build(tmp_path, "a", FILE_RS, name="main.rs")
    second = build(tmp_path, "a", FILE_RS, "-O", name="main.rs")
    diff = compare_binaries(first, second)
    assert "other" not in kinds(diff)  # string constants that took in a neighbour are left out
    assert [c.kind for c in causes(diff)] == ["codegen"]


def test_explain_tells_the_binary_then_the_files(tmp_path: Path) -> None:
    first = build(tmp_path, "x", DEFINED_C, '-DGREETING="hello world"')
    second = build(tmp_path, "x", DEFINED_C, '-DGREETING="hello there"')
    hello = FileEntry("/usr/local/bin/hello", "file", len(first), 0o755, digest="sha256:aa")
    files = compare_files([hello], [FileEntry(hello.path, "file", len(second), 0o755, digest="sha256:bb")])
    lines = explain(compare_binaries(first, second), files, ("docker", "podman")).splitlines()
    assert lines[0].startswith("The binaries differ (docker vs podman): ")
    assert "    other: 'greeting: hello world' vs 'greeting: hello there'" in lines
    cause = lines.index(
        "Likely cause (other): embedded text differs: 'greeting: hello world' vs 'greeting: hello there' in .rodata"
    )
    assert lines[cause + 1].startswith("  fix: an input the binary embeds differs")
    assert lines[-3:] == [
        "The images' files differ:",
        "  changed (1):",
        "    /usr/local/bin/hello: content differs (aa vs bb)",
    ]


def test_not_elf_is_compared_by_bytes_with_strings_classified() -> None:
    a = b"\x00\x01version 1.0 built on 2026-12-06T16:04:05Z\x00/home/alice/src/app\x00"
    b = b"\x00\x01version 1.0 built on 2026-12-07T09:00:00Z\x00/home/bob/src/app\x00"
    diff = compare_binaries(a, b, now=NOW)
    assert not diff.elf and diff.sections == () and diff.build_ids is None
    assert [(s.kind, s.section) for s in diff.strings] == [("timestamp", ""), ("build path", "")]
    assert diff.first_difference == len(b"\x00\x01version 1.0 built on 2026-12-0")
    assert "not both ELF files" in explain(diff)
    assert [c.kind for c in causes(diff)] == ["timestamp", "build path"]


def test_no_strings_no_sections_names_the_bytes() -> None:
    diff = compare_binaries(b"\x00\x01\x02\x03", b"\x00\x09\x02\x03\x04")
    (cause,) = causes(diff)
    assert cause.kind == "bytes" and cause.evidence == "1 byte differs, the first at offset 1 (sizes 4 and 5)"


def test_strings_are_capped_per_kind_and_totalled() -> None:
    a = b"\x00".join(f"/build/one/file{i}.rs".encode() for i in range(8)) + b"\x00hello world\x00"
    b = b"\x00".join(f"/build/two/file{i}.rs".encode() for i in range(8)) + b"\x00hello there\x00"
    diff = compare_binaries(a, b)
    assert len(diff.strings_of("build path")) == SHOWN
    assert diff.string_totals == {"build path": 8, "other": 1}
    assert "(and 3 more)" in causes(diff)[0].evidence


def test_a_string_that_took_in_a_neighbour_byte_is_not_evidence() -> None:
    diff = compare_binaries(b"\x01assertion failed: x\x02", b"\x01assertion failed: xb\x02")
    assert diff.strings == () and not diff.identical


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("built 2026-12-06T16:04:05+01:00", "timestamp"),
        ("date 2026-12-06", "timestamp"),
        ("Dec  6 2026", "timestamp"),
        ("at 16:04:05 today", "timestamp"),
        ("Sun, 6 Dec 2026 16:04:05 +0000", "timestamp"),
        ("epoch=1765036000", "timestamp"),
        ("epoch=4000000000", "other"),
        ("rustc version 1.95.0 (59807616e 2026-04-14)", "toolchain"),
        ("GCC: (Debian 12.2.0-14+deb12u1) 12.2.0", "toolchain"),
        ("/rustc/59807616e1e7bdb4b4d5fbd7e8e6ce3d4f0aa8b2/library/std/src/rt.rs", "toolchain"),
        ("/tmp/build/src/main.rs", "build path"),
        ("/home/alice/app", "build path"),
        ("_ZN5hello4main17h0123456789abcdefE", "symbol"),
        ("hello world", "other"),
        ("ratio 12:345", "other"),
    ],
)
def test_classify(text: str, kind: str) -> None:
    assert classify(text, now=NOW) == kind


def test_a_pair_is_classified_by_the_part_that_differs() -> None:
    a = b"\x00/build/2026-12-06/app/main.rs\x00"
    b = b"\x00/build/2026-12-07/app/main.rs\x00"
    (pair,) = compare_binaries(a, b, now=NOW).strings
    assert pair.kind == "timestamp"  # a path, but what differs is its date
    a = b"\x00built 2026-12-06 in /tmp/one/app\x00"
    b = b"\x00built 2026-12-06 in /tmp/two/app\x00"
    (pair,) = compare_binaries(a, b, now=NOW).strings
    assert pair.kind == "build path"  # a date is there, but what differs is the folder
    a = b"\x00rustc version 1.95.0 (59807616e 2026-04-14)\x00"
    b = b"\x00rustc version 1.96.0 (1234abcde 2026-05-26)\x00"
    (pair,) = compare_binaries(a, b, now=NOW).strings
    assert pair.kind == "toolchain"
    assert "rust-toolchain.toml" in causes(compare_binaries(a, b))[0].fix


def test_long_strings_are_quoted_around_what_differs() -> None:
    a = ("x" * 150 + "/one/" + "y" * 150).encode()
    b = ("x" * 150 + "/two/" + "y" * 150).encode()
    (pair,) = compare_binaries(a, b).strings
    shown = pair.describe(40)
    assert "/one/" in shown and "/two/" in shown and shown.count("…") == 4 and len(shown) < 110

"""The size check's line about debug info and symbols: when it is said, and what it says."""

from __future__ import annotations

from pytest_rustimage.checks.size import debug_advice
from pytest_rustimage.inspect.elf import ElfFacts
from pytest_rustimage.inspect.facts import BinaryFacts

MIB = 1024 * 1024


def facts(size: int, sections: dict[str, int]) -> BinaryFacts:
    elf = ElfFacts("x86_64", "DYN", "static-pie", None, (), "glibc", ".symtab" not in sections, None, sections)
    return BinaryFacts(name="rg", path="/usr/local/bin/rg", size=size, sha256="0" * 64, elf=elf)


def test_debug_info_over_a_tenth_is_named_with_the_fix() -> None:
    binary = facts(27 * MIB, {".text": 6 * MIB, ".debug_info": 15 * MIB, ".debug_line": 4 * MIB, ".symtab": MIB})
    assert binary.debug_size == 20 * MIB and not binary.stripped
    assert debug_advice(binary) == (
        "/usr/local/bin/rg (27.0 MiB) carries 20.0 MiB (20971520 bytes, 74%) of debug info and symbols: "
        "`strip = true` (or `debug = 0`) under [profile.release] in Cargo.toml would save about that much."
    )


def test_a_tenth_or_less_says_nothing() -> None:
    assert debug_advice(facts(10 * MIB, {".text": 9 * MIB, ".symtab": MIB})) is None  # exactly 10%
    assert debug_advice(facts(10 * MIB, {".text": 10 * MIB})) is None  # stripped
    assert debug_advice(facts(0, {})) is None

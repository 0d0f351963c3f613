"""Manifests whose keys have the wrong type are refused naming the key, the file and the line."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from pytest_rustimage.crate import read_crate
from pytest_rustimage.crate.locate import file_key_line, key_line
from pytest_rustimage.crate.shape import kind
from pytest_rustimage.errors import CrateError

# --- locate ------------------------------------------------------------------------------------

TEXT = """\
[package]
name = "p"
version.workspace = true

[[bin]]
name = "a"

[[bin]]
path = "src/b.rs"

[package.metadata.rust-image]
max-size = "1MiB"
"args" = ["-V"]

[workspace]
members = ["x"]
metadata.rust-image.bin = "a"
"""


@pytest.mark.parametrize(
    ("dotted", "nth", "line"),
    [
        ("package", 0, 1),
        ("package.name", 0, 2),
        ("package.version.workspace", 0, 3),
        ("bin", 0, 5),
        ("bin", 1, 8),
        ("bin.name", 0, 6),
        ("bin.path", 0, 9),
        ("package.metadata.rust-image", 0, 11),
        ("package.metadata.rust-image.max-size", 0, 12),
        ("package.metadata.rust-image.args", 0, 13),
        ("workspace.members", 0, 16),
        ("workspace.metadata.rust-image.bin", 0, 17),
        ("package.edition", 0, None),
        ("bin", 2, None),
        ("name", 0, None),
    ],
)
def test_key_line(dotted: str, nth: int, line: int | None) -> None:
    assert key_line(TEXT, dotted, nth) == line


def test_file_key_line_of_a_missing_or_binary_file(tmp_path: Path) -> None:
    assert file_key_line(tmp_path / "nowhere.toml", "package") is None
    (tmp_path / "bad.toml").write_bytes(b"[package]\n\xff\n")
    assert file_key_line(tmp_path / "bad.toml", "package") is None


@pytest.mark.parametrize(
    ("value", "name"),
    [
        (True, "boolean"),
        (5, "integer"),
        (1.5, "float"),
        ("x", "string"),
        ([], "array"),
        ({}, "table"),
        (datetime.date(2024, 1, 1), "date-time"),
        (datetime.time(12, 0), "date-time"),
    ],
)
def test_kind(value: object, name: str) -> None:
    assert kind(value) == name


# --- refusals ----------------------------------------------------------------------------------


def crate_with(tmp_path: Path, manifest: str) -> Path:
    (tmp_path / "src").mkdir(exist_ok=True)
    (tmp_path / "src" / "main.rs").write_text("fn main() {}\n")
    (tmp_path / "Cargo.toml").write_text(manifest, encoding="utf-8")
    return tmp_path


def refusal(tmp_path: Path, manifest: str) -> CrateError:
    crate_with(tmp_path, manifest)
    with pytest.raises(CrateError) as info:
        read_crate(tmp_path, use_cargo=False)
    return info.value


PACKAGE = '[package]\nname = "p"\nversion = "0.1.0"\n'


@pytest.mark.parametrize(
    ("manifest", "line", "message"),
    [
        (
            '[package]\nversion = "0.1.0"\nname = 5\n',
            3,
            'package.name must be a string such as "my-tool", not integer 5; fix it in the manifest',
        ),
        ('[package]\nname = ""\n', 2, 'package.name is empty; write a string such as "my-tool"'),
        (
            '[package]\nname = "a\\u0000b"\n',
            2,
            'package.name contains a NUL character; write a string such as "my-tool"',
        ),
        ('package = "p"\n', 1, "package must be a table ([package]), not string 'p'; fix it in the manifest"),
        ('[package]\nversion = "0.1.0"\n', 1, '[package] has no name; add name = "..." under [package]'),
        (
            '[package]\nname = "p"\nversion = 1\n',
            3,
            'package.version must be a string such as "0.1.0" (or version.workspace = true), not integer 1; '
            "fix it in the manifest",
        ),
        (
            PACKAGE + "autobins = 0\n",
            4,
            "package.autobins must be true or false, not integer 0; fix it in the manifest",
        ),
        (
            PACKAGE + 'default-run = ["a"]\n',
            4,
            "package.default-run must be the name of a binary in a string, not array ['a']; fix it in the manifest",
        ),
        (
            PACKAGE + "workspace = false\n",
            4,
            "package.workspace must be the path of the workspace root in a string, not boolean False; "
            "fix it in the manifest",
        ),
        (
            PACKAGE + '\n[[bin]]\nname = "a"\n\n[[bin]]\npath = "src/main.rs"\n',
            8,
            '[[bin]] number 2 has no name; Cargo requires one: add name = "..." to it',
        ),
        (
            PACKAGE + "\n[[bin]]\nname = 7\n",
            5,
            '[[bin]] number 1: name must be a string such as "my-tool", not integer 7; fix it in the manifest',
        ),
        (
            PACKAGE + '\n[[bin]]\nname = "a"\npath = ["src/main.rs"]\n',
            5,
            "[[bin]] number 1: path must be a path in a string, not array ['src/main.rs']; fix it in the manifest",
        ),
        (
            'bin = ["a"]\n' + PACKAGE,
            1,
            "[[bin]] number 1 must be a table, not string 'a'; fix it in the manifest",
        ),
        (
            "bin = 1\n" + PACKAGE,
            1,
            "bin must be an array of tables ([[bin]] sections), not integer 1; fix it in the manifest",
        ),
        (
            '[workspace]\nmembers = "crates/*"\n',
            2,
            'workspace.members must be an array of relative paths such as ["crates/*"], not string '
            "'crates/*'; fix it in the manifest",
        ),
        (
            '[workspace]\nmembers = ["a"]\nexclude = [5]\n',
            3,
            "an entry of workspace.exclude must be a path in a string, not integer 5; fix it in the manifest",
        ),
        ('[workspace]\nmembers = [""]\n', 2, "an entry of workspace.members is empty; write a path in a string"),
        (
            "workspace = []\n",
            1,
            "workspace must be a table ([workspace]), not array []; fix it in the manifest",
        ),
        (
            PACKAGE + '\n[package.metadata]\nrust-image = "static"\n',
            6,
            "package.metadata.rust-image must be a table ([package.metadata.rust-image]), not string 'static'",
        ),
    ],
)
def test_wrong_types_name_key_file_and_line(tmp_path: Path, manifest: str, line: int, message: str) -> None:
    error = refusal(tmp_path, manifest)
    path = (tmp_path / "Cargo.toml").resolve()
    assert (error.path, error.line) == (path, line)
    assert str(error) == f"{path}:{line}: {message}"


def test_a_member_without_package_is_refused(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "Cargo.toml").write_text("[dependencies]\n")
    error = refusal(tmp_path, '[workspace]\nmembers = ["m"]\n')
    assert str(error) == (
        f"{(tmp_path / 'm' / 'Cargo.toml').resolve()}: a workspace member without [package]; add one, "
        "or drop it from workspace.members"
    )


def test_absolute_member_paths_are_read_as_cargo_reads_them(tmp_path: Path) -> None:
    member = tmp_path / "m"
    (member / "src").mkdir(parents=True)
    (member / "src" / "main.rs").write_text("fn main() {}\n")
    (member / "Cargo.toml").write_text('[package]\nname = "m"\nversion = "0.1.0"\n')
    (tmp_path / "Cargo.toml").write_text(f'[workspace]\nmembers = ["{member}"]\n')
    crate = read_crate(tmp_path, use_cargo=False)
    assert [p.name for p in crate.packages] == ["m"]


def test_a_broken_parent_workspace_is_not_this_crates_workspace(tmp_path: Path) -> None:
    (tmp_path / "Cargo.toml").write_text('[workspace]\nmembers = "child"\n')
    (tmp_path / "child").mkdir()
    child = crate_with(tmp_path / "child", PACKAGE)
    crate = read_crate(child, use_cargo=False)
    assert crate.root == child.resolve()

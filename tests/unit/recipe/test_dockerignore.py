"""What .dockerignore (and the plugin's own rules) leave out of a build context, and the files that go in."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from pytest_rustimage.recipe.context import (
    context_files,
)
from pytest_rustimage.recipe.dockerignore import is_excluded, read_dockerignore

if sys.version_info >= (3, 11):
    pass
else:  # pragma: no cover
    pass

from tests.unit.recipe.test_context import CRATE, write

# --- is_excluded -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rel", "patterns", "expected"),
    [
        # always excluded, whatever the patterns say
        ("target", [], True),
        ("target/release/p", [], True),
        (".git", [], True),
        (".git/HEAD", [], True),
        ("target/release/p", ["!target/release/p"], True),
        (".git/config", ["!.git"], True),
        # ... but only at the top, and only those exact names
        ("crates/a/target/x", [], False),
        ("sub/.git/HEAD", [], False),
        (".gitignore", [], False),
        ("targets/x", [], False),
        ("src/main.rs", [], False),
        # simple names
        ("notes.txt", ["notes.txt"], True),
        ("notes.txt", ["other.txt"], False),
        ("notes.txt.bak", ["notes.txt"], False),
        ("notes.txt", ["/notes.txt"], True),
        ("notes.txt", ["./notes.txt"], True),
        # globs
        ("debug.log", ["*.log"], True),
        ("debug.txt", ["*.log"], False),
        ("data1.csv", ["data?.csv"], True),
        ("data10.csv", ["data?.csv"], False),
        ("src/gen_a.rs", ["src/gen_*.rs"], True),
        ("src/main.rs", ["src/gen_*.rs"], False),
        # **/
        ("node_modules", ["**/node_modules"], True),
        ("web/node_modules/x/index.js", ["**/node_modules"], True),
        ("a/b/c.tmp", ["**/*.tmp"], True),
        ("c.tmp", ["**/*.tmp"], True),
        ("c.txt", ["**/*.tmp"], False),
        # a folder pattern excludes everything below it
        ("docs", ["docs"], True),
        ("docs/guide/intro.md", ["docs"], True),
        ("docs/guide/intro.md", ["docs/"], True),
        ("docs/guide/intro.md", ["docs/guide"], True),
        ("docsite/index.md", ["docs"], False),
        ("src/docs/x.md", ["docs"], False),
        # negation: the last matching pattern wins
        ("README.md", ["*.md", "!README.md"], False),
        ("CHANGES.md", ["*.md", "!README.md"], True),
        ("README.md", ["!README.md", "*.md"], True),
        ("docs/keep.txt", ["docs", "!docs/keep.txt"], False),
        ("docs/other.txt", ["docs", "!docs/keep.txt"], True),
        ("README.md", ["!README.md"], False),
        # .env* files and folders: left out at any depth ...
        (".env", [], True),
        (".env.local", [], True),
        (".envrc", [], True),
        ("crates/cli/.env", [], True),
        (".env/credentials", [], True),
        ("config/.env.d/db", [], True),
        ("env.txt", [], False),
        ("src/environment.rs", [], False),
        ("my.env", [], False),
        # ... brought back only by a `!` pattern that spells out the .env name
        (".env.example", ["!.env.example"], False),
        ("web/.env.sample", ["!**/.env.sample"], False),
        (".env.local", ["!.env*"], False),
        (".env/keep.txt", ["!.env/keep.txt"], False),
        (".env", ["!*"], True),
        (".env", ["!**"], True),
        (".env.local", ["!.env.example"], True),
        (".env.example", ["!.env.example", ".env*"], True),
    ],
)
def test_is_excluded(rel: str, patterns: list[str], expected: bool) -> None:
    assert is_excluded(rel, patterns) is expected


def test_star_does_not_cross_folders() -> None:
    assert is_excluded("src/debug.log", ["*.log"]) is False


def test_double_star_matches_zero_folders() -> None:
    assert is_excluded("docs/x.md", ["docs/**/*.md"]) is True


# --- read_dockerignore and context_files -------------------------------------------------------


def test_read_dockerignore(tmp_path: Path) -> None:
    assert read_dockerignore(tmp_path) == ()
    (tmp_path / ".dockerignore").write_text("# a comment\n\n  *.log  \nassets/\n   # indented comment\n!keep.log\n")
    assert read_dockerignore(tmp_path) == ("*.log", "assets/", "!keep.log")


def test_context_files_order_and_exclusions(tmp_path: Path) -> None:
    write(tmp_path, CRATE)
    found = list(context_files(tmp_path))
    assert [rel for rel, _ in found] == [
        "Cargo.lock",
        "Cargo.toml",
        "zz.txt",
        "assets/logo.txt",
        "src/main.rs",
        "src/bin/tool.rs",
    ]
    assert all(path == tmp_path / rel for rel, path in found)


def test_context_files_reads_dockerignore(tmp_path: Path) -> None:
    write(tmp_path, {**CRATE, ".dockerignore": "assets\n*.txt\n!zz.txt\n", "notes.txt": "n\n"})
    assert [rel for rel, _ in context_files(tmp_path)] == [
        ".dockerignore",
        "Cargo.lock",
        "Cargo.toml",
        "zz.txt",
        "src/main.rs",
        "src/bin/tool.rs",
    ]


def test_context_files_explicit_patterns_win_over_dockerignore(tmp_path: Path) -> None:
    write(tmp_path, {**CRATE, ".dockerignore": "src\n"})
    rels = [rel for rel, _ in context_files(tmp_path, ["assets", ".dockerignore"])]
    assert rels == ["Cargo.lock", "Cargo.toml", "zz.txt", "src/main.rs", "src/bin/tool.rs"]


def test_context_files_negation_inside_excluded_folder(tmp_path: Path) -> None:
    write(tmp_path, {"docs/keep.txt": "k", "docs/other.txt": "o", "docs/sub/keep.txt": "k", "docs/sub/x": "x"})
    rels = [rel for rel, _ in context_files(tmp_path, ["docs", "!docs/keep.txt", "!docs/sub/keep.txt"])]
    assert rels == ["docs/keep.txt", "docs/sub/keep.txt"]


@pytest.mark.parametrize("negation", ["!/docs/keep.txt", "!./docs/keep.txt"])
def test_context_files_agrees_with_is_excluded_for_normalised_negations(tmp_path: Path, negation: str) -> None:
    write(tmp_path, {"docs/keep.txt": "k", "docs/other.txt": "o"})
    patterns = ["docs", negation]
    assert is_excluded("docs/keep.txt", patterns) is False
    assert [rel for rel, _ in context_files(tmp_path, patterns)] == ["docs/keep.txt"]


def test_context_files_leave_out_env_files_unless_named(tmp_path: Path) -> None:
    files = {".env": "S", ".env.example": "E", ".envrc": "R", ".env.d/keep.txt": "K", ".env.d/other": "O", "a.rs": ""}
    write(tmp_path, files)
    assert [rel for rel, _ in context_files(tmp_path, [])] == ["a.rs"]
    rels = [rel for rel, _ in context_files(tmp_path, ["!.env.example", "!.env.d/keep.txt", "!*"])]
    assert rels == [".env.example", "a.rs", ".env.d/keep.txt"]

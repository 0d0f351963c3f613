"""The build context: .dockerignore matching, the files that go in, copying and the inputs digest."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pytest_rustimage.context import (
    context_files,
    copy_tree,
    digest_inputs,
    is_excluded,
    read_dockerignore,
)
from pytest_rustimage.errors import CrateError


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


CRATE = {
    "Cargo.toml": '[package]\nname = "p"\nversion = "0.1.0"\n',
    "Cargo.lock": "version = 4\n",
    "src/main.rs": "fn main() {}\n",
    "src/bin/tool.rs": "fn main() {}\n",
    "zz.txt": "last by name, but a top-level file\n",
    "assets/logo.txt": "logo\n",
    "target/release/p": "binary\n",
    ".git/HEAD": "ref: refs/heads/main\n",
}


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


# --- copy_tree ---------------------------------------------------------------------------------


def test_copy_tree(tmp_path: Path) -> None:
    root = write(tmp_path / "crate", {**CRATE, ".dockerignore": "assets/\n"})
    (root / "src/main.rs").chmod(0o755)
    dest = tmp_path / "out"
    copied = copy_tree(root, dest)
    assert copied == [".dockerignore", "Cargo.lock", "Cargo.toml", "zz.txt", "src/main.rs", "src/bin/tool.rs"]
    for rel in copied:
        assert (dest / rel).read_bytes() == (root / rel).read_bytes()
    assert not (dest / "assets").exists()
    assert not (dest / "target").exists()
    assert not (dest / ".git").exists()
    assert os.access(dest / "src/main.rs", os.X_OK)
    assert not os.access(dest / "Cargo.toml", os.X_OK)


def test_copy_tree_refuses_link_outside(tmp_path: Path) -> None:
    root = write(tmp_path / "crate", CRATE)
    secret = write(tmp_path / "elsewhere", {"secret.txt": "s"}) / "secret.txt"
    (root / "src/leak.txt").symlink_to(secret)
    with pytest.raises(CrateError) as info:
        copy_tree(root, tmp_path / "out")
    assert str(info.value) == (
        f"{root}: src/leak.txt is a symbolic link to {secret.resolve()}, outside the build context"
    )
    assert info.value.path == root


def test_copy_tree_refuses_relative_link_outside(tmp_path: Path) -> None:
    root = write(tmp_path / "crate", CRATE)
    write(tmp_path, {"outside.txt": "o"})
    (root / "up.txt").symlink_to("../outside.txt")
    with pytest.raises(CrateError, match=r"up\.txt is a symbolic link to .*, outside the build context"):
        copy_tree(root, tmp_path / "out")


def test_copy_tree_ignores_excluded_link_outside(tmp_path: Path) -> None:
    root = write(tmp_path / "crate", {**CRATE, ".dockerignore": "leak.txt\n"})
    write(tmp_path, {"outside.txt": "o"})
    (root / "leak.txt").symlink_to(tmp_path / "outside.txt")
    assert "leak.txt" not in copy_tree(root, tmp_path / "out")


def test_copy_tree_allows_link_inside(tmp_path: Path) -> None:
    root = write(tmp_path / "crate", CRATE)
    (root / "alias.rs").symlink_to("src/main.rs")
    dest = tmp_path / "out"
    copied = copy_tree(root, dest)
    assert "alias.rs" in copied
    assert (dest / "alias.rs").read_text() == "fn main() {}\n"
    assert (dest / "alias.rs").is_symlink()  # kept as a link, as COPY keeps it


# --- digest_inputs -----------------------------------------------------------------------------


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return write(tmp_path / "crate", {**CRATE, ".dockerignore": "assets\n"})


EXTRA = {"strategy": "chef", "builder": "rust:1-bookworm"}


def test_digest_is_stable(tree: Path, tmp_path: Path) -> None:
    first = digest_inputs(tree, EXTRA)
    assert digest_inputs(tree, EXTRA) == first
    assert len(first) == 64
    assert int(first, 16) >= 0
    # the location of the tree and the order of `extra` do not count
    copy = write(tmp_path / "copy", {**CRATE, ".dockerignore": "assets\n"})
    assert digest_inputs(copy, dict(reversed(EXTRA.items()))) == first


def test_digest_changes_with_content(tree: Path) -> None:
    before = digest_inputs(tree, EXTRA)
    (tree / "src/main.rs").write_text('fn main() { println!("x"); }\n')
    assert digest_inputs(tree, EXTRA) != before


def test_digest_changes_with_a_new_file(tree: Path) -> None:
    before = digest_inputs(tree, EXTRA)
    (tree / "src/extra.rs").write_text("")
    assert digest_inputs(tree, EXTRA) != before


def test_digest_changes_with_a_rename(tree: Path) -> None:
    before = digest_inputs(tree, EXTRA)
    (tree / "zz.txt").rename(tree / "zy.txt")
    assert digest_inputs(tree, EXTRA) != before


def test_digest_changes_with_executable_bit(tree: Path) -> None:
    before = digest_inputs(tree, EXTRA)
    (tree / "src/main.rs").chmod(0o755)
    after = digest_inputs(tree, EXTRA)
    assert after != before
    (tree / "src/main.rs").chmod(0o644)
    assert digest_inputs(tree, EXTRA) == before
    # other mode bits do not count
    (tree / "src/main.rs").chmod(0o600)
    assert digest_inputs(tree, EXTRA) == before


@pytest.mark.parametrize(
    "extra",
    [
        {"strategy": "static", "builder": "rust:1-bookworm"},
        {"strategy": "chef", "builder": "rust:1-bookworm", "vendor": "true"},
        {"strategy": "chef"},
        {},
    ],
)
def test_digest_changes_with_extra(tree: Path, extra: dict[str, str]) -> None:
    assert digest_inputs(tree, extra) != digest_inputs(tree, EXTRA)


def test_excluded_files_do_not_count(tree: Path) -> None:
    before = digest_inputs(tree, EXTRA)
    (tree / "assets/logo.txt").write_text("a new logo\n")
    (tree / "assets/more.txt").write_text("more\n")
    (tree / "target/release/p").write_text("rebuilt\n")
    (tree / "target/debug").mkdir()
    (tree / ".git/HEAD").write_text("ref: refs/heads/other\n")
    assert digest_inputs(tree, EXTRA) == before


def test_dockerignore_itself_counts(tree: Path) -> None:
    before = digest_inputs(tree, EXTRA)
    (tree / ".dockerignore").write_text("assets\n# a comment\n")
    assert digest_inputs(tree, EXTRA) != before


def test_copy_tree_refuses_folder_link_outside(tmp_path: Path) -> None:
    root = write(tmp_path / "crate", CRATE)
    shared = write(tmp_path / "shared", {"lib.rs": ""})
    (root / "shared").symlink_to(shared, target_is_directory=True)
    with pytest.raises(CrateError, match="outside the build context"):
        copy_tree(root, tmp_path / "out")

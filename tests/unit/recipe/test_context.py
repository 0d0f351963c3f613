"""The build context: .dockerignore matching, the files that go in, copying and the inputs digest."""

from __future__ import annotations

import dataclasses
import datetime
import os
import re
import shutil
import socket
import stat
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pytest_rustimage.crate import read_crate
from pytest_rustimage.errors import BuildFailed, CrateError
from pytest_rustimage.plugin.resolve import resolve
from pytest_rustimage.plugin.settings import Settings
from pytest_rustimage.recipe.cargo_config import dump_toml, vendored_cargo_config
from pytest_rustimage.recipe.context import (
    bring_dockerfile,
    context_files,
    copy_tree,
    digest_inputs,
    input_digest,
    prepare,
)
from pytest_rustimage.recipe.dockerignore import is_excluded, read_dockerignore
from pytest_rustimage.recipe.spec import ImageSpec
from pytest_rustimage.recipe.vendored import _first_error, vendor_context

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


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
        f"{root}: src/leak.txt is a symbolic link to {secret.resolve()}, outside the build context; "
        "copy the file into the crate instead, or list the link in .dockerignore"
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


def test_copy_tree_leaves_env_files_out(tmp_path: Path) -> None:
    root = write(tmp_path / "crate", {**CRATE, ".env": "S=1\n", "src/.env.local": "S=2\n", ".envrc": "export S=3\n"})
    dest = tmp_path / "out"
    copied = copy_tree(root, dest)
    assert not [rel for rel in copied if ".env" in rel]
    assert not list(dest.rglob(".env*"))


# --- what cannot go into a context ---------------------------------------------------------------


def _in_thread(call: Callable[[], object]) -> BaseException | None:
    """Run ``call`` in a thread; the error it raised. A call still running after a minute fails the test
    (a named pipe opened for reading blocks until a writer comes: that must never happen)."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            call()
        except BaseException as exc:  # handed to the test
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(60)
    assert not thread.is_alive(), "hung on a special file"
    return errors[0] if errors else None


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _socket(path: Path) -> None:
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.close()  # the socket file stays


def _char_device(path: Path) -> None:
    os.mknod(path, 0o600 | stat.S_IFCHR, os.makedev(1, 5))  # like /dev/zero: reading it never ends


def _block_device(path: Path) -> None:
    os.mknod(path, 0o600 | stat.S_IFBLK, os.makedev(7, 0))  # like /dev/loop0


SPECIAL_FILES = [
    pytest.param(_fifo, "a named pipe (FIFO)", id="fifo"),
    pytest.param(_socket, "a socket", id="socket"),
    pytest.param(_char_device, "a character device", id="device"),
    pytest.param(_block_device, "a block device", id="block-device"),
]


@pytest.mark.parametrize(("make", "kind"), SPECIAL_FILES)
@pytest.mark.parametrize("call", [copy_tree, lambda root, out: digest_inputs(root, EXTRA)], ids=["copy", "digest"])
def test_special_files_are_refused_naming_the_path(
    tmp_path: Path, make: Callable[[Path], None], kind: str, call: Callable[[Path, Path], object]
) -> None:
    root = write(tmp_path / "crate", CRATE)
    try:
        make(root / "src" / "special")
    except PermissionError:
        pytest.skip("this machine does not allow making that kind of file")
    error = _in_thread(lambda: call(root, tmp_path / "out"))
    assert isinstance(error, CrateError)
    assert str(error) == (
        f"{root}: src/special is {kind}, not a regular file, and cannot go into a build context; "
        "remove it, or list it in .dockerignore"
    )


@pytest.mark.parametrize(("make", "kind"), SPECIAL_FILES)
def test_special_files_listed_in_dockerignore_are_fine(tmp_path: Path, make: Callable[[Path], None], kind: str) -> None:
    root = write(tmp_path / "crate", {**CRATE, ".dockerignore": "src/special\n"})
    try:
        make(root / "src" / "special")
    except PermissionError:
        pytest.skip("this machine does not allow making that kind of file")
    assert _in_thread(lambda: copy_tree(root, tmp_path / "out")) is None
    assert _in_thread(lambda: digest_inputs(root, EXTRA)) is None


def test_dangling_link_inside_is_kept_as_a_link(tmp_path: Path) -> None:
    root = write(tmp_path / "crate", CRATE)
    (root / "src/.#main.rs").symlink_to("root@host.4242:1700000000")  # what an editor's lock file looks like
    dest = tmp_path / "out"
    assert "src/.#main.rs" in copy_tree(root, dest)
    assert os.readlink(dest / "src/.#main.rs") == "root@host.4242:1700000000"
    digest_inputs(root, EXTRA)


def test_dangling_link_pointing_outside_is_refused(tmp_path: Path) -> None:
    root = write(tmp_path / "crate", CRATE)
    (root / "gone").symlink_to(tmp_path / "nowhere" / "file")
    with pytest.raises(CrateError, match=r"gone is a symbolic link to .*/nowhere/file, outside the build context"):
        copy_tree(root, tmp_path / "out")


def test_link_loop_is_kept_not_a_crash(tmp_path: Path) -> None:
    root = write(tmp_path / "crate", CRATE)
    (root / "loop_a").symlink_to("loop_b")
    (root / "loop_b").symlink_to("loop_a")
    copied = copy_tree(root, tmp_path / "out")
    assert {"loop_a", "loop_b"} <= set(copied)
    digest_inputs(root, EXTRA)


def test_file_names_that_are_not_utf8(tmp_path: Path) -> None:
    root = write(tmp_path / "crate", CRATE)
    odd = os.fsdecode(b"caf\xe9.txt")  # Latin-1 bytes in a name
    (root / odd).write_text("x")
    before = digest_inputs(root, EXTRA)
    assert odd in copy_tree(root, tmp_path / "out")
    (root / odd).write_text("y")
    assert digest_inputs(root, EXTRA) != before


def test_digest_hashes_links_out_of_the_folder_without_refusing_them(tmp_path: Path) -> None:
    """The dockerfile strategy's context is the crate folder itself, which the engine sends with its links."""
    root = write(tmp_path / "crate", CRATE)
    write(tmp_path, {"README.md": "r", "OTHER.md": "o"})
    (root / "README.md").symlink_to("../README.md")
    before = digest_inputs(root, EXTRA)
    (root / "README.md").unlink()
    (root / "README.md").symlink_to("../OTHER.md")
    assert digest_inputs(root, EXTRA) != before
    with pytest.raises(CrateError, match="outside the build context"):
        copy_tree(root, tmp_path / "out")


def test_a_file_that_cannot_be_read_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As root every mode can be read, so the failure itself is simulated here (the real special files above
    fail for root too)."""
    root = write(tmp_path / "crate", CRATE)

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("shutil.copy2", refuse)
    with pytest.raises(CrateError) as info:
        copy_tree(root, tmp_path / "out")
    assert str(info.value) == f"{root}: Cargo.lock: cannot read: Permission denied; fix it, or list it in .dockerignore"


# --- the cargo config of a vendored dockerfile context ------------------------------------------

REPLACEMENT = {
    "source": {"crates-io": {"replace-with": "vendored-sources"}, "vendored-sources": {"directory": "vendor"}},
    "net": {"offline": True},
}


def test_vendored_config_without_a_config_of_the_crate() -> None:
    text = vendored_cargo_config(None)
    assert tomllib.loads(text) == REPLACEMENT
    assert text.startswith("# written by pytest-rustimage")


def test_vendored_config_keeps_every_setting_of_the_crate_and_merges_into_its_tables() -> None:
    existing = """# the crate's own
[build]
rustflags = ["-C", "target-cpu=x86-64-v2"]

[net]
retry = 3
offline = false

[source.crates-io]
registry = "https://github.com/rust-lang/crates.io-index"

[source.my-mirror]
registry = "sparse://mirror.example/index/"

[env]
APP_ASSETS = { value = "assets", relative = true }
"WITH SPACE" = "tab\\there \\"quoted\\""

[target.x86_64-unknown-linux-gnu]
linker = "clang"

[[unstable.list]]
name = "a"
"""
    merged = tomllib.loads(vendored_cargo_config(existing))
    assert merged == {
        "build": {"rustflags": ["-C", "target-cpu=x86-64-v2"]},
        "net": {"retry": 3, "offline": True},
        "source": {
            "crates-io": {
                "registry": "https://github.com/rust-lang/crates.io-index",
                "replace-with": "vendored-sources",
            },
            "my-mirror": {"registry": "sparse://mirror.example/index/"},
            "vendored-sources": {"directory": "vendor"},
        },
        "env": {"APP_ASSETS": {"value": "assets", "relative": True}, "WITH SPACE": 'tab\there "quoted"'},
        "target": {"x86_64-unknown-linux-gnu": {"linker": "clang"}},
        "unstable": {"list": [{"name": "a"}]},
    }


def test_vendored_config_accepts_the_same_replacement_already_there() -> None:
    existing = (
        '[source.crates-io]\nreplace-with = "vendored-sources"\n\n[source.vendored-sources]\ndirectory = "vendor"\n'
    )
    assert tomllib.loads(vendored_cargo_config(existing)) == REPLACEMENT


@pytest.mark.parametrize(
    ("existing", "message"),
    [
        (
            '[source.crates-io]\nreplace-with = "my-mirror"\n[source.my-mirror]\nregistry = "sparse://m/"\n',
            "[source.crates-io] already replaces crates.io with 'my-mirror'; rust_image_vendor = true replaces it "
            'with the sources it vendors ("vendored-sources", directory "vendor"): remove that replacement from '
            "the config, or set rust_image_vendor = false",
        ),
        (
            '[source.crates-io]\nreplace-with = "vendored-sources"\n'
            '[source.vendored-sources]\ndirectory = "third-party"\n',
            "[source.vendored-sources] is already defined as {'directory': 'third-party'}; rust_image_vendor = true "
            'needs it to be { directory = "vendor" }: remove it from the config, or set rust_image_vendor = false',
        ),
        ("source = 5\n", "source must be a table, got 5"),
        ("[source]\ncrates-io = 5\n", "source.crates-io must be a table, got 5"),
        ("net = true\n", "net must be a table, got True"),
    ],
)
def test_vendored_config_refuses_another_replacement_naming_the_file(existing: str, message: str) -> None:
    with pytest.raises(CrateError) as info:
        vendored_cargo_config(existing, where="/crate/.cargo/config.toml")
    assert str(info.value) == f"/crate/.cargo/config.toml: {message}"


def test_vendored_config_refuses_a_config_that_is_not_toml() -> None:
    with pytest.raises(CrateError, match=r"^/crate/.cargo/config.toml: not valid TOML: "):
        vendored_cargo_config("[net\n", where="/crate/.cargo/config.toml")


@pytest.mark.parametrize(
    "document",
    [
        {},
        {"empty": {}},
        {"a": {"b": {"c": {}}}},
        {"key with space": 1, "ünï": "cødé", "dotted.key": True},
        {"s": 'quote " backslash \\ newline \n tab \t bell \x07 del \x7f'},
        {"n": -3, "f": 1.5, "e": 1e300, "inf": float("inf"), "ninf": float("-inf")},
        {"when": datetime.datetime(1979, 5, 27, 7, 32, tzinfo=datetime.timezone.utc), "day": datetime.date(2024, 1, 2)},
        {"t": datetime.time(7, 32, 1), "local": datetime.datetime(1979, 5, 27, 7, 32)},
        {"list": [1, [2, "x"], {"k": {"deep": []}}], "tables": [{"a": 1}, {"b": {"c": 2}}]},
        {"x": 1, "sub": {"y": 2, "subsub": {"z": 3}, "w": [4]}, "after": {"q": "r"}},
    ],
)
def test_dump_toml_round_trips(document: dict[str, Any]) -> None:
    assert tomllib.loads(dump_toml(document)) == document


# --- the dockerfile strategy's context ----------------------------------------------------------

OWN = {
    **CRATE,
    "Dockerfile.chef": "FROM scratch\n",
    ".dockerignore": "notes/\nDockerfile.*\nvendor\n.cargo\n",
    "notes/todo.txt": "left out\n",
    ".env": "SECRET=1\n",
}


def own_spec(tmp_path: Path, files: dict[str, str], *, vendored: bool) -> ImageSpec:
    root = write(tmp_path / "crate", files)
    manifest = root / "Cargo.toml"
    manifest.write_text(
        manifest.read_text() + '\n[package.metadata.rust-image]\nbin = "p"\ndockerfile = "Dockerfile.chef"\n'
    )
    return resolve(Settings(rootdir=tmp_path, vendor=vendored), read_crate(root), "dockerfile", "docker")


def test_without_vendoring_the_context_is_the_crate_folder(tmp_path: Path) -> None:
    spec = own_spec(tmp_path, OWN, vendored=False)
    root = tmp_path / "crate"
    assert prepare(spec, tmp_path / "work") == (root, root / "Dockerfile.chef", root)


def test_vendored_context_is_a_copy_with_the_cargo_config_and_no_dockerignore(tmp_path: Path) -> None:
    spec = own_spec(tmp_path, OWN, vendored=True)
    (tmp_path / "work").mkdir()
    context, dockerfile, inputs = prepare(spec, tmp_path / "work")
    assert context.parent == tmp_path / "work" and inputs == tmp_path / "crate"  # its digest reads the crate
    assert dockerfile == tmp_path / "crate" / "Dockerfile.chef"  # its .dockerignore leaves it out of the copy
    # the exclusions applied, then the .dockerignore itself left out: the engine must send .cargo/ and vendor/
    assert sorted(rel for rel, _ in context_files(context)) == [
        ".cargo/config.toml",
        "Cargo.lock",
        "Cargo.toml",
        "assets/logo.txt",
        "src/bin/tool.rs",
        "src/main.rs",
        "zz.txt",
    ]
    assert tomllib.loads((context / ".cargo/config.toml").read_text()) == REPLACEMENT
    assert not (tmp_path / "crate" / ".cargo").exists()  # the crate's tree is never touched


def test_vendored_context_merges_the_crates_own_config(tmp_path: Path) -> None:
    files = {**CRATE, "Dockerfile.chef": "FROM scratch\n", ".cargo/config.toml": "[build]\njobs = 2\n"}
    spec = own_spec(tmp_path, files, vendored=True)
    (tmp_path / "work").mkdir()
    context, _, _ = prepare(spec, tmp_path / "work")
    assert tomllib.loads((context / ".cargo/config.toml").read_text()) == {**REPLACEMENT, "build": {"jobs": 2}}
    assert (tmp_path / "crate/.cargo/config.toml").read_text() == "[build]\njobs = 2\n"


def test_vendored_context_reads_the_legacy_config_name_as_cargo_does(tmp_path: Path) -> None:
    """Cargo prefers ``.cargo/config`` when both are there; the copy has one merged ``config.toml``."""
    files = {**CRATE, "Dockerfile.chef": "x\n", ".cargo/config": "[build]\njobs = 1\n", ".cargo/config.toml": "[x]\n"}
    spec = own_spec(tmp_path, files, vendored=True)
    (tmp_path / "work").mkdir()
    context, _, _ = prepare(spec, tmp_path / "work")
    assert sorted(p.name for p in (context / ".cargo").iterdir()) == ["config.toml"]
    assert tomllib.loads((context / ".cargo/config.toml").read_text()) == {**REPLACEMENT, "build": {"jobs": 1}}


def test_vendored_context_refuses_another_replacement_naming_the_crates_config(tmp_path: Path) -> None:
    files = {**CRATE, "Dockerfile.chef": "x\n", ".cargo/config.toml": '[source.crates-io]\nreplace-with = "m"\n'}
    spec = own_spec(tmp_path, files, vendored=True)
    (tmp_path / "work").mkdir()
    with pytest.raises(CrateError, match=rf"^{re.escape(str(tmp_path / 'crate/.cargo/config.toml'))}: \[source"):
        prepare(spec, tmp_path / "work")


def test_the_digest_of_a_vendored_context_reads_the_crate_not_the_copy(tmp_path: Path) -> None:
    """The tag is the digest of the crate's own files (the copy's .cargo/config.toml and vendor/ follow
    from them and from the vendored flag, which the factory adds), so a kept copy cannot change it."""
    plain = own_spec(tmp_path / "a", OWN, vendored=False)
    vendored = own_spec(tmp_path / "b", OWN, vendored=True)
    (tmp_path / "work").mkdir()
    _, _, plain_inputs = prepare(plain, tmp_path / "work")
    context, _, vendored_inputs = prepare(vendored, tmp_path / "work")
    assert (context / ".cargo/config.toml").is_file() and not (vendored_inputs / ".cargo").exists()
    before = digest_inputs(vendored_inputs, EXTRA)
    (context / "vendor").mkdir()
    (context / "vendor" / "Cargo.toml").write_text("[package]\n")  # what vendoring adds to the copy
    assert digest_inputs(vendored_inputs, EXTRA) == before == digest_inputs(plain_inputs, EXTRA)


def test_vendoring_a_lock_that_does_not_match_names_the_crate_and_gives_cargos_message(tmp_path: Path) -> None:
    if shutil.which("cargo") is None:
        pytest.skip("no cargo on this machine")
    files = {**CRATE, "Dockerfile.chef": "x\n", "Cargo.toml": CRATE["Cargo.toml"] + '\n[dependencies]\nitoa = "1"\n'}
    files["Cargo.lock"] = 'version = 4\n\n[[package]]\nname = "p"\nversion = "0.1.0"\n'
    spec = own_spec(tmp_path, files, vendored=True)
    (tmp_path / "work").mkdir()
    context, _, _ = prepare(spec, tmp_path / "work")
    with pytest.raises(BuildFailed) as info:
        vendor_context(spec, context)
    reason = info.value.reason
    assert reason.startswith(f"`cargo vendor --locked` for crate p ({tmp_path / 'crate' / 'Cargo.toml'}) failed ")
    assert reason.endswith("because --locked was passed to prevent this")  # cargo's root cause
    assert "--locked" in info.value.log and "error:" in info.value.log  # cargo's own output as the log


CARGO_FAILURE = """    Updating crates.io index
error: failed to sync

Caused by:
  failed to load lockfile for /tmp/x

Caused by:
  cannot update the lock file /tmp/x/Cargo.lock because --locked was passed to prevent this
  help: to generate the lock file without accessing the network, remove the --locked flag
"""


@pytest.mark.parametrize(
    ("stderr", "message"),
    [
        (CARGO_FAILURE, "failed to sync: cannot update the lock file /tmp/x/Cargo.lock because --locked was passed to "
         "prevent this"),
        ("error: no matching package named `nope` found\n", "no matching package named `nope` found"),
        ("warning: only a warning\n", ""),
    ],
)  # fmt: skip
def test_a_cargo_failure_reads_as_its_error_and_root_cause(stderr: str, message: str) -> None:
    assert _first_error(stderr) == message


def test_a_copy_of_the_workspace_stands_for_the_crate_folder(tmp_path: Path) -> None:
    """The cache probe builds an edited copy (``source``): the context and Dockerfile are the copy's."""
    spec = own_spec(tmp_path, OWN, vendored=False)
    copy_tree(tmp_path / "crate", tmp_path / "edited")
    edited = tmp_path / "edited"
    assert prepare(spec, tmp_path / "work", edited) == (edited, edited / "Dockerfile.chef", edited)
    vendored = own_spec(tmp_path / "v", {**OWN, "src/main.rs": "fn main() { /* edited */ }\n"}, vendored=True)
    (tmp_path / "work").mkdir()
    context, _, _ = prepare(vendored, tmp_path / "work", edited)
    assert (context / "src/main.rs").read_text() == CRATE["src/main.rs"]  # from the copy, not the crate
    # a spec whose Dockerfile points into the copy already gets that one
    moved = dataclasses.replace(spec, dockerfile=edited / "Dockerfile.chef")
    assert prepare(moved, tmp_path / "work", edited) == (edited, edited / "Dockerfile.chef", edited)


@pytest.mark.parametrize("vendored", [False, True])
def test_the_probes_copy_gets_the_dockerfile_its_dockerignore_leaves_out(tmp_path: Path, vendored: bool) -> None:
    """The engine reads the Dockerfile apart from the context, so a ``.dockerignore`` listing it did not
    keep it from the image's build, and must not keep it from the probe's: the copy gets the original."""
    files = {**OWN, "Dockerfile.chef": "FROM scratch\nCOPY . .\n", "Dockerfile.chef.dockerignore": "notes/\n"}
    spec = own_spec(tmp_path, files, vendored=vendored)
    edited = tmp_path / "probe" / "crate"
    copy_tree(tmp_path / "crate", edited, as_engine=not vendored)
    assert not (edited / "Dockerfile.chef").exists()  # left out by `Dockerfile.*`
    assert bring_dockerfile(spec, edited) == edited / "Dockerfile.chef"
    assert (edited / "Dockerfile.chef").read_text() == files["Dockerfile.chef"]
    assert (edited / "Dockerfile.chef.dockerignore").read_text() == "notes/\n"  # the builder prefers it: it comes too
    (tmp_path / "work").mkdir()
    context, dockerfile, _ = prepare(spec, tmp_path / "work", edited)
    assert dockerfile == edited / "Dockerfile.chef" and dockerfile.is_file()
    assert not (context / "Dockerfile.chef").exists() or not vendored  # a vendored context still leaves it out
    # an edit of the copy's Dockerfile (a custom edit may make one) is kept: brought only when missing
    dockerfile.write_text("FROM scratch\n# edited\n")
    bring_dockerfile(spec, edited)
    assert dockerfile.read_text() == "FROM scratch\n# edited\n"


@pytest.mark.parametrize("vendored", [False, True])
def test_the_probes_copy_gets_a_dockerfile_from_outside_the_workspace_beside_it(tmp_path: Path, vendored: bool) -> None:
    spec = own_spec(tmp_path, CRATE | {"Dockerfile.chef": "x\n"}, vendored=vendored)
    outside = write(tmp_path / "docker", {"Dockerfile": "FROM scratch\n"}) / "Dockerfile"
    spec = dataclasses.replace(spec, dockerfile=tmp_path / "crate" / ".." / "docker" / "Dockerfile")
    edited = tmp_path / "probe" / "crate"
    copy_tree(tmp_path / "crate", edited, as_engine=not vendored)
    placed = bring_dockerfile(spec, edited)
    assert placed.read_text() == outside.read_text() and placed.parent.parent == edited.parent
    (tmp_path / "work").mkdir()
    context, dockerfile, _ = prepare(spec, tmp_path / "work", edited)
    assert dockerfile == placed and not dockerfile.is_relative_to(context)  # passed apart from the context
    assert context == edited or context.parent == tmp_path / "work"


@pytest.mark.parametrize("where", ["ignored", "outside"])
def test_the_input_digest_keys_on_the_dockerfile_the_context_leaves_out(tmp_path: Path, where: str) -> None:
    """The tag (and with it the stored cache verdict, kept under the tag) changes with the Dockerfile's
    text, though the context's files do not hold it; the probe's unedited copy digests like the crate,
    its edited one does not."""
    spec = own_spec(tmp_path, OWN, vendored=False)
    if where == "outside":
        write(tmp_path / "docker", {"Dockerfile": "FROM scratch\n"})
        spec = dataclasses.replace(spec, dockerfile=tmp_path / "docker" / "Dockerfile")
    assert spec.dockerfile is not None
    (tmp_path / "work").mkdir()
    _, dockerfile, inputs = prepare(spec, tmp_path / "work")
    before = input_digest(inputs, dockerfile, EXTRA)
    edited = tmp_path / "probe" / "crate"
    copy_tree(tmp_path / "crate", edited, as_engine=True)
    bring_dockerfile(spec, edited)
    _, copied, copy_inputs = prepare(spec, tmp_path / "work", edited)
    assert input_digest(copy_inputs, copied, EXTRA) == before
    (edited / "src" / "main.rs").write_text("fn main() { /* edited */ }\n")
    assert input_digest(copy_inputs, copied, EXTRA) != before
    spec.dockerfile.write_text(spec.dockerfile.read_text() + "# changed\n")
    assert input_digest(inputs, dockerfile, EXTRA) != before


def test_a_dockerfile_that_cannot_be_read_is_named(tmp_path: Path) -> None:
    spec = own_spec(tmp_path, OWN, vendored=False)
    spec = dataclasses.replace(spec, dockerfile=tmp_path / "gone" / "Dockerfile")
    with pytest.raises(CrateError, match=rf"^{re.escape(str(tmp_path / 'gone' / 'Dockerfile'))}: cannot read"):
        bring_dockerfile(spec, tmp_path / "probe" / "crate")


def test_a_generated_strategy_vendors_with_the_lock_brought_up_to_date(tmp_path: Path) -> None:
    """A generated Dockerfile builds the copy, whose lockfile cargo may update (an edit that adds a dependency)."""
    if shutil.which("cargo") is None:
        pytest.skip("no cargo on this machine")
    files = {**CRATE, "Dockerfile.chef": "x\n", "Cargo.toml": CRATE["Cargo.toml"] + '\n[dependencies]\nitoa = "1"\n'}
    files["Cargo.lock"] = 'version = 4\n\n[[package]]\nname = "p"\nversion = "0.1.0"\n'
    spec = dataclasses.replace(own_spec(tmp_path, files, vendored=True), strategy="chef", dockerfile=None)
    (tmp_path / "work").mkdir()
    context, _, _ = prepare(spec, tmp_path / "work")
    vendor_context(spec, context)
    assert (context / "vendor" / "itoa").is_dir()
    assert 'name = "itoa"' in (context / "app" / "Cargo.lock").read_text()


# --- contexts kept between runs ---------------------------------------------------------------


def test_a_kept_context_is_updated_in_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_rustimage.recipe.context import stable_folder

    monkeypatch.setenv("RUST_IMAGE_CACHE_DIR", str(tmp_path / "cache"))
    crate = tmp_path / "hello"
    shutil.copytree(Path(__file__).resolve().parents[3] / "sample_crates" / "hello", crate)
    spec = resolve(Settings(rootdir=tmp_path), read_crate(crate, use_cargo=False), "chef", "docker")
    folder = stable_folder(spec)
    assert folder.parent == tmp_path / "cache" / "contexts" and folder.name.startswith("hello-chef-docker-")
    other = resolve(Settings(rootdir=tmp_path), read_crate(crate, use_cargo=False), "static", "docker")
    assert stable_folder(other) != folder

    for path in crate.rglob("*"):  # files last changed a while ago, as a crate's files usually are
        os.utime(path, (1_700_000_000, 1_700_000_000))
    context, dockerfile, inputs = prepare(spec, tmp_path / "work", folder=folder)
    assert context == folder and inputs == crate  # the tag's digest reads the crate, not the copy
    app = folder / "app"
    stamp = folder / ".app.synced"
    os.utime(stamp, (1_700_000_100, 1_700_000_100))  # that update, too, was a while ago
    manifest, written = (app / "Cargo.toml").stat(), dockerfile.stat().st_mtime_ns
    (crate / "src" / "main.rs").write_text('fn main() { println!("changed"); }\n')
    (crate / "notes.txt").write_text("new")
    context, dockerfile, _ = prepare(spec, tmp_path / "work", folder=folder)
    assert (app / "src" / "main.rs").read_text() == 'fn main() { println!("changed"); }\n'
    assert (app / "notes.txt").read_text() == "new"
    assert (app / "Cargo.toml").stat().st_ino == manifest.st_ino  # unchanged files are not copied again
    assert dockerfile.stat().st_mtime_ns == written
    (crate / "notes.txt").unlink()
    prepare(spec, tmp_path / "work", folder=folder)
    assert not (app / "notes.txt").exists()
    assert not (tmp_path / "work").exists() or not any((tmp_path / "work").iterdir())  # no fresh folder made


def test_pytests_own_cache_folder_is_never_an_input(tmp_path: Path) -> None:
    (tmp_path / ".pytest_cache" / "v").mkdir(parents=True)
    (tmp_path / ".pytest_cache" / "v" / "lastfailed").write_text("{}")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "main.rs").write_text("fn main() {}\n")
    assert [rel for rel, _ in context_files(tmp_path)] == ["src/main.rs"]

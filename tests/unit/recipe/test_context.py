"""The build context: copying the files that go in, what cannot go in, the inputs digest, kept contexts."""

from __future__ import annotations

import os
import shutil
import socket
import stat
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from pytest_rustimage.crate import read_crate
from pytest_rustimage.errors import CrateError
from pytest_rustimage.plugin.resolve import resolve
from pytest_rustimage.plugin.settings import Settings
from pytest_rustimage.recipe.context import (
    context_files,
    copy_tree,
    digest_inputs,
    prepare,
)

if sys.version_info >= (3, 11):
    pass
else:  # pragma: no cover
    pass


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

"""The cache probe's edit as a value: the default one, and what users pass to ``rebuild_after``."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_rustimage.cachecheck.edit import Edit, as_edit, comment_edit
from pytest_rustimage.cachecheck.probe import edited_in_context
from pytest_rustimage.errors import ConfigError


def _crate(tmp_path: Path) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src/main.rs").write_text("fn main() {}\n")
    return tmp_path


def test_the_default_edit_names_its_file_and_keeps_the_stamp_out_of_its_key(tmp_path: Path) -> None:
    root = _crate(tmp_path)
    edit = comment_edit("src/main.rs", "abc")
    assert (edit.path, edit.description) == ("src/main.rs", "appended a comment to src/main.rs")
    # stored verdicts are keyed with this string: the same as before the edit was a value
    assert edit.key == "appended a comment to src/main.rs" == comment_edit("src/main.rs", "other").key
    assert edit.apply(root) == "appended a comment to src/main.rs"
    assert (root / "src/main.rs").read_text() == "fn main() {}\n\n// pytest-rustimage cache probe abc\n"
    assert edited_in_context(edit, generated=True, crate_folder=".") == "app/src/main.rs"
    assert edited_in_context(edit, generated=False, crate_folder=".") == "src/main.rs"


def test_a_path_and_text_pair_rewrites_that_file(tmp_path: Path) -> None:
    root = _crate(tmp_path)
    edit = as_edit(("server/src/lib.rs", "pub fn f() {}\n"))
    assert (edit.path, edit.key) == ("server/src/lib.rs", "rewrote server/src/lib.rs")
    assert edit.apply(root) == "rewrote server/src/lib.rs"
    assert (root / "server/src/lib.rs").read_text() == "pub fn f() {}\n"
    assert edited_in_context(edit, generated=True, crate_folder="server") == "app/server/src/lib.rs"
    # a crate's own Dockerfile is built from the folder of its Cargo.toml: paths are relative to it
    assert edited_in_context(edit, generated=False, crate_folder="server") == "src/lib.rs"
    assert edited_in_context(edit, generated=False, crate_folder="other") is None


def test_a_callable_is_named_by_its_function_and_names_no_file(tmp_path: Path) -> None:
    root = _crate(tmp_path)

    def add_a_dependency(folder: Path) -> None:
        (folder / "Cargo.toml").write_text("[package]\n")

    edit = as_edit(add_a_dependency)
    assert (edit.path, edit.description, edit.key) == (None, "add_a_dependency", "add_a_dependency")
    assert edit.apply(root) == "add_a_dependency"
    assert (root / "Cargo.toml").read_text() == "[package]\n"
    assert edited_in_context(edit, generated=True, crate_folder=".") is None
    assert as_edit(edit) is edit  # already a value
    assert isinstance(as_edit(lambda folder: None), Edit)


def test_an_edit_outside_the_crate_is_refused_when_applied(tmp_path: Path) -> None:
    edit = as_edit(("../outside.rs", "x"))
    with pytest.raises(ConfigError, match="points outside the crate"):
        edit.apply(_crate(tmp_path))
    assert not (tmp_path.parent / "outside.rs").exists()


@pytest.mark.parametrize("bad", [("a", "b", "c"), "src/main.rs", 42, ("src/main.rs", 1)])
def test_what_is_not_an_edit_is_refused_at_the_boundary(bad: object) -> None:
    with pytest.raises(ConfigError, match="an edit is a callable or a"):
        as_edit(bad)  # type: ignore[arg-type]

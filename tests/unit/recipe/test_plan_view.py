"""The planner's view: the workspace's paths, the recipe's inputs filled in, every other file empty."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pytest_rustimage.recipe.plan_view import plan_view, shapes_recipe


@pytest.mark.parametrize(
    ("rel", "shapes"),
    [
        ("Cargo.toml", True),
        ("Cargo.lock", True),
        ("crates/core/Cargo.toml", True),
        (".cargo/config.toml", True),
        (".cargo/config", True),
        ("crates/core/.cargo/config.toml", True),
        ("rust-toolchain.toml", True),
        ("rust-toolchain", True),
        ("src/main.rs", False),
        ("build.rs", False),
        ("README.md", False),
        ("config.toml", False),  # a cargo config only under .cargo/
        ("src/Cargo.toml.bak", False),
    ],
)
def test_what_shapes_the_recipe(rel: str, shapes: bool) -> None:
    assert shapes_recipe(rel) is shapes


def _workspace(root: Path) -> None:
    files = {
        "Cargo.toml": '[workspace]\nmembers = ["crates/*"]\n',
        "Cargo.lock": "# lock\n",
        ".cargo/config.toml": "[build]\n",
        "crates/core/Cargo.toml": '[package]\nname = "core"\n',
        "crates/core/src/lib.rs": "pub fn f() {}\n",
        "crates/cli/src/main.rs": "fn main() {}\n",
        "crates/cli/build.rs": "fn main() {}\n",
        "README.md": "# hi\n",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    os.symlink("crates/core/src/lib.rs", root / "lib-link.rs")


def test_the_view_has_every_path_and_only_the_recipes_inputs_filled(tmp_path: Path) -> None:
    app, view = tmp_path / "app", tmp_path / "plan"
    _workspace(app)
    plan_view(app, view)
    for rel in ("Cargo.toml", "Cargo.lock", ".cargo/config.toml", "crates/core/Cargo.toml"):
        assert (view / rel).read_bytes() == (app / rel).read_bytes(), rel
    for rel in ("crates/cli/src/main.rs", "crates/cli/build.rs", "README.md"):
        assert (view / rel).is_file() and (view / rel).read_bytes() == b"", rel
    assert (view / "crates/core/src/lib.rs").read_bytes() == (app / "crates/core/src/lib.rs").read_bytes()  # linked
    assert os.readlink(view / "lib-link.rs") == "crates/core/src/lib.rs"
    listed = sorted(str(p.relative_to(view)) for p in view.rglob("*") if p.is_file() or p.is_symlink())
    assert listed == sorted(str(p.relative_to(app)) for p in app.rglob("*") if p.is_file() or p.is_symlink())


def test_a_source_edit_leaves_the_view_untouched(tmp_path: Path) -> None:
    app, view = tmp_path / "app", tmp_path / "plan"
    _workspace(app)
    plan_view(app, view)
    before = {p: p.lstat().st_mtime_ns for p in view.rglob("*")}
    (app / "crates/cli/src/main.rs").write_text("fn main() { println!(); }\n")
    (app / "README.md").write_text("# changed\n")
    plan_view(app, view)
    assert {p: p.lstat().st_mtime_ns for p in view.rglob("*")} == before


def test_the_view_follows_what_decides_the_recipe(tmp_path: Path) -> None:
    app, view = tmp_path / "app", tmp_path / "plan"
    _workspace(app)
    plan_view(app, view)
    (app / "Cargo.toml").write_text('[workspace]\nmembers = ["crates/*"]\nresolver = "2"\n')  # same size? no matter
    (app / "crates/cli/build.rs").unlink()  # a build script gone: the recipe changes
    (app / "crates/cli/src/bin").mkdir()
    (app / "crates/cli/src/bin/extra.rs").write_text("fn main() {}\n")  # a binary found by its place
    (app / "lib-link.rs").unlink()
    os.symlink("README.md", app / "lib-link.rs")
    plan_view(app, view)
    assert (view / "Cargo.toml").read_text() == (app / "Cargo.toml").read_text()
    assert not (view / "crates/cli/build.rs").exists()
    assert (view / "crates/cli/src/bin/extra.rs").read_bytes() == b""
    assert os.readlink(view / "lib-link.rs") == "README.md"


def test_a_manifest_of_the_same_size_is_still_compared(tmp_path: Path) -> None:
    app, view = tmp_path / "app", tmp_path / "plan"
    _workspace(app)
    plan_view(app, view)
    (app / "Cargo.lock").write_text("# LOCK\n")  # same length, other bytes
    plan_view(app, view)
    assert (view / "Cargo.lock").read_text() == "# LOCK\n"


def test_a_folder_that_became_a_file_and_back(tmp_path: Path) -> None:
    app, view = tmp_path / "app", tmp_path / "plan"
    _workspace(app)
    plan_view(app, view)
    (app / "crates/cli/src/main.rs").unlink()
    (app / "crates/cli/src").rmdir()
    (app / "crates/cli/src").write_text("")
    plan_view(app, view)
    assert (view / "crates/cli/src").is_file()
    (app / "crates/cli/src").unlink()
    (app / "crates/cli/src").mkdir()
    (app / "crates/cli/src/main.rs").write_text("fn main() {}\n")
    plan_view(app, view)
    assert (view / "crates/cli/src/main.rs").is_file()


def test_a_manifest_or_cargo_config_reached_by_a_link_keeps_its_bytes(tmp_path: Path) -> None:
    app, view = tmp_path / "app", tmp_path / "plan"
    (app / "manifests").mkdir(parents=True)
    (app / "manifests" / "app.toml").write_text('[package]\nname = "app"\n')
    os.symlink("manifests/app.toml", app / "Cargo.toml")
    (app / "config").mkdir()
    (app / "config" / "config.toml").write_text("[build]\nrustflags = []\n")
    os.symlink("config", app / ".cargo")
    (app / "src").mkdir()
    (app / "src" / "main.rs").write_text("fn main() {}\n")
    plan_view(app, view)
    assert (view / "Cargo.toml").read_text() == '[package]\nname = "app"\n'  # through the link, as cargo reads it
    assert (view / ".cargo" / "config.toml").read_text() == "[build]\nrustflags = []\n"
    assert (view / "src" / "main.rs").read_bytes() == b""


def test_a_linked_folder_that_became_a_real_one_is_never_written_through(tmp_path: Path) -> None:
    app, view, elsewhere = tmp_path / "app", tmp_path / "plan", tmp_path / "elsewhere"
    (elsewhere / "common").mkdir(parents=True)
    (elsewhere / "common" / "Cargo.toml").write_text("[package]\n# not the view's to touch\n")
    (app / "src").mkdir(parents=True)
    (app / "src" / "main.rs").write_text("fn main() {}\n")
    view.mkdir()
    os.symlink(elsewhere / "common", view / "common")  # what an earlier view of a linked folder left
    (app / "common").mkdir()
    (app / "common" / "Cargo.toml").write_text('[package]\nname = "common"\n')
    (app / "common" / "lib.rs").write_text("")
    plan_view(app, view)
    assert not (view / "common").is_symlink()
    assert (view / "common" / "Cargo.toml").read_text() == '[package]\nname = "common"\n'
    assert (elsewhere / "common" / "Cargo.toml").read_text() == "[package]\n# not the view's to touch\n"
    assert sorted(p.name for p in (elsewhere / "common").iterdir()) == ["Cargo.toml"]

"""The planner's view gives cargo-chef the same recipe as the workspace itself: ``cargo chef prepare``
run in the local builder image on each sample crate and on its view, byte for byte."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from pytest_rustimage import names
from pytest_rustimage.recipe.context import copy_tree
from pytest_rustimage.recipe.plan_view import plan_view

SAMPLES = Path(__file__).resolve().parents[2] / "sample_crates"
CRATES = sorted(p.name for p in SAMPLES.iterdir() if (p / "Cargo.toml").is_file())


def _recipe(folder: Path) -> str:
    prepare = "cargo chef prepare --recipe-path /tmp/recipe.json >/dev/null && cat /tmp/recipe.json"
    mount = ["-v", f"{folder}:/app:ro", "-w", "/app"]
    done = subprocess.run(
        ["docker", "run", "--rm", "--network=none", *mount, names.LOCAL_BUILDER, "sh", "-c", prepare],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("crate", CRATES)
def test_the_view_makes_the_same_recipe(crate: str, base_images: None, tmp_path: Path) -> None:
    app, view = tmp_path / "app", tmp_path / "plan"
    copy_tree(SAMPLES / crate, app)  # as a context's app/ is made
    plan_view(app, view)
    assert any(p.stat().st_size == 0 for p in view.rglob("*.rs"))  # sources are empty in the view
    assert _recipe(view) == _recipe(app)
    shutil.rmtree(tmp_path)

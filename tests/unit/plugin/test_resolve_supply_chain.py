"""``auditable`` (command line > Cargo metadata > ini) and ``reproducible`` (metadata) resolve per image."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_rustimage.errors import ConfigError
from pytest_rustimage.plugin.resolve import resolve
from pytest_rustimage.plugin.settings import Settings
from tests.unit.plugin.test_settings import make_crate


def test_auditable_resolves_in_order_and_makes_another_image(tmp_path: Path) -> None:
    plain = resolve(Settings(rootdir=tmp_path), make_crate(tmp_path), "chef", "docker")
    assert plain.auditable is False
    ini = Settings(rootdir=tmp_path, ini_auditable=True)
    audited = resolve(ini, make_crate(tmp_path), "chef", "docker")
    assert audited.auditable is True and audited.key != plain.key  # another build, another image
    meta_off = make_crate(tmp_path, {"auditable": False})
    assert resolve(ini, meta_off, "chef", "docker").auditable is False  # metadata over the ini
    cli = Settings(rootdir=tmp_path, cli_auditable=True)
    assert resolve(cli, meta_off, "chef", "docker").auditable is True  # the command line over metadata


def test_reproducible_is_read_from_the_metadata_and_leaves_the_image_alone(tmp_path: Path) -> None:
    plain = resolve(Settings(rootdir=tmp_path), make_crate(tmp_path), "chef", "docker")
    asked = resolve(Settings(rootdir=tmp_path), make_crate(tmp_path, {"reproducible": True}), "chef", "docker")
    assert (plain.reproducible, asked.reproducible) == (False, True) and asked.key == plain.key


@pytest.mark.parametrize("key", ["auditable", "reproducible"])
def test_a_flag_that_is_not_true_or_false_is_refused_where_it_is_written(tmp_path: Path, key: str) -> None:
    crate = make_crate(tmp_path, {key: "yes"})
    with pytest.raises(ConfigError, match=rf"rust-image\]: {key} must be true or false, got 'yes'"):
        resolve(Settings(rootdir=tmp_path), crate, "chef", "docker")

"""The cache check's edit kinds: command line > Cargo metadata (`cache-edits`) > ini > `source`."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_rustimage.errors import ConfigError
from pytest_rustimage.plugin.resolve import METADATA_KEYS, resolve
from pytest_rustimage.plugin.settings import Settings
from tests.unit.plugin.test_settings import make_crate


def test_the_kinds_resolve_in_order_and_leave_the_image_key_alone(tmp_path: Path) -> None:
    assert "cache-edits" in METADATA_KEYS
    plain = resolve(Settings(rootdir=tmp_path), make_crate(tmp_path), "chef", "docker")
    assert plain.cache_edits == ("source",)
    ini = Settings(rootdir=tmp_path, ini_cache_edits=("version",))
    assert resolve(ini, make_crate(tmp_path), "chef", "docker").cache_edits == ("version",)
    meta = make_crate(tmp_path, {"cache-edits": "source,non-rust"})
    spec = resolve(ini, meta, "chef", "docker")
    assert spec.cache_edits == ("source", "non-rust") and spec.key == plain.key
    cli = Settings(rootdir=tmp_path, cli_cache_edits=("member",), ini_cache_edits=("version",))
    assert resolve(cli, meta, "chef", "docker").cache_edits == ("member",)


def test_an_unknown_kind_in_the_metadata_names_where_and_the_valid_ones(tmp_path: Path) -> None:
    crate = make_crate(tmp_path, {"cache-edits": ["source", "docs"]})
    with pytest.raises(ConfigError, match=r"rust-image\]: unknown cache edit kind 'docs'; choose from: source"):
        resolve(Settings(rootdir=tmp_path), crate, "chef", "docker")

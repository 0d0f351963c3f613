"""The cargo config of a vendored context: the crate's own settings merged with the source replacement."""

from __future__ import annotations

import datetime
import sys
from typing import Any

import pytest

from pytest_rustimage.errors import CrateError
from pytest_rustimage.recipe.cargo_config import dump_toml, vendored_cargo_config

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


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

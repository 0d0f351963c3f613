"""Generated Cargo manifests never make the plugin crash: only a RustImageError with a message comes out.

Each example is written as ``Cargo.toml`` into a fresh folder that also holds a
``src/main.rs`` (one binary, so that resolving gets past choosing it) and a
``Dockerfile``, and goes through
what ``pytest --rust-image`` does with a crate before any engine is involved:
:func:`read_crate` (the pure reader: no ``cargo metadata`` per example),
:func:`strategies_for`, and :func:`resolve` for every strategy. That either
succeeds or raises a :class:`RustImageError` subclass with a non-empty message;
any other exception is a bug (it would show as an internal traceback).

The examples are mutations of the sample manifests (characters and lines
deleted, inserted, replaced, duplicated), random TOML documents, known keys
given values of the wrong type, ``[[bin]]`` entries without a name and
``rust-image`` metadata with wrong types or bad sizes. The runs are
derandomized with a fixed number of examples, so CI sees the same cases.
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pytest_rustimage.crate import read_crate
from pytest_rustimage.errors import RustImageError
from pytest_rustimage.plugin.resolve import METADATA_KEYS, resolve, strategies_for
from pytest_rustimage.plugin.settings import Settings
from pytest_rustimage.recipe.strategies import NAMES as STRATEGIES

SAMPLES = Path(__file__).resolve().parents[3] / "sample_crates"
SAMPLE_MANIFESTS = tuple(
    (SAMPLES / rel).read_text(encoding="utf-8")
    for rel in (
        "hello/Cargo.toml",
        "server/Cargo.toml",
        "workspace/Cargo.toml",
        "workspace/crates/cli/Cargo.toml",
        "workspace/crates/core/Cargo.toml",
    )
)

FUZZ = settings(
    max_examples=300,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


# --- the code under test ---------------------------------------------------------------------


@contextmanager
def crate_folder(manifest: str | bytes) -> Iterator[Path]:
    """A fresh crate folder with ``manifest`` as its Cargo.toml and a few sources to discover."""
    with tempfile.TemporaryDirectory(prefix="manifest-fuzz-") as tmp:
        folder = Path(tmp) / "crate"
        (folder / "src").mkdir(parents=True)
        (folder / "src" / "main.rs").write_text("fn main() {}\n")
        (folder / "Dockerfile").write_text("FROM scratch\n")
        data = manifest.encode("utf-8", "surrogatepass") if isinstance(manifest, str) else manifest
        (folder / "Cargo.toml").write_bytes(data)
        yield folder


def read_and_resolve(folder: Path) -> None:
    """What collection does with a crate, without engines: read it, pick strategies, resolve each."""
    config = Settings(rootdir=folder.parent)
    crate = read_crate(folder, use_cargo=False)
    strategies_for(config, crate, {})
    for strategy in STRATEGIES:
        resolve(config, crate, strategy, "docker")


def assert_only_rust_image_errors(manifest: str | bytes) -> None:
    with crate_folder(manifest) as folder:
        try:
            read_and_resolve(folder)
        except RustImageError as exc:
            assert str(exc).strip(), f"{type(exc).__name__} without a message"


def test_the_harness_gets_through_a_good_manifest() -> None:
    """A sample manifest resolves without error: the properties below reach every step."""
    with crate_folder(SAMPLE_MANIFESTS[0]) as folder:
        read_and_resolve(folder)


# --- generators ------------------------------------------------------------------------------

KNOWN_WORDS = (
    "[package]",
    "[workspace]",
    "[[bin]]",
    "[lib]",
    "[package.metadata.rust-image]",
    "[workspace.metadata.rust-image]",
    "[workspace.package]",
    'name = "hello"',
    "name = 5",
    'members = ["crates/*"]',
    'members = ["/"]',
    'members = [""]',
    'exclude = ["crates/core"]',
    'path = "src/main.rs"',
    'path = "../outside.rs"',
    "autobins = false",
    'edition = "2015"',
    'default-run = "extra"',
    "version.workspace = true",
    'workspace = ".."',
    'max-size = "1.5 MB"',
    'max-size = "25M"',
    'max-size = "9999999999999999999999999999999999999999999999999999999999999999999999999999999999999999'
    "99999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999"
    "99999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999"
    '999999999999999999999999999999999999999999 GiB"',
    "run-timeout = nan",
    "run-timeout = inf",
    'strategy = ["static", "nix"]',
    "bin = 7",
    "args = [1, 2]",
    "build-args = { A = 1, B = [2] }",
    "x = [[[[[[[[]]]]]]]]",
    "=",
    "[",
    '"',
)

SMALL_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


MUTATIONS = ("del-char", "ins-char", "rep-char", "del-line", "dup-line", "ins-line", "rep-line")


@st.composite
def mutated_sample(draw: st.DrawFn) -> str:
    """A sample manifest with a few characters or lines deleted, inserted, replaced or duplicated."""
    text = draw(st.sampled_from(SAMPLE_MANIFESTS))
    for _ in range(draw(st.integers(1, 4))):
        lines = text.splitlines(keepends=True) or [""]
        how = draw(st.sampled_from(MUTATIONS))
        if how.endswith("char"):
            at = draw(st.integers(0, max(len(text) - 1, 0)))
            char = draw(st.sampled_from("[]{}\"=.,#\n\\ '") | st.characters(codec="utf-8", exclude_categories=("Cs",)))
            if how == "del-char":
                text = text[:at] + text[at + 1 :]
            elif how == "ins-char":
                text = text[:at] + char + text[at:]
            else:
                text = text[:at] + char + text[at + 1 :]
        else:
            at = draw(st.integers(0, len(lines) - 1))
            new = draw(st.sampled_from(KNOWN_WORDS) | SMALL_TEXT) + "\n"
            if how == "del-line":
                del lines[at]
            elif how == "dup-line":
                lines.insert(at, lines[at])
            elif how == "ins-line":
                lines.insert(at, new)
            else:
                lines[at] = new
            text = "".join(lines)
    return text


def toml_string(text: str) -> str:
    """A TOML basic string: the JSON form, with DEL escaped too (TOML refuses it raw)."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def toml_key(key: str) -> str:
    return toml_string(key)


def toml_value(value: Any) -> str:
    """``value`` as an inline TOML value (strings in the JSON form, which TOML reads the same)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    assert isinstance(value, dict)
    return "{" + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + "}"


SCALARS = (
    st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=True, allow_infinity=True)
    | SMALL_TEXT
    | st.sampled_from(("", "0", "25MiB", "1.5 MB", "-1", "src/main.rs", "..", "/", "crates/*", "*", "static", "chef"))
)
TOML_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(SMALL_TEXT, inner, max_size=4),
    max_leaves=12,
)
PACKAGE_KEYS = ("name", "version", "edition", "autobins", "default-run", "workspace", "metadata", "build")
WORKSPACE_KEYS = ("members", "exclude", "metadata", "package", "resolver")
BIN_KEYS = ("name", "path", "required-features")


def document(tables: dict[str, Any]) -> str:
    """A TOML document: each top-level key as a line of its own (tables written inline)."""
    return "".join(f"{toml_key(k)} = {toml_value(v)}\n" for k, v in tables.items())


@st.composite
def random_document(draw: st.DrawFn) -> str:
    """A random document around the keys the reader looks at, with values of any type."""
    key_of = st.sampled_from(PACKAGE_KEYS) | SMALL_TEXT
    tables: dict[str, Any] = {}
    if draw(st.booleans()):
        named = st.fixed_dictionaries({"name": st.just("hello")}, optional={"version": st.just("0.1.0")})
        extra = st.dictionaries(key_of, TOML_VALUES, max_size=4)
        tables["package"] = draw(st.builds(lambda a, b: {**b, **a}, named, extra) | extra | TOML_VALUES)
    if draw(st.booleans()):
        tables["workspace"] = draw(st.dictionaries(st.sampled_from(WORKSPACE_KEYS) | SMALL_TEXT, TOML_VALUES))
    if draw(st.booleans()):
        tables["bin"] = draw(st.lists(st.dictionaries(st.sampled_from(BIN_KEYS), TOML_VALUES) | TOML_VALUES))
    tables.update(draw(st.dictionaries(SMALL_TEXT, TOML_VALUES, max_size=3)))
    return document(tables)


@st.composite
def wrong_types(draw: st.DrawFn) -> str:
    """A valid package with one known key, or one [[bin]] entry, of any type or shape."""
    package: dict[str, Any] = {"name": "hello", "version": "0.1.0", "edition": "2021"}
    tables: dict[str, Any] = {"package": package}
    if draw(st.booleans()):
        package[draw(st.sampled_from(PACKAGE_KEYS))] = draw(TOML_VALUES)
    else:
        entry = st.dictionaries(st.sampled_from(BIN_KEYS), TOML_VALUES, max_size=3)
        tables["bin"] = draw(st.lists(entry | TOML_VALUES, min_size=1, max_size=3) | TOML_VALUES)
    return document(tables)


SIZE_TEXT = st.text(alphabet="0123456789.eE+- kKmMgGiIbB", max_size=14) | st.sampled_from(("1" * 5000, "9" * 400))


def metadata_values(key: str) -> st.SearchStrategy[Any]:
    if key in ("max-size", "max-wasted"):
        by_strategy = st.dictionaries(st.sampled_from((*STRATEGIES, "nix")), SIZE_TEXT | TOML_VALUES, max_size=3)
        return SIZE_TEXT | by_strategy | TOML_VALUES
    if key == "strategy":
        names = st.sampled_from((*STRATEGIES, "nix", ""))
        return names | st.lists(names | TOML_VALUES, max_size=3) | TOML_VALUES
    return TOML_VALUES


@st.composite
def bad_metadata(draw: st.DrawFn) -> str:
    """A valid package whose [package.metadata.rust-image] (or the workspace's) holds values of any type."""
    keys = draw(st.lists(st.sampled_from((*METADATA_KEYS, "max_size")), min_size=1, max_size=3, unique=True))
    metadata = {key: draw(metadata_values(key)) for key in keys}
    package: dict[str, Any] = {"name": "hello", "version": "0.1.0", "edition": "2021"}
    tables: dict[str, Any] = {"package": package}
    if draw(st.booleans()):
        package["metadata"] = {"rust-image": metadata}
    else:
        tables["workspace"] = {"metadata": {"rust-image": metadata}}
    return document(tables)


# --- the properties --------------------------------------------------------------------------


@FUZZ
@given(mutated_sample())
def test_mutated_sample_manifests(manifest: str) -> None:
    assert_only_rust_image_errors(manifest)


@FUZZ
@given(random_document())
def test_random_toml_documents(manifest: str) -> None:
    assert_only_rust_image_errors(manifest)


@FUZZ
@given(wrong_types())
@example('[package]\nname = 5\nversion = "0.1.0"\n')
@example('[package]\nname = "p"\n\n[[bin]]\npath = "src/main.rs"\n\n[[bin]]\npath = "src/bin/extra.rs"\n')
@example('[workspace]\nmembers = "crates/*"\n')
@example('[workspace]\nmembers = ["/etc"]\n')
@example('[workspace]\nmembers = [""]\n')
@example('[workspace]\nmembers = ["crate"]\nexclude = [5]\n')
def test_known_keys_with_wrong_types(manifest: str) -> None:
    assert_only_rust_image_errors(manifest)


@FUZZ
@given(bad_metadata())
@example('[package]\nname = "p"\n[package.metadata.rust-image]\nmax-size = "' + "9" * 400 + '"\n')
@example('[package]\nname = "p"\n[package.metadata.rust-image]\nrun-timeout = nan\n')
@example('[package]\nname = "p"\n[package.metadata.rust-image]\nstrategy = []\n')
def test_rust_image_metadata_of_any_type(manifest: str) -> None:
    assert_only_rust_image_errors(manifest)


@FUZZ
@given(st.binary(max_size=200))
@example(b"\xff\xfe[package]\n")
@example(b"a = " + b"1" * 5000 + b"\n")
@example(b"a = " + b"[" * 5000 + b"]" * 5000 + b"\n")
@example(b"a = " + b"{b = " * 3000 + b"1" + b"}" * 3000 + b"\n")
def test_arbitrary_bytes(manifest: bytes) -> None:
    assert_only_rust_image_errors(manifest)

"""The benchmark's pure parts (benchmarks/: measurements, recipes, manifest, report): medians, ratios, the
table, the texts it writes.

The benchmark's numbers are never asserted: they depend on the machine.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from benchmarks import manifest, measurements, recipes
from benchmarks.measurements import (
    Ratio,
    host_key,
    measurement_keys,
    median,
    plugin_key,
    ratios,
    recipe_key,
)
from benchmarks.recipes import render_recipe
from benchmarks.report import format_table
from pytest_rustimage import names


def test_median_of_odd_even_and_none() -> None:
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([4.0, 1.0]) == 2.5
    assert median([]) is None


def full_medians(strategy: str = "chef") -> dict[str, float | None]:
    values: dict[str, float | None] = {k: 1.0 for k in measurement_keys([strategy])}
    values.update(
        {
            host_key("edit"): 2.0,
            recipe_key("chef", "edit"): 5.0,
            recipe_key("naive", "edit"): 50.0,
            measurements.STARTUP_KEY: 0.5,
            plugin_key(strategy, "base", "edit"): 12.0,
            plugin_key(strategy, "cache", "edit"): 27.0,
            plugin_key(strategy, "base", "cold"): 60.0,
            plugin_key(strategy, "cache", "cold"): 65.0,
            plugin_key(strategy, "base", "warm"): 1.5,
            plugin_key(strategy, "cache", "warm"): 2.0,
        }
    )
    return values


def by_name(derived: list[Ratio]) -> dict[str, Ratio]:
    return {r.name: r for r in derived}


def test_ratios_of_the_issue_targets() -> None:
    got = by_name(ratios(full_medians(), ["chef"]))
    edit = got["[chef] plugin after edit / chef recipe after edit"]
    assert edit.value == pytest.approx(2.4)
    assert (edit.target, edit.verdict) == (1.2, "missed")
    warm = got["[chef] plugin warm, all checks with cache, minus start-up"]
    assert (warm.value, warm.target, warm.verdict) == (pytest.approx(1.5), 1.0, "missed")
    assert got["[chef] needs and cache checks, warm (all checks minus base)"].value == pytest.approx(0.5)
    assert got["[chef] needs and cache checks, warm (all checks minus base)"].verdict == "missed"  # at most 0.1 s
    overhead = got["[chef] cache check overhead after edit, in chef-recipe rebuilds"]
    assert overhead.value == pytest.approx(3.0)  # (27 - 12) / 5
    assert overhead.verdict == "missed"
    assert got["[chef] cache check overhead cold, in chef-recipe rebuilds"].value == pytest.approx(1.0)
    assert got["[chef] cache check overhead cold, in chef-recipe rebuilds"].verdict == "met"
    assert got["chef recipe after edit / host after edit"].value == pytest.approx(2.5)
    assert got["chef recipe after edit / host after edit"].verdict == ""  # no target: explains the others
    assert got["naive recipe after edit / chef recipe after edit"].value == pytest.approx(10.0)


def test_ratios_are_per_strategy_and_missing_numbers_give_none() -> None:
    medians = full_medians("chef")
    medians.update({k: 1.0 for k in measurement_keys(["incremental"])})
    medians[recipe_key("chef", "edit")] = None
    got = by_name(ratios(medians, ["chef", "incremental"]))
    assert "[incremental] plugin after edit / chef recipe after edit" in got
    assert got["[chef] plugin after edit / chef recipe after edit"].value is None
    assert got["[chef] plugin after edit / chef recipe after edit"].verdict == ""


def test_the_incremental_image_rebuild_is_measured_against_the_host_rebuild() -> None:
    medians = full_medians("incremental")
    medians[host_key("edit")] = 4.0
    medians[plugin_key("incremental", "base", measurements.IMAGE_BUILD)] = 5.0
    got = by_name(ratios(medians, ["incremental"]))
    rebuild = got["[incremental] image rebuild after edit / host after edit"]
    assert (rebuild.value, rebuild.target, rebuild.verdict) == (pytest.approx(1.25), 1.3, "met")
    medians[plugin_key("incremental", "base", measurements.IMAGE_BUILD)] = 6.0
    assert by_name(ratios(medians, ["incremental"]))[rebuild.name].verdict == "missed"
    chef = by_name(ratios(full_medians(), ["chef"]))["[chef] image rebuild after edit / host after edit"]
    assert chef.target is None  # the target is the incremental strategy's
    whole = got["[incremental] plugin all checks after edit / host after edit"]
    assert (whole.value, whole.target, whole.verdict) == (pytest.approx(27.0 / 4.0), 2.5, "missed")
    assert (
        by_name(ratios(full_medians(), ["chef"]))["[chef] plugin all checks after edit / host after edit"].target
        is None
    )


@pytest.mark.parametrize(
    ("report", "seconds"),
    [
        ({"images": [{"build": {"reused": False, "seconds": 4.25}}]}, 4.25),
        ({"images": [{"build": {"reused": True, "seconds": 0.0}}]}, None),  # nothing was built
        ({"images": []}, None),
        ({}, None),
        ({"images": [{"build": {"seconds": 1.0}}, {"build": {"seconds": 2.0}}]}, None),  # which one?
    ],
)
def test_build_seconds_from_the_plugins_report(report: dict[str, object], seconds: float | None) -> None:
    assert measurements.build_seconds(report) == seconds


def test_table_shows_median_spread_runs_failures_and_targets() -> None:
    keys = [host_key("cold"), recipe_key("chef", "edit"), plugin_key("chef", "cache", "warm")]
    measured = {host_key("cold"): [3.0, 1.0, 2.0], recipe_key("chef", "edit"): [5.25]}
    text = format_table(
        measured,
        [
            Ratio("a ratio", 2.4, "x", 1.2, spread=(2.1, 2.75)),
            Ratio("a difference", 0.5, "s", 2.0, spread=(-0.25, 1.0)),
            Ratio("none yet", None, "x"),
        ],
        keys,
        failed=[recipe_key("chef", "edit")],
    )
    lines = text.splitlines()
    host = next(ln for ln in lines if ln.startswith("host cargo build --release, cold"))
    assert host.split()[-5:] == ["2.00", "1.00..3.00", "3.00", "1.00", "2.00"]
    chef = next(ln for ln in lines if ln.startswith("chef recipe by hand, after the edit"))
    assert chef.endswith("5.25..5.25  5.25  FAILED")
    plugin = next(
        ln for ln in lines if ln.startswith("pytest --rust-image [chef] build,runs,size,linkage,needs,cache, warm")
    )
    assert plugin.split()[-2:] == ["n/a", "n/a"]
    words = {ln.split("  ")[0]: ln.split()[2:] for ln in lines if ln.startswith(("a ", "none"))}
    assert words["a ratio"] == ["2.40x", "2.10..2.75x", "<=", "1.20x", "missed"]
    assert words["a difference"] == ["+0.50", "s", "-0.25..1.00", "s", "<=", "2.00", "s", "met"]
    assert words["none yet"][-2:] == ["n/a", "n/a"]


def test_spread_ignores_missing_values() -> None:
    assert measurements.spread([2.0, None, 1.0, 3.0]) == (1.0, 3.0)
    assert measurements.spread([None]) is None


def test_ratio_spread_comes_from_each_runs_own_pairs() -> None:
    base = full_medians()
    runs = []
    for chef_edit, plugin_edit in ((5.0, 5.0), (4.0, 6.0), (8.0, 4.0)):
        values = {k: v for k, v in base.items() if v is not None}
        values[recipe_key("chef", "edit")] = chef_edit
        values[plugin_key("chef", "base", "edit")] = plugin_edit
        runs.append(values)
    derived = measurements.with_spread(ratios(base, ["chef"]), runs, ["chef"])
    edit = by_name(derived)["[chef] plugin after edit / chef recipe after edit"]
    assert edit.value == pytest.approx(2.4)  # the ratio of the medians is kept
    assert edit.spread == (pytest.approx(0.5), pytest.approx(1.5))  # 4/8 .. 6/4, each run's own pair
    assert by_name(measurements.with_spread(ratios(base, ["chef"]), [], ["chef"]))[edit.name].spread is None


def test_measurement_keys_cover_every_part_per_strategy() -> None:
    keys = measurement_keys(["chef", "incremental"])
    assert keys[:2] == [host_key("cold"), host_key("edit")]
    assert plugin_key("incremental", "cache", "edit") in keys
    assert plugin_key("incremental", "base", measurements.IMAGE_BUILD) in keys
    assert plugin_key("chef", "lean", "warm") in keys and plugin_key("chef", "needs", "warm") in keys
    assert plugin_key("chef", "sbom", "warm") in keys and plugin_key("chef", "reproducible", "first") in keys
    # per strategy: 2 check sets x 3 phases, the image build, 5 warm extras, the reproducible check's first run
    assert len(keys) == 2 + 4 + 1 + 2 * (2 * 3 + 1 + 5 + 1)
    assert all(measurements.label_of(k) != k for k in keys)


@pytest.mark.parametrize("recipe", recipes.RECIPES)
def test_recipes_take_the_base_images_as_args_and_copy_the_binary(recipe: str) -> None:
    text = render_recipe(recipe, "rg")
    lines = text.splitlines()
    assert lines[1:3] == [f"ARG BUILDER_IMAGE={names.DEFAULT_BUILDER}", f"ARG RUNTIME_IMAGE={names.DEFAULT_RUNTIME}"]
    assert "FROM ${BUILDER_IMAGE} AS " in text
    assert lines[-3:] == [
        "FROM ${RUNTIME_IMAGE}",
        "COPY --from=builder /app/target/release/rg /usr/local/bin/",
        'CMD ["rg"]',
    ]


SERVER_SOURCES = recipes.Sources(("Cargo.lock", "Cargo.toml", "README.md"), ("src",))
SOURCE_LINES = ["COPY Cargo.lock Cargo.toml README.md ./", "COPY src src/"]


def test_chef_recipe_gives_the_cook_step_the_vendored_sources_in_a_layer_of_their_own() -> None:
    lines = render_recipe("chef", "server", SERVER_SOURCES).splitlines()
    builder = lines[lines.index("FROM chef AS builder") :]
    cook = builder.index("RUN cargo chef cook --release --recipe-path recipe.json")
    assert builder[:4] == [
        "FROM chef AS builder",
        "COPY .cargo .cargo",
        "COPY vendor vendor",
        "COPY --from=planner /app/recipe.json recipe.json",
    ]
    assert builder[cook + 1 : cook + 4] == [*SOURCE_LINES, "RUN cargo build --release"]
    planner = lines[lines.index("FROM chef AS planner") :]
    assert planner[1:4] == [*SOURCE_LINES, "RUN cargo chef prepare --recipe-path recipe.json"]


@pytest.mark.parametrize("recipe", recipes.RECIPES)
def test_no_recipe_copies_the_whole_context(recipe: str) -> None:
    """An edit must not send the vendored sources again: they are copied once, by name, never by ``.``."""
    lines = render_recipe(recipe, "server", SERVER_SOURCES).splitlines()
    copies = [ln for ln in lines if ln.startswith("COPY") and "--from=" not in ln]
    assert not [ln for ln in copies if ln.split()[1] == "."]
    assert copies.count("COPY vendor vendor") == 1
    assert all("vendor" not in ln for ln in copies if ln != "COPY vendor vendor")


def test_naive_recipe_copies_the_vendored_sources_then_the_sources_then_builds() -> None:
    lines = render_recipe("naive", "server", SERVER_SOURCES).splitlines()
    start = lines.index("COPY .cargo .cargo")
    assert lines[start : start + 5] == [
        "COPY .cargo .cargo",
        "COPY vendor vendor",
        *SOURCE_LINES,
        "RUN cargo build --release",
    ]


def test_sources_are_the_top_level_entries_but_vendor_target_and_hidden_ones() -> None:
    entries = [
        ("src", True),
        ("Cargo.toml", False),
        ("vendor", True),
        ("target", True),
        (".cargo", True),
        (".git", True),
        ("build.rs", False),
        ("Cargo.lock", False),
        ("crates", True),
    ]
    assert recipes.source_entries(entries) == recipes.Sources(
        ("Cargo.lock", "Cargo.toml", "build.rs"), ("crates", "src")
    )


def test_sources_of_a_folder(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "vendor").mkdir()
    (tmp_path / "Cargo.toml").write_text("")
    (tmp_path / "linked").symlink_to(tmp_path / "src")
    assert recipes.sources_of(tmp_path) == recipes.Sources(("Cargo.toml", "linked"), ("src",))


def test_source_copies_quote_names_that_need_it() -> None:
    lines = recipes.copy_sources(recipes.Sources(("Cargo.toml", "my notes.txt"), ("src", "data dir")))
    assert lines == [
        'COPY ["Cargo.toml", "my notes.txt", "./"]',
        "COPY src src/",
        'COPY ["data dir", "data dir/"]',
    ]
    assert recipes.copy_sources(recipes.Sources((), ("src",))) == ["COPY src src/"]


def test_unknown_recipe_is_refused() -> None:
    with pytest.raises(ValueError, match="no recipe 'dummy'"):
        render_recipe("dummy", "x")


def test_vendor_config_replaces_crates_io_offline() -> None:
    config = tomllib.loads(recipes.vendor_config())
    assert config["source"]["crates-io"]["replace-with"] == "vendored-sources"
    assert config["source"]["vendored-sources"]["directory"] == "vendor"
    assert config["net"]["offline"] is True


def test_ini_sets_the_local_bases_and_vendoring() -> None:
    text = manifest.ini_text(names.LOCAL_BUILDER, names.LOCAL_RUNTIME)
    assert text.splitlines() == [
        "[pytest]",
        "rust_image_builder = pytest-rustimage/builder:bookworm",
        "rust_image_runtime = pytest-rustimage/runtime:bookworm-slim",
        "rust_image_vendor = true",
    ]


SERVER = """[package]
name = "server"
version = "0.1.0"

[dependencies]
tokio = "1"

[package.metadata.rust-image]
expect-stdout = "server 0.1.0"
max-size = "150MiB"
"""


def test_rename_keeps_the_binary_name_with_an_explicit_bin() -> None:
    text = manifest.rename_manifest(SERVER, "server", "rib-1-server", "server", "src/main.rs", lib=False)
    doc = tomllib.loads(text)
    assert doc["package"]["name"] == "rib-1-server"
    assert doc["bin"] == [{"name": "server", "path": "src/main.rs"}]
    assert doc["package"]["metadata"]["rust-image"]["max-size"] == "150MiB"
    assert "lib" not in doc


def test_rename_leaves_an_explicit_bin_and_names_the_library() -> None:
    text = (
        '[package]\nname = "ripgrep"\nversion = "15.1.0"\n\n[lib]\npath = "src/lib.rs"\n\n'
        '[[bin]]\nname = "rg"\npath = "crates/core/main.rs"\n'
    )
    doc = tomllib.loads(
        manifest.rename_manifest(text, "ripgrep", "rib-2-ripgrep", "rg", "crates/core/main.rs", lib=True)
    )
    assert doc["package"]["name"] == "rib-2-ripgrep"
    assert doc["bin"] == [{"name": "rg", "path": "crates/core/main.rs"}]
    assert doc["lib"] == {"name": "ripgrep", "path": "src/lib.rs"}


def test_rename_adds_a_lib_table_when_there_is_none() -> None:
    doc = tomllib.loads(manifest.rename_manifest(SERVER, "server", "new", "server", "src/main.rs", lib=True))
    assert doc["lib"] == {"name": "server"}


def test_rename_refuses_a_manifest_without_the_package() -> None:
    with pytest.raises(ValueError, match=r"no \[package\]"):
        manifest.rename_manifest('[workspace]\nmembers = ["a"]\n', "a", "b", "a", "src/main.rs", lib=False)
    with pytest.raises(ValueError, match='no name = "other"'):
        manifest.rename_manifest(SERVER, "other", "b", "a", "src/main.rs", lib=False)


LOCK = """version = 4

[[package]]
name = "server"
version = "0.1.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "00"

[[package]]
name = "server"
version = "0.1.0"
dependencies = [
 "tokio",
]
"""


def test_rename_lock_renames_only_the_root_package() -> None:
    doc = tomllib.loads(manifest.rename_lock(LOCK, "server", "rib-1-server", "0.1.0"))
    assert [p["name"] for p in doc["package"]] == ["server", "rib-1-server"]
    with pytest.raises(ValueError, match=r"no entry for the package server 9\.9\.9"):
        manifest.rename_lock(LOCK, "server", "x", "9.9.9")


def test_image_metadata_replaces_keys_and_keeps_the_others() -> None:
    text = manifest.set_image_metadata(SERVER, {"args": ["--version"], "expect-stdout": 'rg "15"'})
    meta = tomllib.loads(text)["package"]["metadata"]["rust-image"]
    assert meta == {"args": ["--version"], "expect-stdout": 'rg "15"', "max-size": "150MiB"}


def test_image_metadata_makes_the_table_when_missing() -> None:
    text = manifest.set_image_metadata('[package]\nname = "a"\n', {"args": []})
    assert tomllib.loads(text)["package"]["metadata"]["rust-image"] == {"args": []}


def test_the_edit_is_a_comment_unique_per_copy() -> None:
    one, two = manifest.edit_text("a1"), manifest.edit_text("b2")
    assert one != two
    assert all(ln.startswith("//") for ln in one.splitlines() if ln)


def test_the_sbom_and_reproducible_costs_against_issue_24s_targets() -> None:
    medians = full_medians("chef")
    medians[plugin_key("chef", "base", "cold")] = 50.0
    medians[plugin_key("chef", "base", "warm")] = 5.0
    medians[plugin_key("chef", "auditable", "warm")] = 5.1
    medians[plugin_key("chef", "sbom", "warm")] = 5.25
    medians[plugin_key("chef", "reproducible", "warm")] = 5.05
    medians[plugin_key("chef", "reproducible", "first")] = 50.0
    got = by_name(ratios(medians, ["chef"]))
    sbom = got["[chef] sbom check, warm (with minus without, both auditable)"]
    assert (sbom.value, sbom.target, sbom.verdict) == (pytest.approx(0.15), 0.2, "met")
    reused = got["[chef] reproducible check, verdict reused (minus base, warm)"]
    assert (reused.value, reused.verdict) == (pytest.approx(0.05), "met")
    first = got["[chef] reproducible check's first run, in cold builds (both minus base warm)"]
    assert (first.value, first.target, first.verdict) == (pytest.approx(1.0), 1.2, "met")
    medians[plugin_key("chef", "sbom", "warm")] = 5.4
    assert by_name(ratios(medians, ["chef"]))[sbom.name].verdict == "missed"
    assert measurements.label_of(plugin_key("chef", "reproducible", "first")) == (
        "pytest --rust-image [chef] build,runs,size,linkage,reproducible,"
        " its first run (the check's second, cold build)"
    )


def test_the_needs_check_and_runtime_matrix_cost_is_with_both_minus_without() -> None:
    medians = full_medians("chef")
    medians[plugin_key("chef", "lean", "warm")] = 6.5
    medians[plugin_key("chef", "needs", "warm")] = 6.7
    cost = by_name(ratios(medians, ["chef"]))["[chef] needs check and runtime matrix, warm (with both minus without)"]
    assert (cost.value, cost.target, cost.verdict) == (pytest.approx(0.2), 0.3, "met")
    medians[plugin_key("chef", "needs", "warm")] = 6.9
    assert by_name(ratios(medians, ["chef"]))[cost.name].verdict == "missed"
    assert measurements.label_of(plugin_key("chef", "lean", "warm")) == (
        "pytest --rust-image [chef] build,runs,size,linkage --rust-image-runtimes=none, warm, nothing changed"
    )

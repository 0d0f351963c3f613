"""`python -m pytest_rustimage prune` on real engines, after real builds of two versions of a crate.

Other sessions may build on the same engines meanwhile, so every prune here is limited to this
test's own crate (`--crate`, with a name no one else uses), and what it must not touch (the base
images, an image tagged by hand) is checked by id.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import tarfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_rustimage import names
from pytest_rustimage.engines import make_engine
from pytest_rustimage.housekeeping import base_images as bases
from pytest_rustimage.names import INPUTS_LABEL, PLUGIN_LABEL
from tests.acceptance.owned import BUILD, ENGINES, built_tags, freed, image_id, labels, own_crate, prune, rename
from tests.acceptance.project import Project, output_words


@pytest.fixture
def crate_name() -> Iterator[str]:
    yield from own_crate("prunetest")


@pytest.fixture
def unrelated() -> Iterator[str]:
    """An image tagged by hand (from the runtime base), on both engines."""
    tag = f"prune-test/unrelated:{uuid.uuid4().hex[:8]}"
    for engine in ENGINES:
        subprocess.run([engine, "tag", names.LOCAL_RUNTIME, tag], check=True)
    yield tag
    for engine in ENGINES:
        subprocess.run([engine, "rmi", tag], capture_output=True)


def test_prune_removes_the_older_build_and_nothing_else(project: Project, crate_name: str, unrelated: str) -> None:
    crate = project.copy("hello", "app")
    rename(crate, crate_name)
    first = project.run("app", *BUILD)
    first.assert_outcomes(passed=2)
    old = built_tags(first)
    main = crate / "src" / "main.rs"
    main.write_text(main.read_text().replace("Hello from a container!", "Hello again!"))
    second = project.run("app", *BUILD)
    second.assert_outcomes(passed=2)
    new = built_tags(second)
    assert not set(old.values()) & set(new.values())
    old_ids = {engine: image_id(engine, old[engine]) for engine in ENGINES}
    old_inputs = {engine: labels(engine, old[engine])[INPUTS_LABEL] for engine in ENGINES}
    untouchable = {
        (engine, ref): image_id(engine, ref)
        for engine in ENGINES
        for ref in (names.LOCAL_BUILDER, names.LOCAL_RUNTIME, unrelated, new[engine])
    }
    assert all(untouchable.values()) and all(old_ids.values())

    dry = prune("--crate", crate_name, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    for engine in ENGINES:
        assert image_id(engine, old[engine]) == old_ids[engine], "a dry run removed something"
    assert f"would remove {old['docker']}: an older build of {crate_name} (static)" in dry.stdout
    assert f"would remove localhost/{old['podman']}: an older build of {crate_name} (static)" in dry.stdout
    assert f"kept {new['docker']}: built by the latest session(s) of {crate_name} (static)" in dry.stdout
    would = freed(dry.stdout)  # the old binary's layer, on each engine (an empty parse must not pass)
    assert set(would) == set(ENGINES) and all(size > 1_000_000 for size in would.values()), dry.stdout

    done = prune("--crate", crate_name)
    assert done.returncode == 0, done.stderr
    for engine in ENGINES:
        assert image_id(engine, old[engine]) is None
        assert image_id(engine, str(old_ids[engine])) is None, f"{engine} still holds the old image"
        stages = subprocess.run(
            [engine, "images", "-a", "-q", "--filter", f"label={INPUTS_LABEL}={old_inputs[engine]}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        assert stages == [], f"{engine} still holds stage images of the old build"
    assert {key: image_id(*key) for key in untouchable} == untouchable
    assert f"removed {old['docker']}: an older build of {crate_name} (static)" in done.stdout
    assert f"removed localhost/{old['podman']}" in done.stdout
    sizes = freed(done.stdout)
    assert set(sizes) == set(ENGINES) and all(size > 1_000_000 for size in sizes.values()), done.stdout

    again = prune("--crate", crate_name)
    assert again.stdout.count("nothing to remove") == 2, again.stdout


@pytest.mark.parametrize(("variable", "engine"), [("DOCKER_HOST", "docker"), ("CONTAINER_HOST", "podman")])
def test_an_absent_engine_is_skipped_by_default_and_an_error_when_asked_for(variable: str, engine: str) -> None:
    env = {**os.environ, variable: "unix:///nonexistent/rust-image-test.sock"}
    name = f"absent{uuid.uuid4().hex[:8]}"  # no such crate: nothing is removed anywhere
    default = prune("--crate", name, "--dry-run", env=env)
    assert default.returncode == 0, default.stderr
    assert f"{engine}: skipped, {engine} engine not reachable at unix:///nonexistent/rust-image-test.sock" in (
        default.stdout
    )
    other = next(e for e in ENGINES if e != engine)
    assert re.search(rf"^{other} at .*:\n  nothing to remove\n  would free 0 B", default.stdout, re.M), default.stdout
    asked = prune("--crate", name, "--dry-run", "--engine", engine, env=env)
    assert asked.returncode == 1
    assert f"{engine}: skipped, {engine} engine not reachable" in asked.stderr


def test_prune_keeps_n_sessions_and_removes_probe_tags_and_stopped_containers(
    project: Project, crate_name: str
) -> None:
    crate = project.copy("hello", "app")
    rename(crate, crate_name)
    main = crate / "src" / "main.rs"
    original = main.read_text()
    builds = []
    for n in range(3):  # three sessions, three versions
        if n:  # a new binary each time: an unchanged one would keep its layer's (the image's) creation time
            main.write_text(original.replace("Hello from a container!", f"Hello, version {n}!"))
        run = project.run("app", *BUILD)
        run.assert_outcomes(passed=2)
        builds.append(built_tags(run))
    oldest, middle, newest = builds
    for engine in ENGINES:
        assert len({build[engine] for build in builds}) == 3
    ids = {(engine, n): image_id(engine, build[engine]) for engine in ENGINES for n, build in enumerate(builds)}
    assert all(ids.values())
    probe = names.probe_tag(crate_name, "static", uuid.uuid4().hex[:12]) + "-cold"  # as an interrupted probe leaves
    containers = {}
    try:
        for engine in ENGINES:
            subprocess.run([engine, "tag", newest[engine], probe], check=True)
            name = f"{crate_name}-stopped-{engine}"
            # a stopped container of the plugin, as an interrupted session leaves one, on the oldest build
            done = subprocess.run(
                [engine, "run", "--name", name, "--label", f"{PLUGIN_LABEL}=test", oldest[engine], "--version"],
                capture_output=True,
                text=True,
                check=True,
            )
            assert done.stdout == "hello 0.1.0\n"
            containers[engine] = output_words(engine, "ps", "-aq", "--filter", f"name=^{name}$")
            assert len(containers[engine]) == 1

        kept_two = prune("--crate", crate_name, "--keep", "2", "--grace", "0")
        assert kept_two.returncode == 0, kept_two.stderr
        for engine in ENGINES:
            assert output_words(engine, "ps", "-aq", "--filter", f"name=^{crate_name}-stopped-{engine}$") == [], (
                f"{engine} still holds the stopped container\n{kept_two.stdout}"
            )
            assert image_id(engine, oldest[engine]) is None, kept_two.stdout
            assert image_id(engine, str(ids[engine, 0])) is None, kept_two.stdout
            assert image_id(engine, probe) is None, f"{engine} still holds the probe tag\n{kept_two.stdout}"
            assert image_id(engine, middle[engine]) == ids[engine, 1], "--keep 2 removed the second session's build"
            assert image_id(engine, newest[engine]) == ids[engine, 2]  # the probe tag went, the build stays
        assert f"removed {oldest['docker']}: an older build of {crate_name} (static)" in kept_two.stdout
        assert f"kept {middle['docker']}: built by the latest session(s) of {crate_name} (static)" in kept_two.stdout
        assert f"removed {probe}: a cache probe's leftover" in kept_two.stdout, kept_two.stdout
        assert kept_two.stdout.count("exited container") == 2, kept_two.stdout

        kept_one = prune("--crate", crate_name, "--grace", "0")  # the default: the latest session only
        assert kept_one.returncode == 0, kept_one.stderr
        for engine in ENGINES:
            assert image_id(engine, middle[engine]) is None
            assert image_id(engine, newest[engine]) == ids[engine, 2]
        assert f"removed {middle['docker']}: an older build of {crate_name} (static)" in kept_one.stdout
    finally:
        for engine, found in containers.items():
            if found:
                subprocess.run([engine, "rm", "-f", *found], capture_output=True)
        for engine in ENGINES:
            subprocess.run([engine, "rmi", probe], capture_output=True)


def any_id(engine: str, ref: str) -> str | None:
    """The image's id as ``sha256:HEX`` on either engine (Podman prints it bare)."""
    found = image_id(engine, ref)
    return names.normalise_id(found) if found else None


@pytest.mark.usefixtures("base_images")
def test_bases_does_nothing_when_the_recipe_matches() -> None:
    before = {
        (engine, ref): any_id(engine, ref) for engine in ENGINES for ref in (names.LOCAL_BUILDER, names.LOCAL_RUNTIME)
    }
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "pytest_rustimage", "bases", "--engine", "docker", "--engine", "podman"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    took = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    for engine, ref in before:
        assert f"{ref} is up to date in {engine} ({before[engine, ref]})" in done.stdout, done.stdout
    assert "made in" not in done.stdout and "copying" not in done.stdout, done.stdout
    assert {key: any_id(*key) for key in before} == before
    assert took < 30, f"bases took {took:.1f}s with nothing to do"  # docs/base-images.md: about a second


def _tiny_rootfs(tarball: Path) -> None:
    with tarfile.open(tarball, "w") as tar:
        data = b"a stand-in rootfs: only the recipe check is under test\n"
        info = tarfile.TarInfo("etc/recipe")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))


@pytest.mark.usefixtures("base_images")
def test_a_changed_recipe_remakes_the_base_and_prune_bases_removes_the_replaced_one() -> None:
    """The decision `bases` makes, on real engines, with a base of the test's own (mmdebstrap and the
    host's toolchain are not changed here: the toolchain enters the recipe digest, which is all that
    decides): a matching digest does nothing, another toolchain's digest remakes the image in both
    engines; `prune --bases` then removes the replaced image and leaves the current ones."""
    tag = f"pytest-rustimage/testbase-{uuid.uuid4().hex[:8]}:bookworm"
    old_chain = {"rustc": "rustc 1.80.0 (test)", "chef": "cargo-chef 0.1.0"}
    new_chain = {**old_chain, "rustc": "rustc 1.81.0 (test)"}
    old_digest = bases.recipe_digest("builder", bases.DEFAULT_SOURCES, old_chain)
    new_digest = bases.recipe_digest("builder", bases.DEFAULT_SOURCES, new_chain)
    assert old_digest != new_digest  # the toolchain is part of the recipe
    engines = [make_engine(name) for name in ENGINES]
    made: list[str] = []
    ids: set[str] = set()

    def make(tarball: Path) -> None:
        made.append(tarball.name)
        _tiny_rootfs(tarball)

    def ensure(digest: str) -> dict[str, tuple[str, bool]]:
        results = bases._ensure(engines, tag, digest, make, ['CMD ["/etc/recipe"]'], force=False, say=print)
        ids.update(result.image_id for result in results)
        return {engine.name: (result.image_id, result.made) for engine, result in zip(engines, results, strict=True)}

    try:
        for engine in engines:
            engine.ping()
        first = ensure(old_digest)
        assert len(made) == 1 and all(was_made for _, was_made in first.values()), first
        assert len({ident for ident, _ in first.values()}) == 1  # copied, not made twice: the same id
        again = ensure(old_digest)
        assert len(made) == 1 and again == {name: (ident, False) for name, (ident, _) in first.items()}
        remade = ensure(new_digest)
        assert len(made) == 2 and all(was_made for _, was_made in remade.values()), remade
        old_id, new_id = first["docker"][0], remade["docker"][0]
        assert new_id != old_id and remade["podman"][0] == new_id
        for engine in ENGINES:
            assert labels(engine, tag)[bases.RECIPE_LABEL] == new_digest
            assert any_id(engine, old_id) == old_id  # replaced: untagged, still there

        current = {
            (engine, ref): any_id(engine, ref)
            for engine in ENGINES
            for ref in (names.LOCAL_BUILDER, names.LOCAL_RUNTIME, tag)
        }
        # no crate of this name: only the bases are looked at; grace 0, as the replaced image is new
        pruned = prune("--bases", "--crate", f"nothing{uuid.uuid4().hex[:8]}", "--grace", "0")
        assert pruned.returncode == 0, pruned.stderr
        for engine in ENGINES:
            assert any_id(engine, old_id) is None, f"{engine} still holds the replaced base\n{pruned.stdout}"
        assert f"removed <none> {old_id.removeprefix('sha256:')[:12]}: a replaced base image" in pruned.stdout, (
            pruned.stdout
        )
        assert {key: any_id(*key) for key in current} == current  # the current bases stay
        assert f"kept {tag}: a current base image (remove with --all --bases)" in pruned.stdout, pruned.stdout
    finally:
        for engine in engines:
            engine.remove_image(tag)
            for ident in ids:
                engine.remove_image(ident)
            engine.close()

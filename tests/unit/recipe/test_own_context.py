"""The dockerfile strategy's context: the crate's folder, or its vendored copy; the probe's copy and its Dockerfile."""

from __future__ import annotations

import dataclasses
import re
import shutil
import sys
from pathlib import Path

import pytest

from pytest_rustimage.crate import read_crate
from pytest_rustimage.errors import BuildFailed, CrateError
from pytest_rustimage.plugin.resolve import resolve
from pytest_rustimage.plugin.settings import Settings
from pytest_rustimage.recipe.context import (
    bring_dockerfile,
    context_files,
    copy_tree,
    digest_inputs,
    input_digest,
    prepare,
)
from pytest_rustimage.recipe.spec import ImageSpec
from pytest_rustimage.recipe.vendored import _first_error, vendor_context

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from tests.unit.recipe.test_cargo_config import REPLACEMENT
from tests.unit.recipe.test_context import CRATE, EXTRA, write

# --- the dockerfile strategy's context ----------------------------------------------------------

OWN = {
    **CRATE,
    "Dockerfile.chef": "FROM scratch\n",
    ".dockerignore": "notes/\nDockerfile.*\nvendor\n.cargo\n",
    "notes/todo.txt": "left out\n",
    ".env": "SECRET=1\n",
}


def own_spec(tmp_path: Path, files: dict[str, str], *, vendored: bool) -> ImageSpec:
    root = write(tmp_path / "crate", files)
    manifest = root / "Cargo.toml"
    manifest.write_text(
        manifest.read_text() + '\n[package.metadata.rust-image]\nbin = "p"\ndockerfile = "Dockerfile.chef"\n'
    )
    return resolve(Settings(rootdir=tmp_path, vendor=vendored), read_crate(root), "dockerfile", "docker")


def test_without_vendoring_the_context_is_the_crate_folder(tmp_path: Path) -> None:
    spec = own_spec(tmp_path, OWN, vendored=False)
    root = tmp_path / "crate"
    assert prepare(spec, tmp_path / "work") == (root, root / "Dockerfile.chef", root)


def test_vendored_context_is_a_copy_with_the_cargo_config_and_no_dockerignore(tmp_path: Path) -> None:
    spec = own_spec(tmp_path, OWN, vendored=True)
    (tmp_path / "work").mkdir()
    context, dockerfile, inputs = prepare(spec, tmp_path / "work")
    assert context.parent == tmp_path / "work" and inputs == tmp_path / "crate"  # its digest reads the crate
    assert dockerfile == tmp_path / "crate" / "Dockerfile.chef"  # its .dockerignore leaves it out of the copy
    # the exclusions applied, then the .dockerignore itself left out: the engine must send .cargo/ and vendor/
    assert sorted(rel for rel, _ in context_files(context)) == [
        ".cargo/config.toml",
        "Cargo.lock",
        "Cargo.toml",
        "assets/logo.txt",
        "src/bin/tool.rs",
        "src/main.rs",
        "zz.txt",
    ]
    assert tomllib.loads((context / ".cargo/config.toml").read_text()) == REPLACEMENT
    assert not (tmp_path / "crate" / ".cargo").exists()  # the crate's tree is never touched


def test_vendored_context_merges_the_crates_own_config(tmp_path: Path) -> None:
    files = {**CRATE, "Dockerfile.chef": "FROM scratch\n", ".cargo/config.toml": "[build]\njobs = 2\n"}
    spec = own_spec(tmp_path, files, vendored=True)
    (tmp_path / "work").mkdir()
    context, _, _ = prepare(spec, tmp_path / "work")
    assert tomllib.loads((context / ".cargo/config.toml").read_text()) == {**REPLACEMENT, "build": {"jobs": 2}}
    assert (tmp_path / "crate/.cargo/config.toml").read_text() == "[build]\njobs = 2\n"


def test_vendored_context_reads_the_legacy_config_name_as_cargo_does(tmp_path: Path) -> None:
    """Cargo prefers ``.cargo/config`` when both are there; the copy has one merged ``config.toml``."""
    files = {**CRATE, "Dockerfile.chef": "x\n", ".cargo/config": "[build]\njobs = 1\n", ".cargo/config.toml": "[x]\n"}
    spec = own_spec(tmp_path, files, vendored=True)
    (tmp_path / "work").mkdir()
    context, _, _ = prepare(spec, tmp_path / "work")
    assert sorted(p.name for p in (context / ".cargo").iterdir()) == ["config.toml"]
    assert tomllib.loads((context / ".cargo/config.toml").read_text()) == {**REPLACEMENT, "build": {"jobs": 1}}


def test_vendored_context_refuses_another_replacement_naming_the_crates_config(tmp_path: Path) -> None:
    files = {**CRATE, "Dockerfile.chef": "x\n", ".cargo/config.toml": '[source.crates-io]\nreplace-with = "m"\n'}
    spec = own_spec(tmp_path, files, vendored=True)
    (tmp_path / "work").mkdir()
    with pytest.raises(CrateError, match=rf"^{re.escape(str(tmp_path / 'crate/.cargo/config.toml'))}: \[source"):
        prepare(spec, tmp_path / "work")


def test_the_digest_of_a_vendored_context_reads_the_crate_not_the_copy(tmp_path: Path) -> None:
    """The tag is the digest of the crate's own files (the copy's .cargo/config.toml and vendor/ follow
    from them and from the vendored flag, which the factory adds), so a kept copy cannot change it."""
    plain = own_spec(tmp_path / "a", OWN, vendored=False)
    vendored = own_spec(tmp_path / "b", OWN, vendored=True)
    (tmp_path / "work").mkdir()
    _, _, plain_inputs = prepare(plain, tmp_path / "work")
    context, _, vendored_inputs = prepare(vendored, tmp_path / "work")
    assert (context / ".cargo/config.toml").is_file() and not (vendored_inputs / ".cargo").exists()
    before = digest_inputs(vendored_inputs, EXTRA)
    (context / "vendor").mkdir()
    (context / "vendor" / "Cargo.toml").write_text("[package]\n")  # what vendoring adds to the copy
    assert digest_inputs(vendored_inputs, EXTRA) == before == digest_inputs(plain_inputs, EXTRA)


def test_vendoring_a_lock_that_does_not_match_names_the_crate_and_gives_cargos_message(tmp_path: Path) -> None:
    if shutil.which("cargo") is None:
        pytest.skip("no cargo on this machine")
    files = {**CRATE, "Dockerfile.chef": "x\n", "Cargo.toml": CRATE["Cargo.toml"] + '\n[dependencies]\nitoa = "1"\n'}
    files["Cargo.lock"] = 'version = 4\n\n[[package]]\nname = "p"\nversion = "0.1.0"\n'
    spec = own_spec(tmp_path, files, vendored=True)
    (tmp_path / "work").mkdir()
    context, _, _ = prepare(spec, tmp_path / "work")
    with pytest.raises(BuildFailed) as info:
        vendor_context(spec, context)
    reason = info.value.reason
    assert reason.startswith(f"`cargo vendor --locked` for crate p ({tmp_path / 'crate' / 'Cargo.toml'}) failed ")
    assert reason.endswith("because --locked was passed to prevent this")  # cargo's root cause
    assert "--locked" in info.value.log and "error:" in info.value.log  # cargo's own output as the log


CARGO_FAILURE = """    Updating crates.io index
error: failed to sync

Caused by:
  failed to load lockfile for /tmp/x

Caused by:
  cannot update the lock file /tmp/x/Cargo.lock because --locked was passed to prevent this
  help: to generate the lock file without accessing the network, remove the --locked flag
"""


@pytest.mark.parametrize(
    ("stderr", "message"),
    [
        (CARGO_FAILURE, "failed to sync: cannot update the lock file /tmp/x/Cargo.lock because --locked was passed to "
         "prevent this"),
        ("error: no matching package named `nope` found\n", "no matching package named `nope` found"),
        ("warning: only a warning\n", ""),
    ],
)  # fmt: skip
def test_a_cargo_failure_reads_as_its_error_and_root_cause(stderr: str, message: str) -> None:
    assert _first_error(stderr) == message


def test_a_copy_of_the_workspace_stands_for_the_crate_folder(tmp_path: Path) -> None:
    """The cache probe builds an edited copy (``source``): the context and Dockerfile are the copy's."""
    spec = own_spec(tmp_path, OWN, vendored=False)
    copy_tree(tmp_path / "crate", tmp_path / "edited")
    edited = tmp_path / "edited"
    assert prepare(spec, tmp_path / "work", edited) == (edited, edited / "Dockerfile.chef", edited)
    vendored = own_spec(tmp_path / "v", {**OWN, "src/main.rs": "fn main() { /* edited */ }\n"}, vendored=True)
    (tmp_path / "work").mkdir()
    context, _, _ = prepare(vendored, tmp_path / "work", edited)
    assert (context / "src/main.rs").read_text() == CRATE["src/main.rs"]  # from the copy, not the crate
    # a spec whose Dockerfile points into the copy already gets that one
    moved = dataclasses.replace(spec, dockerfile=edited / "Dockerfile.chef")
    assert prepare(moved, tmp_path / "work", edited) == (edited, edited / "Dockerfile.chef", edited)


@pytest.mark.parametrize("vendored", [False, True])
def test_the_probes_copy_gets_the_dockerfile_its_dockerignore_leaves_out(tmp_path: Path, vendored: bool) -> None:
    """The engine reads the Dockerfile apart from the context, so a ``.dockerignore`` listing it did not
    keep it from the image's build, and must not keep it from the probe's: the copy gets the original."""
    files = {**OWN, "Dockerfile.chef": "FROM scratch\nCOPY . .\n", "Dockerfile.chef.dockerignore": "notes/\n"}
    spec = own_spec(tmp_path, files, vendored=vendored)
    edited = tmp_path / "probe" / "crate"
    copy_tree(tmp_path / "crate", edited, as_engine=not vendored)
    assert not (edited / "Dockerfile.chef").exists()  # left out by `Dockerfile.*`
    assert bring_dockerfile(spec, edited) == edited / "Dockerfile.chef"
    assert (edited / "Dockerfile.chef").read_text() == files["Dockerfile.chef"]
    assert (edited / "Dockerfile.chef.dockerignore").read_text() == "notes/\n"  # the builder prefers it: it comes too
    (tmp_path / "work").mkdir()
    context, dockerfile, _ = prepare(spec, tmp_path / "work", edited)
    assert dockerfile == edited / "Dockerfile.chef" and dockerfile.is_file()
    assert not (context / "Dockerfile.chef").exists() or not vendored  # a vendored context still leaves it out
    # an edit of the copy's Dockerfile (a custom edit may make one) is kept: brought only when missing
    dockerfile.write_text("FROM scratch\n# edited\n")
    bring_dockerfile(spec, edited)
    assert dockerfile.read_text() == "FROM scratch\n# edited\n"


@pytest.mark.parametrize("vendored", [False, True])
def test_the_probes_copy_gets_a_dockerfile_from_outside_the_workspace_beside_it(tmp_path: Path, vendored: bool) -> None:
    spec = own_spec(tmp_path, CRATE | {"Dockerfile.chef": "x\n"}, vendored=vendored)
    outside = write(tmp_path / "docker", {"Dockerfile": "FROM scratch\n"}) / "Dockerfile"
    spec = dataclasses.replace(spec, dockerfile=tmp_path / "crate" / ".." / "docker" / "Dockerfile")
    edited = tmp_path / "probe" / "crate"
    copy_tree(tmp_path / "crate", edited, as_engine=not vendored)
    placed = bring_dockerfile(spec, edited)
    assert placed.read_text() == outside.read_text() and placed.parent.parent == edited.parent
    (tmp_path / "work").mkdir()
    context, dockerfile, _ = prepare(spec, tmp_path / "work", edited)
    assert dockerfile == placed and not dockerfile.is_relative_to(context)  # passed apart from the context
    assert context == edited or context.parent == tmp_path / "work"


@pytest.mark.parametrize("where", ["ignored", "outside"])
def test_the_input_digest_keys_on_the_dockerfile_the_context_leaves_out(tmp_path: Path, where: str) -> None:
    """The tag (and with it the stored cache verdict, kept under the tag) changes with the Dockerfile's
    text, though the context's files do not hold it; the probe's unedited copy digests like the crate,
    its edited one does not."""
    spec = own_spec(tmp_path, OWN, vendored=False)
    if where == "outside":
        write(tmp_path / "docker", {"Dockerfile": "FROM scratch\n"})
        spec = dataclasses.replace(spec, dockerfile=tmp_path / "docker" / "Dockerfile")
    assert spec.dockerfile is not None
    (tmp_path / "work").mkdir()
    _, dockerfile, inputs = prepare(spec, tmp_path / "work")
    before = input_digest(inputs, dockerfile, EXTRA)
    edited = tmp_path / "probe" / "crate"
    copy_tree(tmp_path / "crate", edited, as_engine=True)
    bring_dockerfile(spec, edited)
    _, copied, copy_inputs = prepare(spec, tmp_path / "work", edited)
    assert input_digest(copy_inputs, copied, EXTRA) == before
    (edited / "src" / "main.rs").write_text("fn main() { /* edited */ }\n")
    assert input_digest(copy_inputs, copied, EXTRA) != before
    spec.dockerfile.write_text(spec.dockerfile.read_text() + "# changed\n")
    assert input_digest(inputs, dockerfile, EXTRA) != before


def test_a_dockerfile_that_cannot_be_read_is_named(tmp_path: Path) -> None:
    spec = own_spec(tmp_path, OWN, vendored=False)
    spec = dataclasses.replace(spec, dockerfile=tmp_path / "gone" / "Dockerfile")
    with pytest.raises(CrateError, match=rf"^{re.escape(str(tmp_path / 'gone' / 'Dockerfile'))}: cannot read"):
        bring_dockerfile(spec, tmp_path / "probe" / "crate")


def test_a_generated_strategy_vendors_with_the_lock_brought_up_to_date(tmp_path: Path) -> None:
    """A generated Dockerfile builds the copy, whose lockfile cargo may update (an edit that adds a dependency)."""
    if shutil.which("cargo") is None:
        pytest.skip("no cargo on this machine")
    files = {**CRATE, "Dockerfile.chef": "x\n", "Cargo.toml": CRATE["Cargo.toml"] + '\n[dependencies]\nitoa = "1"\n'}
    files["Cargo.lock"] = 'version = 4\n\n[[package]]\nname = "p"\nversion = "0.1.0"\n'
    spec = dataclasses.replace(own_spec(tmp_path, files, vendored=True), strategy="chef", dockerfile=None)
    (tmp_path / "work").mkdir()
    context, _, _ = prepare(spec, tmp_path / "work")
    vendor_context(spec, context)
    assert (context / "vendor" / "itoa").is_dir()
    assert 'name = "itoa"' in (context / "app" / "Cargo.lock").read_text()

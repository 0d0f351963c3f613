"""What is inside an image, and can it be rebuilt: the ``sbom`` and ``reproducible`` checks, real builds.

* ``reproducible``: ``sample_crates/stamped`` embeds its build time but honours ``SOURCE_DATE_EPOCH``,
  which the generated strategies set: a second cold build from another folder gives the same binary on
  both engines, and so does the other engine (``parity``). A copy whose build script reads the clock
  fails, naming the embedded time, under ``chef`` and under ``incremental`` (whose second build must
  compile anew, not relink from the session's ``target/`` mount).
* ``sbom``: the sample server built with ``cargo auditable`` carries the list of the crates of its
  lockfile compiled for it, on both engines; the CycloneDX document written from it validates against
  the CycloneDX schema. A binary without the list fails, saying how to get one (or, when
  ``auditable = true`` asked for it, what its Dockerfile lacks); a list forged to name a crate cargo
  never built fails naming it.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from pytest_rustimage.crate import load_toml
from pytest_rustimage.engines import ENGINE_NAMES
from pytest_rustimage.names import LOCAL_BUILDER, LOCAL_RUNTIME
from tests.acceptance.project import Project
from tests.acceptance.test_needs import outcome

CLOCK = """use std::time::{SystemTime, UNIX_EPOCH};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    println!("cargo:rustc-env=STAMPED_AT=built at {now} seconds");
}
"""


def renamed(project: Project, sample: str, name: str) -> Path:
    """A copy of ``sample`` whose package is called ``name`` (its images are removed after the test)."""
    crate = project.copy(sample, name)
    for file in ("Cargo.toml", "Cargo.lock"):
        path = crate / file
        path.write_text(path.read_text().replace(f'name = "{sample}"', f'name = "{name}"'))
    project.fresh_names.append(name)
    return crate


def properties(junit: Path) -> dict[str, dict[str, str]]:
    """Each test case's JUnit properties, by its name."""
    return {
        case.get("name", ""): {p.get("name", ""): p.get("value", "") for p in case.iter("property")}
        for case in ET.parse(junit).iter("testcase")
    }


def test_reproducible_passes_with_the_source_time_and_names_an_embedded_clock(project: Project) -> None:
    renamed(project, "stamped", "stamped")
    junit = project.path / "junit.xml"
    args = ("--rust-image-engine=all", "--rust-image-checks=build,reproducible,parity", "-v", f"--junitxml={junit}")
    out = project.run("stamped", *args).stdout.str()
    for engine in ENGINE_NAMES:
        assert outcome(out, "stamped", "reproducible", f"chef-{engine}") == "PASSED", out
        said = properties(junit)[f"reproducible[chef-{engine}]"]["rust_image_reproducible"]
        assert said.startswith("a second build, cold and from another folder, gave the same binary"), said
    assert "stamped/Cargo.toml::parity[chef] PASSED" in out, out  # both engines embed the same time

    again = project.run("stamped", *args).stdout.str()  # the verdict is kept: no second build this time
    assert "building stamped (chef-docker) again" not in again and "PASSED" in again, again
    kept = properties(junit)["reproducible[chef-docker]"]["rust_image_reproducible"]
    assert "inputs unchanged" in kept, kept

    clocked = renamed(project, "stamped", "clocked")
    (clocked / "build.rs").write_text(CLOCK)
    args = ("--rust-image-strategy=chef,incremental", "--rust-image-checks=build,reproducible", "-v")
    result = project.run("clocked", *args)
    out = result.stdout.str()
    for strategy in ("chef", "incremental"):
        assert outcome(out, "clocked", "reproducible", f"{strategy}-docker") == "FAILED", out
        assert f"{strategy}-docker) is not reproducible" in out, out
    assert "Likely cause (timestamp)" in out and "'built built at 17" in out, out  # the embedded time, quoted
    assert "SOURCE_DATE_EPOCH" in out and ".rodata" in out, out
    result.assert_outcomes(passed=2, failed=2)


def lockfile_versions(crate: Path) -> set[tuple[str, str]]:
    lock = load_toml(crate / "Cargo.lock")
    return {(package["name"], package["version"]) for package in lock["package"]}


def test_sbom_of_an_auditable_build_lists_the_crates_compiled_for_it(project: Project) -> None:
    server = project.copy("server")
    sboms = project.path / "sbom"
    report = project.path / "report.json"
    junit = project.path / "junit.xml"
    args = ("--rust-image-engine=all", "--rust-image-auditable", "--rust-image-checks=build,runs,sbom", "-v")
    out = project.run(
        "server", *args, f"--rust-image-sbom={sboms}", f"--rust-image-report={report}", f"--junitxml={junit}"
    )
    out.assert_outcomes(passed=6)
    locked = lockfile_versions(server)
    images = {record["engine"]: record for record in json.loads(report.read_text())["images"]}
    for engine in ENGINE_NAMES:
        said = properties(junit)[f"sbom[chef-{engine}]"]["rust_image_sbom"]
        audit = images[engine]["binary_facts"]["audit"]
        listed = {(p["name"], p["version"]) for p in audit["packages"] if not p["root"]}
        assert said.startswith(f"{len(listed)} crates listed"), said
        assert {"tokio", "axum", "hyper"} <= {name for name, _ in listed}
        assert listed <= locked  # every crate listed is one of the lockfile's, at its version
        assert len(listed) < len(locked) - 1  # not the whole lockfile: only what is compiled for linux
        document = (sboms / f"server-chef-{engine}.cdx.json").read_text()
        assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(document) is None
        purls = {c.get("purl") for c in json.loads(document)["components"]}
        assert {f"pkg:cargo/{name}@{version}" for name, version in listed} <= purls


FORGED = """FROM {builder} AS build
WORKDIR /app
COPY . .
RUN cargo {build} --release --offline{forge}

FROM {runtime}
COPY --from=build /app/target/release/{name} /usr/local/bin/{name}
ENTRYPOINT ["/usr/local/bin/{name}"]
"""


def own_dockerfile(project: Project, name: str, *, build: str, forge: str = "") -> Path:
    crate = project.fresh(name)
    text = FORGED.format(builder=LOCAL_BUILDER, runtime=LOCAL_RUNTIME, name=name, build=build, forge=forge)
    (crate / "Dockerfile").write_text(text)
    project.set_metadata(crate, strategy='"dockerfile"', expect_stdout='"hello 0.1.0"', auditable="true")
    return crate


def test_sbom_tells_how_to_get_a_list_and_fails_on_a_missing_or_forged_one(project: Project) -> None:
    project.fresh("plain")  # generated, not auditable: nothing to check, and it says how
    own_dockerfile(project, "unlisted", build="build")  # auditable = true, but its Dockerfile runs cargo build
    forged = own_dockerfile(
        project,
        "forged",
        build="auditable build",
        forge=" && objcopy --update-section .dep-v0=forged.dep target/release/forged",
    )
    listing = {
        "format": 1,
        "packages": [
            {"name": "forged", "version": "0.1.0", "source": "local", "root": True, "dependencies": [1]},
            {"name": "left-pad", "version": "1.3.0", "source": "crates.io"},
        ],
    }
    (forged / "forged.dep").write_bytes(zlib.compress(json.dumps(listing).encode()))
    result = project.run("plain", "unlisted", "forged", "--rust-image-checks=build,sbom", "-v")
    out = result.stdout.str()
    assert outcome(out, "forged", "sbom", "dockerfile-docker") == "FAILED", out
    assert "listed but not in cargo's graph: left-pad 1.3.0" in out, out
    assert outcome(out, "unlisted", "sbom", "dockerfile-docker") == "FAILED", out
    assert "carries no dependency list (.dep-v0), and auditable builds were asked for" in out, out
    assert outcome(out, "plain", "sbom", "chef-docker") == "FAILED", out  # named, and nothing to check
    assert "so its crates cannot be checked; build with cargo auditable" in out, out
    result.assert_outcomes(passed=3, failed=3)

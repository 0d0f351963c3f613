"""Size regression gate against a committed baseline, the JSON report and JUnit properties."""

from __future__ import annotations

import json
import os
import subprocess
import xml.etree.ElementTree as ET

from pytest_rustimage import names
from tests.acceptance.project import NO_CACHE, Project, static_libc, static_linkages

BLOB_MAIN = """\
static BLOB: &[u8] = include_bytes!("../blob.bin");

fn main() {
    if std::env::args().any(|a| a == "--version") {
        println!("hello 0.1.0");
    }
    if std::env::args().any(|a| a == "--blob") {
        println!("{}", std::hint::black_box(BLOB).len());
    }
}
"""


def test_a_growing_image_fails_the_gate_until_the_baseline_is_updated(project: Project) -> None:
    crate = project.copy("hello")
    args = ("hello", "--rust-image-strategy=static", NO_CACHE)
    baseline = project.path / "rust-image-baseline.json"

    first = project.run(*args, "--rust-image-update-baseline")
    first.assert_outcomes(passed=4)
    first.stdout.fnmatch_lines([f"baseline updated: {baseline} (1 image(s))"])
    recorded = json.loads(baseline.read_text())["images"]["hello/static/docker"]["size"]

    (crate / "blob.bin").write_bytes(os.urandom(2 * 1024 * 1024))  # incompressible, and kept: the binary uses it
    (crate / "src" / "main.rs").write_text(BLOB_MAIN)
    grown = project.run(*args)
    grown.assert_outcomes(passed=3, failed=1)
    grown.stdout.fnmatch_lines(
        [
            "*hello/static/docker: 3.* MiB (* bytes) against a baseline of 1.* MiB *: +2.0 MiB (+1*%), "
            "more than the 512.0 KiB allowed. Make the image smaller, or accept the new size with "
            "--rust-image-update-baseline and commit the baseline file.",
            f"baseline file: {baseline}",
        ]
    )
    grown.stdout.fnmatch_lines(["size gate FAILED: hello/static/docker: *"])
    assert json.loads(baseline.read_text())["images"]["hello/static/docker"]["size"] == recorded  # not touched

    accepted = project.run(*args, "--rust-image-update-baseline")
    accepted.assert_outcomes(passed=4)
    assert json.loads(baseline.read_text())["images"]["hello/static/docker"]["size"] > recorded + 2_000_000
    project.run(*args).assert_outcomes(passed=4)  # the new baseline holds

    (crate / "blob.bin").unlink()
    (crate / "src" / "main.rs").write_text(BLOB_MAIN.split("\n", 1)[1].replace("std::hint::black_box(BLOB).len()", "0"))
    shrunk = project.run(*args, "-v")
    shrunk.assert_outcomes(passed=4)  # shrinking is reported, never failed
    shrunk.stdout.fnmatch_lines(["hello*static*docker*-2.0 MiB (-*%)*"])


def test_json_report_and_junit_properties(project: Project) -> None:
    project.copy("hello")
    report = project.path / "reports" / "rust-image.json"
    junit = project.path / "junit.xml"
    result = project.run(
        "hello", "--rust-image-strategy=static", f"--rust-image-report={report}", f"--junitxml={junit}"
    )
    result.assert_outcomes(passed=6)
    data = json.loads(report.read_text())
    (image,) = data["images"]
    assert (image["crate"], image["strategy"], image["engine"], image["binary"]) == (
        "hello",
        "static",
        "docker",
        "hello",
    )
    assert image["size"] == sum(layer["size"] for layer in image["layers"]) == image["binary_facts"]["size"]
    facts = image["binary_facts"]
    assert facts["linkage"] in static_linkages() and facts["libc"] == static_libc()  # as the builder decides
    assert image["baseline"] == {"size": None, "own": None, "change": None, "status": "new", "base_changed": None}
    assert image["own_bytes"] == image["size"] and image["base"] == {
        "name": "scratch",
        "id": "",
        "layers": 0,
        "size": 0,
        "known": True,
    }
    assert image["cache"]["ok"] is True and image["cache"]["third_party_recompiled"] == []
    assert image["config"]["entrypoint"] == ["/usr/local/bin/hello"]
    # plain std needs no file of the image; the static strategy's numeric USER is listed, satisfied
    assert [(need["kind"], need["found_at"]) for need in image["needs"]] == [("user", "the numeric ids")]
    properties = {p.get("name"): p.get("value") for p in ET.parse(junit).iter("property")}
    assert properties["rust_image_size_bytes"] == str(image["size"])
    assert properties["rust_image_layers"] == "1"
    assert properties["rust_image_linkage"].startswith(f"{facts['linkage']}, libc {static_libc()}")
    # docs/reports.md: each check records rust_image_CHECK (what it found), on its own testcase
    by_case = {
        case.get("name"): {p.get("name"): p.get("value") for p in case.iter("property")}
        for case in ET.parse(junit).iter("testcase")
    }
    checks = ("build", "runs", "size", "linkage", "needs", "cache")
    assert set(by_case) == {f"{check}[static-docker]" for check in checks}, by_case
    for check in checks:
        own = by_case[f"{check}[static-docker]"]
        assert own[f"rust_image_{check}"], (check, own)
        extra = {
            "size": {"rust_image_size_bytes", "rust_image_layers"},
            "linkage": {"rust_image_loads_on"},
            "cache": {"rust_image_cache_source"},  # one per edit kind
        }
        assert {name for name in own if name.startswith("rust_image_")} == {f"rust_image_{check}"} | extra.get(
            check, set()
        ), (check, own)
    assert by_case["build[static-docker]"]["rust_image_build"].startswith(image["tag"] + " ")
    assert by_case["runs[static-docker]"]["rust_image_runs"].endswith(": hello 0.1.0")
    assert by_case["needs[static-docker]"]["rust_image_needs"].startswith("user: looked for nothing")
    assert by_case["size[static-docker]"]["rust_image_size"].endswith("; wasted 0 B")  # waste: in the outcome
    assert "rust_image_wasted_bytes" not in properties  # docs/reports.md says where waste is, and not this


def test_html_report_renders_its_charts_in_headless_chromium(project: Project) -> None:
    from PIL import Image  # the dev extra; the plugin itself does not need it

    project.copy("hello")
    html = project.path / "report.html"
    args = ("hello", "--rust-image-strategy=static", NO_CACHE, f"--rust-image-html={html}")
    project.run(*args, "--rust-image-update-baseline").assert_outcomes(passed=4)
    project.run(*args).assert_outcomes(passed=4)  # now with a baseline to draw
    text = html.read_text()
    assert "<script" not in text and "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    # one layer; the binary's 8 largest sections and the rest in one bar; then baseline and now
    assert text.count('class="bar"') == 1 + 9 + 2
    assert text.count('<table class="overview">') == 1 and 'href="#image-hello-static-docker-hello"' in text
    assert '<section id="image-hello-static-docker-hello">' in text and "<h3>Sections of /usr/local/bin/hello" in text
    shot = project.path / "report.png"
    done = subprocess.run(
        [
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--window-size=1000,900",
            f"--screenshot={shot}",
            html.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shot.exists(), done.stderr[-2000:]
    colours = {colour: count for count, colour in Image.open(shot).convert("RGB").getcolors(1 << 24) or []}
    bar, base = colours.get((0x3B, 0x6E, 0xA5), 0), colours.get((0x9A, 0xA5, 0xB1), 0)
    assert bar > 2000 and base > 1000, f"the charts did not render: {bar} bar and {base} baseline pixels"


WASTEFUL = """\
ARG BUILDER_IMAGE=rust:1-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim
FROM ${BUILDER_IMAGE} AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked && cp target/release/hello /hello
FROM ${RUNTIME_IMAGE}
RUN head -c 1048576 /dev/urandom > /scratch.bin
COPY --from=build /hello /usr/local/bin/hello
RUN rm /scratch.bin
ENTRYPOINT ["/usr/local/bin/hello"]
"""


def test_waste_is_measured_and_gated(project: Project) -> None:
    crate = project.copy("hello")
    (crate / "Dockerfile").write_text(WASTEFUL)
    project.set_metadata(crate, max_wasted='"256KiB"')
    result = project.run("hello", "--rust-image-strategy=dockerfile", "--rust-image-checks=build,size", "-v")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*pytest-rustimage/hello:dockerfile-* wastes 1.0 MiB (1048576 bytes): files that later layers delete "
            "or overwrite, more than max-wasted 256.0 KiB.",
            "*Layers whose bytes are wasted:",
            "*1.0 MiB*scratch.bin*",
        ]
    )
    result.stdout.fnmatch_lines(["image pytest-rustimage/hello:dockerfile-* (dockerfile-docker), wasted 1.0 MiB"])


def test_an_image_over_budget_says_what_debug_info_costs(project: Project) -> None:
    crate = project.copy("hello", "hello-debug")
    manifest = crate / "Cargo.toml"
    manifest.write_text(manifest.read_text().replace('name = "hello"', 'name = "hello-debug"'))
    (crate / "Cargo.lock").unlink()
    with manifest.open("a") as out:
        out.write("\n[profile.release]\ndebug = true\n")
    project.fresh_names.append("hello-debug")
    project.set_metadata(crate, max_size='"1MiB"')
    report = project.path / "report.json"
    result = project.run(
        "hello-debug", "--rust-image-strategy=static", "--rust-image-checks=build,size", f"--rust-image-report={report}"
    )
    result.assert_outcomes(passed=1, failed=1)
    facts = json.loads(report.read_text())["images"][0]["binary_facts"]
    debug = facts["debug_bytes"]
    assert debug == sum(
        n for name, n in facts["sections"].items() if name.startswith(".debug_") or name in (".symtab", ".strtab")
    )
    assert debug > facts["size"] // 2 and facts["stripped"] is False
    result.stdout.fnmatch_lines(
        [
            "*pytest-rustimage/hello-debug:static-* is * MiB (* bytes), over its budget of 1.0 MiB *",
            "*Largest layers:",
            "* MiB  *",
            f"*/usr/local/bin/hello-debug (* MiB) carries * MiB ({debug} bytes, *%) of debug info and symbols: "
            "`strip = true` (or `debug = 0`) under [[]profile.release] in Cargo.toml would save about that much.",
        ]
    )


def test_a_chef_binary_that_grows_fails_the_own_bytes_gate_and_an_old_baseline_is_upgraded(project: Project) -> None:
    crate = project.fresh("ownbytes")
    args = ("ownbytes", "--rust-image-strategy=chef", "--rust-image-checks=build,size")
    baseline = project.path / "rust-image-baseline.json"
    project.run(*args, "--rust-image-update-baseline").assert_outcomes(passed=2)
    entry = json.loads(baseline.read_text())["images"]["ownbytes/chef/docker"]
    assert entry["base"]["name"] == names.LOCAL_RUNTIME and entry["base"]["id"].startswith("sha256:")
    assert entry["size"] == entry["own"] + entry["base"]["size"] and 0 < entry["own"] < entry["size"] // 10

    # a format-1 file (a size alone) is read and gated on the whole image, then upgraded when written
    baseline.write_text(json.dumps({"format": 1, "images": {"ownbytes/chef/docker": {"size": entry["size"]}}}))
    project.run(*args).assert_outcomes(passed=2)
    assert json.loads(baseline.read_text())["format"] == 1  # read, not written
    project.run(*args, "--rust-image-update-baseline").assert_outcomes(passed=2)
    assert json.loads(baseline.read_text()) == {"format": 2, "images": {"ownbytes/chef/docker": entry}}

    # the binary grows by 3 MiB: over the own bytes' tolerance, well within 5% of the whole image
    (crate / "blob.bin").write_bytes(os.urandom(3 * 1024 * 1024))
    (crate / "src" / "main.rs").write_text(BLOB_MAIN.replace("hello 0.1.0", "ownbytes 0.1.0"))
    grown = project.run(*args)
    grown.assert_outcomes(passed=1, failed=1)
    grown.stdout.fnmatch_lines(
        [
            "*ownbytes/chef/docker: own bytes (above the base) * MiB (* bytes) against a baseline of * KiB "
            "(* bytes): +3.0 MiB (+*%); the whole image * MiB: +3.0 MiB (+2.*%), more than the 512.0 KiB allowed.*",
        ]
    )
    grown.stdout.fnmatch_lines(["ownbytes*chef*docker* +3.0 MiB (+*%)*"])  # the summary's change: own bytes

"""Will it load? The linkage check resolves a dynamic binary's libraries and symbol versions in the image.

One session builds four small crates with their own Dockerfiles on both engines:

* ``gomp`` links libgomp, which the builder has (gcc's libgomp1) and the runtime lacks;
* ``oldglibc`` is built on bookworm (glibc 2.36) and shipped on a bullseye runtime (glibc 2.31);
* ``greet`` finds its own C library through ``DT_RUNPATH`` ``$ORIGIN/../lib`` inside the image;
* ``greetless`` is the same binary with that library left out of the image.

The ``runs`` check runs each binary for real, so the loader itself says whether each one loads: the
linkage check's verdict, read from the image's files alone, must be the loader's.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import pytest

from pytest_rustimage.engines import ENGINE_NAMES, make_engine
from pytest_rustimage.housekeeping import base_images as bases
from pytest_rustimage.names import LOCAL_BUILDER, LOCAL_RUNTIME
from tests.acceptance.project import Project

BULLSEYE = bases.runtime_tag("bullseye")  # made by `bases --runtime-suite bullseye` (.ci/setup does)

GOMP_MAIN = """use std::os::raw::c_int;

#[link(name = "gomp")]
extern "C" {
    fn omp_get_max_threads() -> c_int;
}

fn main() {
    println!("threads: {}", unsafe { omp_get_max_threads() });
}
"""

GREET_MAIN = """extern "C" {
    fn greet() -> i32;
}

fn main() {
    println!("greet says {}", unsafe { greet() });
}
"""

GREET_C = "int greet(void) { return 42; }\n"

GREET_BUILD = """fn main() {
    println!("cargo:rustc-link-search=native=/opt/greet/lib");
    println!("cargo:rustc-link-lib=dylib=greet");
    println!("cargo:rustc-link-arg=-Wl,--enable-new-dtags,-rpath,$ORIGIN/../lib");
}
"""

DOCKERFILE = """FROM {builder} AS build
WORKDIR /app
COPY . .
RUN {prepare}cargo build --release --offline

FROM {runtime}
{extra}COPY --from=build /app/target/release/{name} {path}
ENTRYPOINT ["{path}"]
"""

GREET_LIB = (
    "mkdir -p /opt/greet/lib && gcc -shared -fPIC -Wl,-soname,libgreet.so.1 -o /opt/greet/lib/libgreet.so.1 "
    "greet.c && ln -s libgreet.so.1 /opt/greet/lib/libgreet.so && "
)


def crate(project: Project, name: str, main: str, dockerfile: str, **files: str) -> Path:
    folder = project.path / name
    (folder / "src").mkdir(parents=True)
    (folder / "Cargo.toml").write_text(
        f'[package]\nname = "{name}"\nversion = "0.1.0"\nedition = "2021"\n\n'
        '[package.metadata.rust-image]\nstrategy = "dockerfile"\n'
    )
    (folder / "src" / "main.rs").write_text(main + f"// {uuid.uuid4().hex}\n")  # a tag no earlier run made
    (folder / "Dockerfile").write_text(dockerfile)
    for file, text in files.items():
        (folder / file.replace("_", ".")).write_text(text)
    project.fresh_names.append(name)
    return folder


def dockerfile(name: str, *, runtime: str = LOCAL_RUNTIME, path: str = "", prepare: str = "", extra: str = "") -> str:
    where = path or f"/usr/local/bin/{name}"
    return DOCKERFILE.format(
        builder=LOCAL_BUILDER, runtime=runtime, name=name, path=where, prepare=prepare, extra=extra
    )


@pytest.fixture(scope="module")
def bullseye_runtime() -> None:
    engines = [make_engine(name) for name in ENGINE_NAMES]
    try:
        bases.ensure_runtime(engines, suite="bullseye", say=lambda message: None)
    finally:
        for engine in engines:
            engine.close()


def test_the_linkage_check_says_what_the_loader_says_in_every_image(project: Project, bullseye_runtime: None) -> None:
    crate(project, "gomp", GOMP_MAIN, dockerfile("gomp"))
    crate(project, "oldglibc", 'fn main() {\n    println!("hi");\n}\n', dockerfile("oldglibc", runtime=BULLSEYE))
    lib = "COPY --from=build /opt/greet/lib/ /opt/greet/lib/\n"
    for name, extra in (("greet", lib), ("greetless", "")):
        text = dockerfile(name, path=f"/opt/greet/bin/{name}", prepare=GREET_LIB, extra=extra)
        crate(project, name, GREET_MAIN, text, build_rs=GREET_BUILD, greet_c=GREET_C)
    report = project.path / "report.json"
    result = project.run(
        "gomp",
        "oldglibc",
        "greet",
        "greetless",
        "--rust-image-engine=all",
        "--rust-image-checks=build,runs,linkage",
        "-v",
        f"--rust-image-report={report}",
    )
    out = result.stdout.str()
    for engine in ENGINE_NAMES:
        for name in ("gomp", "oldglibc", "greetless"):
            assert _outcome(out, name, "build", engine) == "PASSED", out
            assert _outcome(out, name, "linkage", engine) == "FAILED", out
            assert _outcome(out, name, "runs", engine) == "FAILED", out  # the real loader agrees
        assert {_outcome(out, "greet", check, engine) for check in ("build", "runs", "linkage")} == {"PASSED"}, out
    result.assert_outcomes(passed=12, failed=12)  # 4 crates x 3 checks x 2 engines
    # what the failures say: what is missing, where it was looked for, and what to do
    assert "/usr/local/bin/gomp in pytest-rustimage/gomp:" in out and "would not load" in out, out
    assert "libgomp.so.1 (needed by /usr/local/bin/gomp) is not in the image" in out, out
    assert "install libgomp1 in the runtime stage" in out, out
    assert "GLIBC_2.34" in out and "needed by /usr/local/bin/oldglibc" in out, out
    assert "rust:1-bookworm with debian:bookworm-slim" in out and "static strategy" in out, out
    assert "libgreet.so.1 (needed by /opt/greet/bin/greetless) is not in the image; looked in /opt/greet/lib" in out
    # the loader's own words, from the runs check
    assert "libgomp.so.1: cannot open shared object file" in out and "GLIBC_2.34' not found" in out, out
    assert "would not load: pytest-rustimage/gomp:" in out, out  # the summary marks them
    records = {(r["crate"], r["engine"]): r for r in json.loads(report.read_text())["images"]}
    for engine in ENGINE_NAMES:
        greet = records[("greet", engine)]["binary_facts"]
        assert greet["loads"] is True and greet["runpath"] == ["$ORIGIN/../lib"], greet
        assert greet["resolved"]["libgreet.so.1"] == "/opt/greet/lib/libgreet.so.1", greet["resolved"]
        assert greet["resolved"]["libc.so.6"].endswith("/x86_64-linux-gnu/libc.so.6"), greet["resolved"]
        for name in ("gomp", "oldglibc", "greetless"):
            loads = records[(name, engine)]["binary_facts"]["loads"]
            assert isinstance(loads, list) and loads, loads
        old = records[("oldglibc", engine)]["binary_facts"]["loads"]
        assert any("GLIBC_2.34" in problem for problem in old), old
        # the runtime matrix, none listed: the plugin's own bases, shown and not gated (greet's linkage passed)
        assert greet["floor"][0] == "GLIBC_2.34", greet["floor"]
        matrix = {r["name"]: r for r in greet["runtimes"]}
        assert set(matrix) == {"bookworm-slim", "bullseye-slim"} | ({"cc-bookworm"} & set(matrix)), matrix
        assert matrix["bullseye-slim"]["loads"] is False and matrix["bullseye-slim"]["glibc"] == "2.31"
        assert matrix["bullseye-slim"]["reason"] == "GLIBC_2.34 > 2.31, libgreet.so.1 missing", matrix
        assert matrix["bookworm-slim"]["reason"] == "libgreet.so.1 missing", matrix  # the bare base lacks it
    assert "loads on: bookworm-slim no (libgreet.so.1 missing), bullseye-slim no (GLIBC_2.34 > 2.31, " in out, out


SERVER_ON_BULLSEYE = """FROM {runtime}
COPY --from={image} /usr/local/bin/server /usr/local/bin/server
ENTRYPOINT ["/usr/local/bin/server", "--version"]
"""


def test_the_runtime_matrix_fails_a_bookworm_build_listed_for_bullseye(
    project: Project, bullseye_runtime: None
) -> None:
    """The server, built by chef on bookworm, with bullseye-slim among the runtimes it must load on: the
    linkage check fails naming the symbol version and bullseye's glibc; a real run there agrees."""
    project.copy("server")
    ini = project.path / "pytest.ini"
    missing = "pytest-rustimage/runtime:no-such-base"
    ini.write_text(ini.read_text() + f"rust_image_runtimes = bookworm-slim bullseye-slim {missing}\n")
    report = project.path / "report.json"
    result = project.run(
        "server", "--rust-image-strategy=chef", "--rust-image-checks=build,linkage", f"--rust-image-report={report}"
    )
    out = result.stdout.str()
    result.assert_outcomes(passed=1, failed=1)
    assert "would not load on bullseye-slim, " + missing + ", listed in runtimes; it needs GLIBC_2.34" in out, out
    assert f"- bullseye-slim ({BULLSEYE}) has glibc 2.31: would not load: GLIBC_2.34 > 2.31" in out, out
    assert "GLIBC_2.34 needed by /usr/local/bin/server; it provides up to GLIBC_2.30" in out, out
    assert f"- {missing}: cannot tell: not in docker\n    - {missing} is not in docker; get it with `docker pull" in out
    wanted = f"loads on: bookworm-slim yes, bullseye-slim no (GLIBC_2.34 > 2.31), {missing} cannot tell (not in docker)"
    assert wanted in out, out
    (record,) = json.loads(report.read_text())["images"]
    assert record["binary_facts"]["floor"][0] == "GLIBC_2.34", record["binary_facts"]
    # the real loader on the bullseye runtime: the server's binary copied onto it, and run
    tag = f"pytest-rustimage-test/server-on-bullseye:{uuid.uuid4().hex[:12]}"
    context = project.path / "on-bullseye"
    context.mkdir()
    (context / "Dockerfile").write_text(SERVER_ON_BULLSEYE.format(runtime=BULLSEYE, image=record["tag"]))
    try:
        built = subprocess.run(
            ["docker", "build", "-q", "-t", tag, "."],
            cwd=context,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert built.returncode == 0, built.stderr
        ran = subprocess.run(
            ["docker", "run", "--rm", "--network=none", tag], capture_output=True, text=True, timeout=120
        )
    finally:
        subprocess.run(["docker", "rmi", "-f", tag], capture_output=True)
    assert ran.returncode != 0 and "version `GLIBC_2.34' not found" in ran.stderr, (ran.returncode, ran.stderr)


def _outcome(out: str, name: str, check: str, engine: str) -> str:
    """PASSED or FAILED, from the verbose line of one item."""
    item = f"{name}/Cargo.toml::{check}[dockerfile-{engine}] "
    words = {word for line in out.splitlines() if line.startswith(item) for word in line.split()}
    return "PASSED" if "PASSED" in words else "FAILED" if "FAILED" in words else "?"

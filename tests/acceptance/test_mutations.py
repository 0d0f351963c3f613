"""Every check shown able to fail: images built on purpose to be wrong in exactly one way.

A verdict is worth as much as its worst false pass, so each built-in check meets an image that is
wrong in its way, and must fail with a message that names the fault, while the other checks of that
image keep their verdict. One session on both engines; the images are cheap: each Dockerfile copies a
binary compiled here on the host with ``rustc`` (no cargo inside a container), so the test spends its
time on the checks, not on builds. The faults:

* ``placeholder``: the binary is a placeholder ("Hello, world!"): ``runs`` fails on its stdout;
* ``exits``: the binary exits 3: ``runs`` fails on its exit code;
* ``dynscratch``: a dynamic binary on ``scratch`` where static linkage is expected: ``linkage`` fails
  (and ``runs`` too: the real loader is not there either);
* ``fat``: a static binary with 3 MiB of padding on scratch and a 2 MiB budget: ``size`` fails;
* ``grown``: the crate's own Dockerfile gains 3 MiB over the recorded baseline, under 5% of the whole
  image but far past the own-bytes tolerance: ``size`` fails on the own bytes above the Dockerfile's
  base (when the base was not read from the Dockerfile this passed: the whole image was gated);
* ``drift``: the binary differs between engines (the build appends the engine it ran on): ``parity``
  fails naming the binary;
* ``good``: the control, the same build done right: every check passes.

Faults of other checks have their own images elsewhere (docs/reliability.md lists each fault and
its test): a library missing from the runtime and a glibc too new for it (``test_loading.py``), the
dependency step after ``COPY . .`` (``test_cache.py``), cargo's output hidden, the stale incremental
binary.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from pytest_rustimage.names import LOCAL_RUNTIME
from tests.acceptance.project import Project
from tests.acceptance.test_loading import _outcome

VERSION = """fn main() {
    let me = std::env::args().next().unwrap_or_default();
    let name = std::path::Path::new(&me).file_name().unwrap().to_string_lossy().into_owned();
    println!("{name} 0.1.0");
}
"""
HELLO = 'fn main() {\n    println!("Hello, world!");\n}\n'
EXIT3 = 'fn main() {\n    println!("exits 0.1.0");\n    std::process::exit(3);\n}\n'

DOCKERFILE = """FROM {base}
COPY bin/app /usr/local/bin/{name}
{extra}ENTRYPOINT ["/usr/local/bin/{name}"]
"""
PADDING = "COPY padding /usr/local/share/padding\n"
# buildah's RUN steps have /run/.containerenv, BuildKit's do not: the same Dockerfile, different binaries
DRIFT = "RUN if [ -e /run/.containerenv ]; then printf podman; else printf docker; fi >> /usr/local/bin/drift\n"
MIB = 1024 * 1024


def rustc(source: str, out: Path, *flags: str) -> Path:
    (out.parent / f"{out.name}.rs").write_text(source)
    subprocess.run(["rustc", "-O", "--edition=2021", *flags, "-o", str(out), f"{out}.rs"], check=True)
    return out


@pytest.fixture(scope="module")
def binaries(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    where = tmp_path_factory.mktemp("binaries")
    return {
        "version": rustc(VERSION, where / "version"),
        "static": rustc(VERSION, where / "static", "-C", "target-feature=+crt-static"),
        "hello": rustc(HELLO, where / "hello"),
        "exit3": rustc(EXIT3, where / "exit3"),
    }


def mutant(
    project: Project, name: str, binary: Path, *, base: str = LOCAL_RUNTIME, extra: str = "", **metadata: str
) -> Path:
    folder = project.path / name
    (folder / "src").mkdir(parents=True)
    (folder / "bin").mkdir()
    (folder / "Cargo.toml").write_text(
        f'[package]\nname = "{name}"\nversion = "0.1.0"\nedition = "2021"\n\n'
        '[package.metadata.rust-image]\nstrategy = "dockerfile"\n'
    )
    (folder / "src" / "main.rs").write_text("fn main() {}\n")
    (folder / "bin" / "app").write_bytes(binary.read_bytes())
    (folder / "bin" / "app").chmod(0o755)
    (folder / "Dockerfile").write_text(DOCKERFILE.format(base=base, name=name, extra=extra))
    project.set_metadata(folder, **metadata)
    project.fresh_names.append(name)
    return folder


def test_each_check_fails_on_an_image_wrong_in_its_way(project: Project, binaries: dict[str, Path]) -> None:
    grown = mutant(project, "grown", binaries["version"], expect_stdout='"grown 0.1.0"')
    (grown / "padding").write_bytes(os.urandom(3 * MIB))  # in the context from the start: only COPY changes
    recorded = project.run(
        "grown", "--rust-image-engine=all", "--rust-image-checks=build,size", "-v", "--rust-image-update-baseline"
    )
    recorded.assert_outcomes(passed=4)
    (grown / "Dockerfile").write_text(DOCKERFILE.format(base=LOCAL_RUNTIME, name="grown", extra=PADDING))

    mutant(project, "good", binaries["version"], expect_stdout='"good 0.1.0"')
    mutant(project, "placeholder", binaries["hello"], expect_stdout='"placeholder 0.1.0"')
    mutant(project, "exits", binaries["exit3"], expect_stdout='"exits 0.1.0"')
    mutant(project, "dynscratch", binaries["version"], base="scratch", expect_linkage='"static"')
    fat = mutant(
        project,
        "fat",
        binaries["static"],
        base="scratch",
        extra=PADDING,
        expect_linkage='"static"',
        max_size='"2MiB"',
        expect_stdout='"fat 0.1.0"',
    )
    (fat / "padding").write_bytes(os.urandom(3 * MIB))
    mutant(project, "drift", binaries["version"], extra=DRIFT, expect_stdout='"drift 0.1.0"')
    names = ("good", "placeholder", "exits", "dynscratch", "fat", "grown", "drift")
    result = project.run(*names, "--rust-image-engine=all", "--rust-image-checks=build,runs,size,linkage,parity", "-v")
    out = result.stdout.str()

    failing = {
        "placeholder": {"runs"},
        "exits": {"runs"},
        "dynscratch": {"linkage", "runs"},
        "fat": {"size"},
        "grown": {"size"},
    }
    for name in names:
        for engine in ("docker", "podman"):
            for check in ("build", "runs", "size", "linkage"):
                wanted = "FAILED" if check in failing.get(name, set()) else "PASSED"
                assert _outcome(out, name, check, engine) == wanted, (name, check, engine, out)
        parity = [line for line in out.splitlines() if line.startswith(f"{name}/Cargo.toml::parity[dockerfile] ")]
        assert parity and ("FAILED" in parity[0]) == (name == "drift"), (name, out)
    result.assert_outcomes(passed=50, failed=13)  # 7 crates x 4 checks x 2 engines + 7 parity

    # each failure names its fault
    assert "/usr/local/bin/placeholder in pytest-rustimage/placeholder:" in out, out
    assert "stdout does not contain 'placeholder 0.1.0'" in out, out
    assert "/usr/local/bin/exits in pytest-rustimage/exits:" in out and "exit code 3, expected 0" in out, out
    assert "/usr/local/bin/dynscratch in pytest-rustimage/dynscratch:" in out, out
    assert "is linked dynamic" in out and "but static linkage is expected" in out, out
    assert "pytest-rustimage/fat:" in out and "over its budget of 2.0 MiB" in out, out
    for engine in ("docker", "podman"):
        assert f"grown/dockerfile/{engine}: own bytes (above the base) " in out, out
    assert "more than the 512.0 KiB allowed" in out, out
    differ = [line for line in out.splitlines() if "pytest-rustimage/drift:" in line and " differ in: " in line]
    assert differ and "binary" in differ[0].split(" differ in: ", 1)[1], out

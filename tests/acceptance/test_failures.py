"""Checks that must fail do fail, with a message a person can act on, and leave nothing behind."""

from __future__ import annotations

import pytest

from tests.acceptance.project import NO_CACHE, Project

SLEEPER = """\
fn main() {
    if std::env::args().any(|a| a == "--version") {
        println!("sleeper 0.1.0");
        loop { std::thread::sleep(std::time::Duration::from_secs(1)); }
    }
}
"""


def test_budget_too_small_fails_with_sizes_and_largest_layers(project: Project) -> None:
    crate = project.copy("hello")
    project.set_metadata(crate, max_size='"100kB"')
    result = project.run("hello", "--rust-image-strategy=static", NO_CACHE)
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*pytest-rustimage/hello:static-* is 1.* MiB (* bytes), over its budget of 97.7 KiB (100000 bytes)*",
            "*Largest layers:*",
            "*COPY*/usr/local/bin/hello*",
        ]
    )


def test_wrong_expected_output_fails_showing_the_output(project: Project) -> None:
    crate = project.copy("hello")
    project.set_metadata(crate, expect_stdout='"hello 9.9.9"')
    result = project.run("hello", "--rust-image-strategy=static", NO_CACHE)
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(["*stdout does not contain 'hello 9.9.9'*", "*--- stdout ---*", "hello 0.1.0"])


def test_non_zero_exit_shows_code_stdout_and_stderr(project: Project) -> None:
    crate = project.copy("hello")
    project.set_metadata(crate, args='["--bogus"]')
    result = project.run("hello", "--rust-image-strategy=static", NO_CACHE)
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*exit code 2, expected 0*",
            "command: /usr/local/bin/hello --bogus",
            "exit code: 2",
            "--- stderr ---",
            "*usage*",
        ]
    )


def test_dynamic_binary_fails_a_static_linkage_requirement(project: Project) -> None:
    crate = project.copy("hello")
    project.set_metadata(crate, expect_linkage='"static"')
    result = project.run("hello", "--rust-image-strategy=chef", NO_CACHE)
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*/usr/local/bin/hello in pytest-rustimage/hello:chef-* is linked dynamic "
            "(interpreter /lib64/ld-linux-x86-64.so.2, needs *libc.so.6*), but static linkage is expected*",
        ]
    )


def test_compile_error_fails_build_with_the_compiler_message(project: Project) -> None:
    crate = project.copy("hello")
    (crate / "src" / "main.rs").write_text('fn main() {\n    let n: u32 = "not a number";\n}\n')
    result = project.run("hello", "--rust-image-strategy=static", NO_CACHE)
    result.assert_outcomes(failed=1, skipped=3)
    result.stdout.fnmatch_lines(
        [
            "*hello (static-docker) did not build: `docker build` exited with code 1*",
            "*last lines of the build log*",
            "*error[[]E0308[]]: mismatched types*",
        ]
    )
    result.stdout.fnmatch_lines(["*the image did not build; see build[[]static-docker[]]*"])


def test_a_binary_that_hangs_times_out_and_its_container_is_removed(project: Project) -> None:
    crate = project.copy("hello", "sleeper")
    manifest = crate / "Cargo.toml"
    manifest.write_text(manifest.read_text().replace('name = "hello"', 'name = "sleeper"'))
    (crate / "Cargo.lock").unlink()
    (crate / "src" / "main.rs").write_text(SLEEPER)
    project.set_metadata(crate, run_timeout="3")
    result = project.run("sleeper", "--rust-image-strategy=static", NO_CACHE)
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*`/usr/local/bin/sleeper --version` in * did not finish within 3s; the container was stopped and removed*",
        ]
    )
    # the autouse fixture asserts that no container of the plugin is left


def test_unreachable_engine_skips_naming_the_socket(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    project.copy("hello")
    monkeypatch.setenv("DOCKER_HOST", "unix:///tmp/rust-image-nowhere.sock")
    skipped = project.run("hello", NO_CACHE, require_engine=False)
    skipped.assert_outcomes(skipped=4)
    skipped.stdout.fnmatch_lines(["*docker engine not reachable at unix:///tmp/rust-image-nowhere.sock*"])
    failed = project.run("hello", NO_CACHE)
    failed.assert_outcomes(failed=4)
    failed.stdout.fnmatch_lines(["*docker engine not reachable at unix:///tmp/rust-image-nowhere.sock*"])


def test_library_without_binary_is_refused(project: Project) -> None:
    crate = project.pytester.path / "onlylib"
    (crate / "src").mkdir(parents=True)
    (crate / "Cargo.toml").write_text('[package]\nname = "onlylib"\nversion = "0.1.0"\nedition = "2021"\n')
    (crate / "src" / "lib.rs").write_text("pub fn f() {}\n")
    result = project.run("onlylib")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"*{crate / 'Cargo.toml'}: no binary target*"])


def test_unknown_check_is_a_usage_error(project: Project) -> None:
    project.copy("hello")
    result = project.run("hello", "--rust-image-checks=build,speed")
    assert result.ret == 4
    result.stderr.fnmatch_lines(
        ["*unknown check 'speed'; choose from: build, runs, size, linkage, needs, sbom, cache, reproducible, parity*"]
    )


NOISY_DOCKERFILE = """\
ARG RUNTIME_IMAGE
FROM ${RUNTIME_IMAGE}
RUN for i in $(seq 1 120); do echo "noise-line-$i-end"; done; exit 3
"""


def test_a_failed_build_shows_the_last_50_lines_of_its_log(project: Project) -> None:
    crate = project.fresh("noisybuild")
    (crate / "Dockerfile").write_text(NOISY_DOCKERFILE)
    project.set_metadata(crate, expect_linkage='"any"')
    result = project.run("noisybuild", "--rust-image-strategy=dockerfile", "--rust-image-checks=build")
    result.assert_outcomes(failed=1)
    shown = result.outlines
    at = shown.index("--- last lines of the build log ---")
    assert shown[at - 1].startswith("noisybuild (dockerfile-docker) did not build: "), shown[at - 1]
    tail = []
    for line in shown[at + 1 :]:
        if line.startswith(("____", "====")):  # pytest's next section
            break
        tail.append(line)
    while tail and not tail[-1].strip():
        tail.pop()
    assert 40 <= len(tail) <= 50, tail  # docs/decisions.md: the last 50 lines of the build log
    text = "\n".join(tail)
    assert "noise-line-120-end" in text and "noise-line-1-end" not in text  # the end, not the start

"""Bad input through `pytest --rust-image`: each gives a clear message, never a traceback, and hangs on nothing.

These fail before any image is built (the context ones fail while the context
is made, after the engine answered), so they are cheap. Every run is checked
for traceback and internal-frame noise as well as for its message.
"""

from __future__ import annotations

import json
import os
import re
import socket
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.acceptance.project import NO_CACHE, Project, remove_reported_images

RUNTIME_CHOICES = (
    "choose from: bookworm-slim, bullseye-slim, cc-bookworm, or give an image reference (NAME:TAG or REPOSITORY/NAME), "
    "or none for no matrix"
)


def literal(text: str) -> str:
    """``text`` as an fnmatch pattern that matches only itself."""
    return re.sub(r"[\[\]*?]", lambda m: f"[{m.group()}]", text)


def assert_clean(result: pytest.RunResult) -> None:
    """No Python traceback, no internal error, no frame of the plugin's code in the output."""
    output = result.stdout.str() + "\n" + result.stderr.str()
    for noise in ("Traceback", "INTERNALERROR", "pytest_rustimage/", 'File "', "site-packages"):
        assert noise not in output, f"{noise!r} in the output:\n{output}"


def usage_error(result: pytest.RunResult, line: str) -> None:
    """A usage error (exit code 4) that says ``line``, exactly."""
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([literal(f"ERROR: {line}")])
    assert_clean(result)


def failed_reading(result: pytest.RunResult, line: str) -> None:
    """One failure, the crate's, saying ``line``, exactly."""
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([literal(line)])
    assert_clean(result)


# --- the crate's manifest ----------------------------------------------------------------------


def test_folder_without_manifest(project: Project) -> None:
    (project.path / "empty").mkdir()
    usage_error(
        project.run("empty"), "--rust-image: no Cargo.toml in empty; point pytest at a crate folder or its Cargo.toml"
    )


def test_manifest_that_is_a_folder(project: Project) -> None:
    (project.path / "odd" / "Cargo.toml").mkdir(parents=True)
    usage_error(
        project.run("odd"),
        "--rust-image: odd/Cargo.toml: not a regular file (a folder or a special file); Cargo.toml must be a file",
    )


def test_manifest_that_is_a_dangling_link(project: Project) -> None:
    crate = project.copy("hello")
    (crate / "Cargo.toml").unlink()
    (crate / "Cargo.toml").symlink_to("../moved/Cargo.toml")
    usage_error(
        project.run("hello"),
        "--rust-image: hello/Cargo.toml: a symbolic link to ../moved/Cargo.toml, which does not exist; "
        "fix or remove the link",
    )


def test_manifest_that_is_not_utf8(project: Project) -> None:
    crate = project.copy("hello")
    (crate / "Cargo.toml").write_bytes(b'[package]\nname = "h\xe9llo"\nversion = "0.1.0"\n')
    failed_reading(
        project.run("hello"),
        f"{crate / 'Cargo.toml'}: not UTF-8 text (invalid continuation byte at byte 19); save it as UTF-8",
    )


def test_malformed_toml_names_the_line(project: Project) -> None:
    crate = project.copy("hello")
    (crate / "Cargo.toml").write_text('[package]\nname = "hello"\nversion = 0.1.0"\n')
    result = project.run("hello")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"{crate / 'Cargo.toml'}:3: malformed TOML: *"])
    assert_clean(result)


def test_key_of_the_wrong_type_names_key_and_line(project: Project) -> None:
    crate = project.copy("hello")
    manifest = crate / "Cargo.toml"
    manifest.write_text(manifest.read_text().replace('name = "hello"', "name = 5"))
    failed_reading(
        project.run("hello"),
        f'{manifest}:2: package.name must be a string such as "my-tool", not integer 5; fix it in the manifest',
    )


def test_bin_entry_without_a_name(project: Project) -> None:
    crate = project.copy("hello")
    manifest = crate / "Cargo.toml"
    manifest.write_text(manifest.read_text() + '\n[[bin]]\npath = "src/main.rs"\n')
    line = manifest.read_text().splitlines().index("[[bin]]") + 1
    failed_reading(
        project.run("hello"),
        f'{manifest}:{line}: [[bin]] number 1 has no name; Cargo requires one: add name = "..." to it',
    )


def test_unknown_binary_lists_the_choices(project: Project) -> None:
    project.copy("workspace")
    failed_reading(
        project.run("workspace", "--rust-image-bin=nope"),
        f"{project.path / 'workspace' / 'Cargo.toml'}: no binary named 'nope'; the binaries are: wsctl (package "
        "ws-cli), ws-daemon (package ws-daemon)",
    )


def test_workspace_without_binaries(project: Project) -> None:
    root = project.path / "libs"
    for member in ("a", "b"):
        (root / member / "src").mkdir(parents=True)
        (root / member / "Cargo.toml").write_text(f'[package]\nname = "{member}"\nversion = "0.1.0"\n')
        (root / member / "src" / "lib.rs").write_text("pub fn f() {}\n")
    (root / "Cargo.toml").write_text('[workspace]\nmembers = ["a", "b"]\nresolver = "2"\n')
    failed_reading(
        project.run("libs"),
        f"{root / 'Cargo.toml'}: no binary target (no src/main.rs, src/bin/ or [[bin]]); nothing to put in an "
        "image. Point at a crate with a binary, or add one",
    )


def test_dockerfile_strategy_without_a_dockerfile(project: Project) -> None:
    crate = project.copy("hello")
    failed_reading(
        project.run("hello", "--rust-image-strategy=dockerfile"),
        f"{crate}: the dockerfile strategy needs Dockerfile or Containerfile beside Cargo.toml; add one, or "
        "choose another strategy",
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('"25M"', "cannot read '25M' as a size; write a number with one of B, kB, MB, GB, KiB, MiB, GiB"),
        (
            '"1.5 parsecs"',
            "cannot read '1.5 parsecs' as a size; write a number with one of B, kB, MB, GB, KiB, MiB, GiB",
        ),
        ("-3", "a size cannot be negative (-3)"),
        ("2.5", "expected a size such as '25MiB' or a number of bytes, got 2.5"),
        ('"' + "9" * 400 + '"', f"'{'9' * 37}...' is too large to be a size; write a number of bytes that fits"),
    ],
    ids=["ambiguous-unit", "unknown-unit", "negative", "float", "too-large"],
)
def test_invalid_size_strings(project: Project, value: str, message: str) -> None:
    crate = project.copy("hello")
    project.set_metadata(crate, max_size=value)
    line = (crate / "Cargo.toml").read_text().splitlines().index(f"max-size = {value}") + 1
    failed_reading(
        project.run("hello", "--rust-image-strategy=static"),
        f"{crate / 'Cargo.toml'}:{line} [package.metadata.rust-image] max-size: {message}",
    )


def test_unknown_strategy_on_the_command_line(project: Project) -> None:
    project.copy("hello")
    usage_error(
        project.run("hello", "--rust-image-strategy=nix"),
        "unknown strategy 'nix'; choose from: chef, static, incremental, naive, dummy-main, dockerfile",
    )


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "rust_image_strategy = static nix",
            "rust_image_strategy: unknown strategy 'nix'; choose from: "
            "chef, static, incremental, naive, dummy-main, dockerfile",
        ),
        (
            "rust_image_engine = nerdctl",
            "rust_image_engine: unknown engine 'nerdctl'; choose from: docker, podman, all",
        ),
        (
            "rust_image_size_tolerance_floor = 5M",
            "rust_image_size_tolerance_floor: cannot read '5M' as a size; write a number with one of B, kB, MB, GB, "
            "KiB, MiB, GiB",
        ),
        ("rust_image_run_timeout = nan", "rust_image_run_timeout: expected a finite number of seconds, got 'nan'"),
        (
            "rust_image_checks = build nope",
            "rust_image_checks: unknown check 'nope'; choose from: build, runs, size, linkage, needs, sbom, cache, "
            "reproducible, parity",
        ),
        (
            "rust_image_size_tolerance = lots",
            "rust_image_size_tolerance: tolerance: cannot read 'lots'; write e.g. '1%' or 0.01",
        ),
        (
            "rust_image_runtimes = bookworm-slim buster",
            f"rust_image_runtimes: unknown runtime 'buster'; {RUNTIME_CHOICES}",
        ),
        (
            "rust_image_cache_edits = source nope",
            "rust_image_cache_edits: unknown cache edit kind 'nope'; "
            "choose from: source, library, non-rust, version, member",
        ),
    ],
    ids=["strategy", "engine", "size", "timeout", "check", "tolerance", "runtime", "cache-edits"],
)
def test_bad_ini_values_name_the_ini_file(project: Project, line: str, message: str) -> None:
    project.copy("hello")
    ini = project.path / "pytest.ini"
    ini.write_text(ini.read_text() + line + "\n")
    usage_error(project.run("hello"), f"{ini}: {message}")


def test_unknown_strategy_in_the_metadata(project: Project) -> None:
    crate = project.copy("hello")
    project.set_metadata(crate, strategy='["static", "nix"]')
    line = (crate / "Cargo.toml").read_text().splitlines().index('strategy = ["static", "nix"]') + 1
    failed_reading(
        project.run("hello"),
        f"{crate / 'Cargo.toml'}:{line} [package.metadata.rust-image]: unknown strategy 'nix'; choose from: "
        "chef, static, incremental, naive, dummy-main, dockerfile",
    )


def test_an_unknown_runtime_on_the_command_line_and_in_the_metadata(project: Project) -> None:
    crate = project.copy("hello")
    usage_error(
        project.run("hello", "--rust-image-runtimes=bookworm-slim,stretch"),
        f"--rust-image-runtimes: unknown runtime 'stretch'; {RUNTIME_CHOICES}",
    )
    project.set_metadata(crate, runtimes='["bullseye"]')
    line = (crate / "Cargo.toml").read_text().splitlines().index('runtimes = ["bullseye"]') + 1
    failed_reading(
        project.run("hello"),
        f"{crate / 'Cargo.toml'}:{line} [package.metadata.rust-image]: unknown runtime 'bullseye'; {RUNTIME_CHOICES}",
    )


def test_unknown_cache_edit_kind_on_the_command_line_and_in_the_metadata(project: Project) -> None:
    crate = project.copy("hello")
    usage_error(
        project.run("hello", "--rust-image-cache-edits=source,rebuild"),
        "--rust-image-cache-edits: unknown cache edit kind 'rebuild'; "
        "choose from: source, library, non-rust, version, member",
    )
    project.set_metadata(crate, cache_edits='["source", "docs"]')
    line = (crate / "Cargo.toml").read_text().splitlines().index('cache-edits = ["source", "docs"]') + 1
    failed_reading(
        project.run("hello"),
        f"{crate / 'Cargo.toml'}:{line} [package.metadata.rust-image]: unknown cache edit kind 'docs'; "
        "choose from: source, library, non-rust, version, member",
    )


def test_unknown_engine_on_the_command_line(project: Project) -> None:
    project.copy("hello")
    usage_error(
        project.run("hello", "--rust-image-engine=nerdctl"),
        "unknown engine 'nerdctl'; choose from: docker, podman, all",
    )


def test_unknown_engine_and_missing_crate_in_a_marker(project: Project) -> None:
    project.copy("hello")
    project.pytester.makepyfile(
        test_marked="""
        import pytest

        @pytest.mark.rust_image(crate="hello", engine="nerdctl")
        def test_engine(rust_image):
            pass

        @pytest.mark.rust_image(crate="nowhere")
        def test_crate(rust_image):
            pass
        """
    )
    result = project.run("test_marked.py")
    result.assert_outcomes(errors=2)  # the rust_image fixture fails, so the tests error at setup
    result.stdout.fnmatch_lines(["*unknown engine 'nerdctl'; choose from: docker, podman, all*"])
    result.stdout.fnmatch_lines([literal(f"{project.path / 'nowhere'}: no such file or folder")])
    assert_clean(result)


# --- files that cannot go into a build context -------------------------------------------------


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _socket(path: Path) -> None:
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.close()  # the socket file stays; opening it fails, also for root


def _device(path: Path) -> None:
    os.mknod(path, 0o600 | stat.S_IFCHR, os.makedev(1, 5))  # like /dev/zero: reading it never ends


def _block_device(path: Path) -> None:
    os.mknod(path, 0o600 | stat.S_IFBLK, os.makedev(7, 0))  # like /dev/loop0


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        (_fifo, "a named pipe (FIFO)"),
        (_socket, "a socket"),
        (_device, "a character device"),
        (_block_device, "a block device"),
    ],
    ids=["fifo", "socket", "device", "block-device"],
)
def test_special_file_in_the_context_is_refused(project: Project, make: Callable[[Path], None], kind: str) -> None:
    crate = project.copy("hello")
    make(crate / "src" / "special")
    result = project.run("hello", "--rust-image-strategy=static", NO_CACHE)
    result.assert_outcomes(failed=1, skipped=3)
    result.stdout.fnmatch_lines(
        [
            literal(
                f"hello (static-docker) did not build: {crate}: src/special is {kind}, not a regular file, and "
                "cannot go into a build context; remove it, or list it in .dockerignore"
            ),
            literal("SKIPPED [3] hello/Cargo.toml:1: the image did not build; see build[static-docker]"),
        ]
    )
    assert_clean(result)


def test_special_file_listed_in_dockerignore_is_left_out(project: Project) -> None:
    crate = project.copy("hello")
    _fifo(crate / "src" / "special")
    (crate / ".dockerignore").write_text("src/special\n")
    report = project.path / "report.json"
    try:
        result = project.run(
            "hello", "--rust-image-strategy=static", "--rust-image-checks=build", f"--rust-image-report={report}", "-v"
        )
        result.assert_outcomes(passed=1)
        assert_clean(result)
        result.stdout.fnmatch_lines(["*hello/Cargo.toml::build[[]static-docker[]] PASSED*"])
        assert "src/special" not in result.stdout.str()  # no refusal, not even a warning about it
        records = json.loads(report.read_text())["images"]
        assert [(r["crate"], r["strategy"], r["engine"]) for r in records] == [("hello", "static", "docker")]
        assert records[0]["tag"].startswith("pytest-rustimage/hello:static-")
        assert stat.S_ISFIFO((crate / "src" / "special").lstat().st_mode)  # the crate's own file is untouched
    finally:
        remove_reported_images(report)


def test_link_out_of_the_context_is_refused(project: Project) -> None:
    crate = project.copy("hello")
    secret = project.path / "elsewhere" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("not for the image\n")
    (crate / "src" / "leak.txt").symlink_to(secret)
    result = project.run("hello", "--rust-image-strategy=static", NO_CACHE)
    result.assert_outcomes(failed=1, skipped=3)
    result.stdout.fnmatch_lines(
        [
            literal(
                f"hello (static-docker) did not build: {crate}: src/leak.txt is a symbolic link to {secret}, "
                "outside the build context; copy the file into the crate instead, or list the link in .dockerignore"
            )
        ]
    )
    assert_clean(result)


def test_a_hand_edited_baseline_is_a_usage_error_and_is_left_alone(pytester: pytest.Pytester) -> None:
    """Needs no engine: the baseline is read when the session starts, before anything is built."""
    baseline = pytester.path / "rust-image-baseline.json"
    broken = '{\n  "format": 1,\n  "images": {\n    "hello/chef/docker": {"size": 1,}\n  }\n}\n'
    baseline.write_text(broken)
    pytester.makefile(".toml", Cargo='[package]\nname = "hello"\nversion = "0.1.0"\n')
    result = pytester.runpytest_subprocess("--rust-image", "Cargo.toml", "--rust-image-update-baseline")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: {baseline}:4: not valid JSON (*line 4, column *"])
    assert baseline.read_text() == broken
    baseline.write_text('{"format": 1, "images": {"hello/chef/docker": {"size": 1, "note": "x"}}}')
    result = pytester.runpytest_subprocess("--rust-image", "Cargo.toml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: {baseline}: entry 'hello/chef/docker' has unknown key(s) 'note'; *"])

"""The incremental strategy's build step, run as the Dockerfile runs it (a real shell, real cargo on the
host) in a folder that stands for the ``target/`` cache mount, across edits, failed builds, interrupted
builds and reverts: after every build that succeeds, the binary prints what a clean build of the same
sources prints.

The build step's command is taken from the rendered Dockerfile itself, with its two absolute folders
(the dependency layer's ``target/`` and the output folder) moved into the test's own folder; the
sources folder stands for ``/app`` and its ``target/`` for the mount.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from pytest_rustimage.recipe.dockerfile import BUILD_MARK, COOKED, DEPS_DIR, Recipe
from pytest_rustimage.recipe.strategies import render

pytestmark = pytest.mark.skipif(shutil.which("cargo") is None, reason="cargo is not on PATH")

OUT_DIR = "/rust-image-out"
BINARY = "wsctl"

WORKSPACE = {
    "Cargo.toml": '[workspace]\nmembers = ["core", "cli"]\nresolver = "2"\n',
    "core/Cargo.toml": '[package]\nname = "ws-core"\nversion = "0.1.0"\nedition = "2021"\n',
    "core/src/lib.rs": "mod words;\n\npub fn words() -> String {\n    words::WORDS.to_string()\n}\n",
    "core/src/words.rs": 'pub const WORDS: &str = "original words";\n',
    "cli/Cargo.toml": (
        '[package]\nname = "ws-cli"\nversion = "0.1.0"\nedition = "2021"\nbuild = "build.rs"\n\n'
        '[[bin]]\nname = "wsctl"\npath = "src/main.rs"\n\n[dependencies]\nws-core = { path = "../core" }\n'
    ),
    "cli/build.rs": (
        "fn main() {\n"
        '    let info = std::fs::read_to_string("info.txt").unwrap_or_else(|_| "no info".into());\n'
        '    println!("cargo:rustc-env=CLI_INFO=info: {}", info.trim());\n'
        '    println!("cargo:rerun-if-changed=info.txt");\n'
        '    println!("cargo:rerun-if-changed=build.rs");\n'
        "}\n"
    ),
    "cli/info.txt": "v1\n",
    "cli/src/main.rs": 'fn main() {\n    println!("{} / {}", ws_core::words(), env!("CLI_INFO"));\n}\n',
}
CONTEXT_TIME = 978_307_200  # 2001-01-01: later than the build step's "unchanged" time, earlier than any build
BROKEN = 'compile_error!("broken on purpose");\n'  # appended to main.rs: the binary's crate fails


def build_step(deps: Path, out: Path) -> str:
    """The shell command of the rendered Dockerfile's build step, with its absolute folders moved."""
    lines = render(Recipe("incremental", "ws-cli", BINARY, locked=False, crate="ws")).splitlines()
    start = next(i for i, line in enumerate(lines) if BUILD_MARK in line)
    joined = []
    for line in lines[start:]:
        joined.append(line.removesuffix("\\").strip())
        if not line.endswith("\\"):
            break
    command = " ".join(joined)
    command = command[command.index(BUILD_MARK) :]  # after RUN and its --mount options
    assert DEPS_DIR in command and OUT_DIR in command, command
    return command.replace(DEPS_DIR, str(deps)).replace(OUT_DIR, str(out))


def cargo_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARGO_TARGET") and k != "CARGO_BUILD_TARGET_DIR"}
    env["CARGO_TERM_COLOR"] = "never"
    return env


class Mount:
    """A workspace built again and again by the build step, its ``target/`` kept as the mount keeps it.

    Each build runs in a fresh copy of the sources at the same place (``/app`` in a new container),
    with the mount's folder moved in as its ``target/`` and out again afterwards: what cargo or the
    step write beside ``target/`` goes with the copy, as it goes with the container.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.src = root / "src"  # the workspace as its author edits it
        self.app = root / "app"  # the build step's working folder
        self.target = root / "mount"  # the target/ cache mount between builds
        self.deps = root / "deps"  # the dependency layer's target/: here only the cook's stamp
        self.out = root / "out"
        self.deps.mkdir(parents=True)
        self.target.mkdir()
        (self.deps / COOKED).write_text("the cook of this workspace\n")
        for rel, text in WORKSPACE.items():
            self.write(rel, text)
        self.script = build_step(self.deps, self.out)
        self.clean_builds = 0

    def write(self, rel: str, text: str) -> None:
        path = self.src / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    def edit(self, rel: str, old: str, new: str) -> None:
        text = (self.src / rel).read_text()
        assert old in text, (rel, old)
        self.write(rel, text.replace(old, new))

    def restore(self, *rels: str) -> None:
        for rel in rels:
            self.write(rel, WORKSPACE[rel])

    def start(self) -> subprocess.Popen[str]:
        """Start the build step, the sources carrying the worst times a build context can bring: all
        older than every build so far (a copy, an older checkout), folders included."""
        shutil.rmtree(self.out, ignore_errors=True)
        shutil.rmtree(self.app, ignore_errors=True)
        shutil.copytree(self.src, self.app, symlinks=True)
        for path in [self.app, *self.app.rglob("*")]:
            os.utime(path, (CONTEXT_TIME, CONTEXT_TIME), follow_symlinks=False)
        self.target.rename(self.app / "target")
        return subprocess.Popen(
            ["sh", "-c", self.script],
            cwd=self.app,
            env=cargo_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group: an interrupt stops cargo and rustc with it
        )

    def finish(self, running: subprocess.Popen[str]) -> tuple[int, str]:
        log, _ = running.communicate(timeout=300)
        (self.app / "target").rename(self.target)
        return running.returncode, log

    def build(self) -> str:
        """Run the build step to the end; its output. The step must succeed."""
        code, log = self.finish(self.start())
        assert code == 0, log
        return log

    def fails(self) -> None:
        code, log = self.finish(self.start())
        assert code != 0, log
        assert "broken on purpose" in log, log  # it failed where the test broke it, after compiling the rest

    def interrupt_after(self, unit: str, timeout: float = 120) -> None:
        """Start the build step and kill it (cargo, rustc, build scripts) once cargo has recorded ``unit``
        (a fingerprint folder's prefix, e.g. ``ws-core-``) as built by this run."""
        started = time.time()
        running = self.start()
        fingerprints = self.app / "target" / "release" / ".fingerprint"
        try:
            while time.time() < started + timeout:
                assert running.poll() is None, running.communicate()[0]
                done = [
                    path
                    for path in fingerprints.glob(f"{unit}*/*")
                    if path.name.startswith("lib-")
                    and not path.name.endswith(".json")
                    # cargo empties a unit's fingerprint when it starts on it and writes it when done
                    and path.stat().st_size > 0
                    and path.stat().st_mtime >= started
                ]
                if done:
                    return
                time.sleep(0.05)
            raise AssertionError(f"{unit} was not built within {timeout}s")
        finally:
            os.killpg(running.pid, signal.SIGKILL)
            self.finish(running)

    def prints(self) -> str:
        return subprocess.run(
            [str(self.out / BINARY)], capture_output=True, text=True, check=True, timeout=30
        ).stdout.strip()

    def clean_build_prints(self) -> str:
        """What the binary of a clean build of the same sources prints (built once per source tree)."""
        tree = hashlib.sha256()
        for path in sorted(self.src.rglob("*")):
            content = os.readlink(path) if path.is_symlink() else path.read_text() if path.is_file() else "/"
            tree.update(f"{path.relative_to(self.src)}\0{content}\0".encode())
        if tree.hexdigest() not in CLEAN:
            CLEAN[tree.hexdigest()] = self._clean_build()
        return CLEAN[tree.hexdigest()]

    def _clean_build(self) -> str:
        self.clean_builds += 1
        clean = self.root / f"clean-{self.clean_builds}"
        shutil.copytree(self.src, clean, symlinks=True)
        subprocess.run(
            ["cargo", "build", "--release", "--package", "ws-cli", "--bin", BINARY],
            cwd=clean,
            env=cargo_env(),
            check=True,
            capture_output=True,
            timeout=300,
        )
        printed = subprocess.run(
            [str(clean / "target" / "release" / BINARY)], capture_output=True, text=True, check=True, timeout=30
        ).stdout.strip()
        shutil.rmtree(clean)
        return printed

    def builds_as_clean(self, expected: str) -> None:
        """Build; the binary prints ``expected``, as a clean build of the same sources does."""
        self.build()
        assert self.clean_build_prints() == expected
        assert self.prints() == expected


ORIGINAL = "original words / info: v1"
CLEAN: dict[str, str] = {}  # a source tree's digest -> what its clean build's binary prints


@pytest.fixture
def mount(tmp_path: Path) -> Mount:
    made = Mount(tmp_path)
    made.builds_as_clean(ORIGINAL)  # the mount's first build: its record now describes these sources
    return made


def compiled(log: str) -> list[str]:
    return sorted(line.split()[1] for line in log.splitlines() if line.strip().startswith("Compiling "))


def test_an_edit_recompiles_the_edited_crate_only_and_a_failed_build_everything_after(mount: Mount) -> None:
    mount.edit("cli/src/main.rs", "{} / {}", "{} | {}")
    assert compiled(mount.build()) == ["ws-cli"]
    assert mount.prints() == "original words | info: v1"
    mount.restore("cli/src/main.rs")
    assert compiled(mount.build()) == ["ws-cli"]  # back: the record described the edited text
    mount.write("cli/src/main.rs", WORKSPACE["cli/src/main.rs"] + BROKEN)
    mount.fails()
    mount.restore("cli/src/main.rs")
    assert compiled(mount.build()) == ["ws-cli", "ws-core"]  # no record: every workspace crate again
    assert compiled(mount.build()) == []  # the record again: nothing changed


def test_a_failed_build_then_a_revert_gives_the_original_binary(mount: Mount) -> None:
    # the library's output changes and the binary's crate breaks: cargo compiles the library, then fails
    mount.edit("core/src/words.rs", "original words", "edited words")
    mount.write("cli/src/main.rs", WORKSPACE["cli/src/main.rs"] + BROKEN)
    mount.fails()
    mount.restore("core/src/words.rs", "cli/src/main.rs")  # every source as the record describes it
    mount.builds_as_clean(ORIGINAL)  # not the failed build's library


def test_two_failed_builds_in_a_row_then_a_revert(mount: Mount) -> None:
    mount.edit("core/src/words.rs", "original words", "edited words")
    mount.write("cli/src/main.rs", WORKSPACE["cli/src/main.rs"] + BROKEN)
    mount.fails()
    mount.edit("core/src/words.rs", "edited words", "edited again")
    mount.fails()
    mount.restore("core/src/words.rs")
    mount.fails()
    mount.restore("cli/src/main.rs")
    mount.builds_as_clean(ORIGINAL)
    mount.edit("core/src/words.rs", "original words", "edited words")  # the first failed build's library
    mount.builds_as_clean("edited words / info: v1")


def test_an_interrupted_build_then_a_revert_gives_the_original_binary(mount: Mount) -> None:
    # the library's output changes and the binary's build script now takes long: the build is killed
    # after cargo compiled the library, while the build script runs (an engine's timeout, a Ctrl-C)
    mount.edit("core/src/words.rs", "original words", "edited words")
    mount.edit(
        "cli/build.rs", "fn main() {\n", "fn main() {\n    std::thread::sleep(std::time::Duration::from_secs(20));\n"
    )
    mount.interrupt_after("ws-core-")
    mount.restore("core/src/words.rs", "cli/build.rs")
    mount.builds_as_clean(ORIGINAL)


def test_a_deleted_source_file(mount: Mount) -> None:
    # a module file goes (its text inlined, with other words), in a build that fails, then comes back
    mount.write("core/src/lib.rs", 'pub fn words() -> String {\n    "inline words".to_string()\n}\n')
    (mount.src / "core/src/words.rs").unlink()
    mount.write("cli/src/main.rs", WORKSPACE["cli/src/main.rs"] + BROKEN)
    mount.fails()
    mount.restore("core/src/lib.rs", "core/src/words.rs", "cli/src/main.rs")
    mount.builds_as_clean(ORIGINAL)
    # a file only the build script reads (rerun-if-changed): its deletion alone changes the binary
    (mount.src / "cli/info.txt").unlink()
    mount.builds_as_clean("original words / info: no info")
    mount.restore("cli/info.txt")
    mount.builds_as_clean(ORIGINAL)
    # deleted in a failed build, back before the next
    (mount.src / "cli/info.txt").unlink()
    mount.write("cli/src/main.rs", WORKSPACE["cli/src/main.rs"] + BROKEN)
    mount.fails()
    mount.restore("cli/info.txt", "cli/src/main.rs")
    mount.builds_as_clean(ORIGINAL)


def test_a_file_added_then_removed(mount: Mount) -> None:
    mount.write("core/src/extra.rs", 'pub const MORE: &str = " and more";\n')
    mount.write(
        "core/src/lib.rs",
        "mod extra;\n" + WORKSPACE["core/src/lib.rs"].replace(".to_string()", ".to_string() + extra::MORE"),
    )
    mount.builds_as_clean("original words and more / info: v1")
    (mount.src / "core/src/extra.rs").unlink()
    mount.restore("core/src/lib.rs")
    mount.builds_as_clean(ORIGINAL)


def test_a_renamed_crate(mount: Mount) -> None:
    def rename(old: str, new: str) -> None:
        mount.edit("core/Cargo.toml", f'name = "{old}"', f'name = "{new}"')
        mount.edit("cli/Cargo.toml", f"{old} = ", f"{new} = ")
        mount.edit("cli/src/main.rs", old.replace("-", "_"), new.replace("-", "_"))

    rename("ws-core", "ws-base")
    mount.edit("core/src/words.rs", "original words", "renamed words")
    mount.builds_as_clean("renamed words / info: v1")
    rename("ws-base", "ws-core")  # back, with the binary broken: a failed build of the old name
    mount.write("cli/src/main.rs", (mount.src / "cli/src/main.rs").read_text() + BROKEN)
    mount.fails()
    mount.restore("cli/src/main.rs")
    mount.builds_as_clean("renamed words / info: v1")
    mount.restore("core/src/words.rs")
    mount.builds_as_clean(ORIGINAL)


def test_a_build_scripts_output_changes(mount: Mount) -> None:
    mount.write("cli/info.txt", "v2\n")  # what the build script reads
    mount.builds_as_clean("original words / info: v2")
    mount.edit("cli/build.rs", "info: {}", "information: {}")  # what the build script writes
    mount.builds_as_clean("original words / information: v2")
    # the build script's output changes in a build that fails; both back before the next
    mount.restore("cli/info.txt")
    mount.edit("cli/build.rs", "information: {}", "changed: {}")
    mount.write("cli/src/main.rs", WORKSPACE["cli/src/main.rs"] + BROKEN)
    mount.fails()
    mount.edit("cli/build.rs", "changed: {}", "information: {}")
    mount.write("cli/info.txt", "v2\n")
    mount.restore("cli/src/main.rs")
    mount.builds_as_clean("original words / information: v2")
    mount.restore("cli/build.rs", "cli/info.txt")
    mount.builds_as_clean(ORIGINAL)


def test_a_version_bumped_and_back(mount: Mount) -> None:
    # cargo names a package's artifacts after its version: the 0.1.0 ones stay in the mount while 0.2.0
    # is built, and come back into use with the old version (which cargo-chef's recipe does not see)
    mount.edit("core/Cargo.toml", 'version = "0.1.0"', 'version = "0.2.0"')
    mount.edit("core/src/words.rs", "original words", "edited words")
    mount.builds_as_clean("edited words / info: v1")
    mount.restore("core/Cargo.toml")
    mount.builds_as_clean("edited words / info: v1")


def test_a_link_given_another_target(mount: Mount) -> None:
    # the module is a link to one of two files that never change: only the link does
    mount.write("core/src/words_a.rs", WORKSPACE["core/src/words.rs"])
    mount.write("core/src/words_b.rs", 'pub const WORDS: &str = "other words";\n')
    (mount.src / "core/src/words.rs").unlink()
    (mount.src / "core/src/words.rs").symlink_to("words_a.rs")
    mount.builds_as_clean(ORIGINAL)
    (mount.src / "core/src/words.rs").unlink()
    (mount.src / "core/src/words.rs").symlink_to("words_b.rs")
    mount.builds_as_clean("other words / info: v1")


def test_a_file_deleted_from_a_folder_a_build_script_watches(mount: Mount) -> None:
    mount.write("cli/assets/one.txt", "1\n")
    mount.write("cli/assets/two.txt", "2\n")
    mount.edit(
        "cli/build.rs",
        'std::fs::read_to_string("info.txt")',
        'std::fs::read_dir("assets").map(|d| d.count().to_string())',
    )
    mount.edit("cli/build.rs", "rerun-if-changed=info.txt", "rerun-if-changed=assets")
    mount.builds_as_clean("original words / info: 2")
    (mount.src / "cli/assets/two.txt").unlink()
    mount.builds_as_clean("original words / info: 1")

"""The build lock, between real processes."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from pytest_rustimage.folders import FolderError
from pytest_rustimage.locks import (
    LockTimeout,
    exclusive,
    failure_of,
    last_run,
    lock_folder,
    lock_path,
    record_failure,
    record_run,
)

HOLD = """
import sys, time
from pathlib import Path
from pytest_rustimage.locks import exclusive
with exclusive(Path(sys.argv[1]), what="x"):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
    Path(sys.argv[1] + ".done").write_text("")  # the last thing before letting go
"""


def _holder(path: Path, seconds: float) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(path), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_one_process_waits_for_the_other_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "a.lock"
    holder = _holder(path, 2)
    said: list[str] = []
    with exclusive(path, what="hello (static-docker)", say=said.append) as waited:
        assert Path(f"{path}.done").exists(), "got the lock while the other process still held it"
    assert waited
    assert said and "another process is building hello (static-docker)" in said[0]
    holder.communicate()  # waits, and closes its pipe


def test_no_wait_when_free(tmp_path: Path) -> None:
    with exclusive(tmp_path / "b.lock", what="x") as waited:
        assert not waited


def test_a_killed_holder_releases_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "c.lock"
    holder = _holder(path, 600)
    holder.kill()
    holder.communicate()  # waits, and closes its pipe
    with exclusive(path, what="x", timeout=5) as waited:
        assert not waited


def test_waiting_is_bounded(tmp_path: Path) -> None:
    path = tmp_path / "d.lock"
    holder = _holder(path, 600)
    try:
        started = time.monotonic()
        with pytest.raises(LockTimeout, match=r"still holds the lock .*d\.lock"), exclusive(path, what="x", timeout=1):
            pass
        assert time.monotonic() - started < 30
    finally:
        holder.kill()
        holder.communicate()  # waits, and closes its pipe


def test_lock_names_differ_by_engine_and_tag(tmp_path: Path) -> None:
    names = {
        lock_path(tmp_path, endpoint, tag)
        for endpoint in ("unix:///var/run/docker.sock", "tcp://host:2375")
        for tag in ("pytest-rustimage/a:static-1", "pytest-rustimage/a:chef-1")
    }
    assert len(names) == 4 and all(p.parent == tmp_path for p in names)


def test_the_run_that_built_is_remembered(tmp_path: Path) -> None:
    path = lock_path(tmp_path, "e", "t")
    assert last_run(path) is None
    record_run(path, "run-1")
    assert last_run(path) == "run-1"


def test_a_failed_build_is_told_to_the_same_run_only_until_a_build_succeeds(tmp_path: Path) -> None:
    path = lock_path(tmp_path, "e", "t")
    record_failure(path, "run-1", "`docker build` exited with code 1", "error[E0425]: cannot find value")
    assert failure_of(path, "run-1") == ("`docker build` exited with code 1", "error[E0425]: cannot find value")
    assert failure_of(path, "run-2") is None  # another run tries again
    record_run(path, "run-1")
    assert failure_of(path, "run-1") is None


def test_the_lock_folder_is_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "locks"
    monkeypatch.setenv("RUST_IMAGE_LOCK_DIR", str(folder))
    assert lock_folder() == folder
    assert folder.stat().st_mode & 0o777 == 0o700


def test_a_lock_folder_others_can_write_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "shared"
    folder.mkdir(mode=0o777)
    folder.chmod(0o777)
    monkeypatch.setenv("RUST_IMAGE_LOCK_DIR", str(folder))
    with pytest.raises(
        FolderError, match=r"the build lock folder .* is not a folder of yours that only you can write to"
    ):
        lock_folder()


def test_a_planted_link_is_not_followed(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.write_text("keep")
    path = lock_path(tmp_path, "e", "t")
    path.with_suffix(".run").symlink_to(target)
    record_run(path, "run-1")  # the planted link is replaced by the record, never written through
    assert target.read_text() == "keep" and not path.with_suffix(".run").is_symlink()

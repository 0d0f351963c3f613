"""The build lock, between real processes."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from pytest_rustimage.locks import LockTimeout, exclusive, last_run, lock_path, record_run

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
    holder.wait()


def test_no_wait_when_free(tmp_path: Path) -> None:
    with exclusive(tmp_path / "b.lock", what="x") as waited:
        assert not waited


def test_a_killed_holder_releases_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "c.lock"
    holder = _holder(path, 600)
    holder.kill()
    holder.wait()
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
        holder.wait()


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

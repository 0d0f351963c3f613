"""SIGTERM taken as Ctrl-C (plugin/terminate.py), with real signals sent to this process."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest

from pytest_rustimage.plugin.terminate import TERMINATED_EXIT, SigtermAsInterrupt


@pytest.fixture
def sigterm_default() -> Iterator[None]:
    before = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    yield
    signal.signal(signal.SIGTERM, before)


def test_the_first_sigterm_interrupts_and_a_second_lets_the_cleanup_finish(sigterm_default: None) -> None:
    taker = SigtermAsInterrupt()
    assert taker.install()
    with pytest.raises(KeyboardInterrupt, match="terminated by SIGTERM"):
        os.kill(os.getpid(), signal.SIGTERM)
    assert taker.received
    os.kill(os.getpid(), signal.SIGTERM)  # during the cleanup: ignored, this test goes on
    taker.uninstall()
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    assert TERMINATED_EXIT == 143


def test_a_handler_someone_else_installed_is_left_alone(sigterm_default: None) -> None:
    def theirs(signum: int, frame: object) -> None:
        raise AssertionError("not sent in this test")

    signal.signal(signal.SIGTERM, theirs)
    taker = SigtermAsInterrupt()
    assert not taker.install()
    taker.uninstall()
    assert signal.getsignal(signal.SIGTERM) is theirs

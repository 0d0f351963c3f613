"""SIGTERM stops a run as Ctrl-C does.

CI runners, ``timeout`` and process managers stop a job with SIGTERM (some send SIGINT first, some run
steps with SIGINT ignored). Python's default for SIGTERM ends the process at once: no ``finally`` runs,
so the build the plugin was waiting on goes on, its container stays, a half-made tag may be left.
Ctrl-C instead raises ``KeyboardInterrupt``, which pytest turns into an orderly end: the build or
container being waited on is stopped where it is waited on, and the session's cleanup runs.

So while a session runs, a SIGTERM raises ``KeyboardInterrupt`` too, once; a further SIGTERM during the
cleanup is ignored so that the cleanup finishes (a runner that will not wait sends SIGKILL anyway). The
run then exits with 143 (128 + SIGTERM), as a shell reports a job SIGTERM ended. Only when SIGTERM has
its default action: a handler someone else installed (a launcher, a plugin, the user) is left alone.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType

TERMINATED_EXIT = 128 + signal.SIGTERM  # 143


class SigtermAsInterrupt:
    """Installs and removes the SIGTERM handler of one session; says whether SIGTERM came."""

    def __init__(self) -> None:
        self.received = False
        self._installed = False

    def install(self) -> bool:
        """Take SIGTERM over when it has its default action and this is the main thread; True if taken."""
        if threading.current_thread() is not threading.main_thread():
            return False
        if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
            return False
        signal.signal(signal.SIGTERM, self._handle)
        self._installed = True
        return True

    def uninstall(self) -> None:
        """Give SIGTERM its default action back (if this object took it)."""
        if self._installed and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            self._installed = False

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.received:
            return  # the cleanup the first one started is running: let it finish
        self.received = True
        raise KeyboardInterrupt("terminated by SIGTERM: stopping the build or container, cleaning up")

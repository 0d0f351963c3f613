"""The session's engines: each made and asked to answer once, and cleaned up at the end.

An engine that does not answer is remembered as such, so every check of the session gets the same
:class:`~pytest_rustimage.errors.EngineUnavailable` without asking again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from pytest_rustimage.engines import Engine, make_engine
from pytest_rustimage.errors import EngineUnavailable, RustImageError


def _line(engine: Engine) -> str:
    """What the summary says of an engine, asked when it first answers, so that the session's end asks
    it nothing (an engine that answers but cannot build says why)."""
    try:
        builder = engine.builder
    except EngineUnavailable as exc:
        builder = f"cannot build: {exc.reason}"
    return f"engine {engine.name} at {engine.endpoint} ({builder})"


class EnginePool:
    """Engines by name for one session."""

    def __init__(self, make: Callable[[str], Engine] = make_engine) -> None:
        self._make = make
        self._engines: dict[str, Engine | EngineUnavailable] = {}
        self._lines: dict[str, str] = {}  # what each engine that answered is, said when it first answered

    def get(self, name: str) -> Engine:
        """The engine by name, checked to answer once per session."""
        if name not in self._engines:
            engine = self._make(name)
            try:
                engine.ping()
                self._engines[name] = engine
                self._lines[name] = _line(engine)
            except EngineUnavailable as exc:
                engine.close()
                self._engines[name] = exc
        found = self._engines[name]
        if isinstance(found, EngineUnavailable):
            raise found
        return found

    def reached(self) -> list[Engine]:
        """The engines that answered this session."""
        return [engine for engine in self._engines.values() if not isinstance(engine, EngineUnavailable)]

    def lines(self) -> list[str]:
        """Each engine that answered this session, as the summary names it: name, endpoint, builder."""
        return list(self._lines.values())

    def close(self, session: Mapping[str, str], say: Callable[[str], None]) -> None:
        """Remove the containers and build leftovers carrying the ``session`` labels, then let go."""
        for engine in self.reached():
            try:
                engine.remove_containers(session)
                engine.remove_build_leftovers(session)
            except RustImageError as exc:
                say(
                    f"rust-image: cleaning up {engine.name} failed: {exc}; once it answers again, "
                    "`python -m pytest_rustimage prune` removes what this session left"
                )
            finally:
                engine.close()
        self._engines.clear()

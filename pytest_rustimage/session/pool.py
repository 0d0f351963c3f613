"""The session's engines: each made and asked to answer once, and cleaned up at the end.

An engine that does not answer is remembered as such, so every check of the session gets the same
:class:`~pytest_rustimage.errors.EngineUnavailable` without asking again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from pytest_rustimage.engines import Engine, make_engine
from pytest_rustimage.errors import EngineUnavailable, RustImageError


class EnginePool:
    """Engines by name for one session."""

    def __init__(self, make: Callable[[str], Engine] = make_engine) -> None:
        self._make = make
        self._engines: dict[str, Engine | EngineUnavailable] = {}

    def get(self, name: str) -> Engine:
        """The engine by name, checked to answer once per session."""
        if name not in self._engines:
            engine = self._make(name)
            try:
                engine.ping()
                self._engines[name] = engine
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

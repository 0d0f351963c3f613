"""Both engines are the one `Engine` protocol: every member, with the protocol's parameters; the
docs list the whole interface; and the engines import only the foundation and each other."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path
from typing import Any

import docker
import pytest

from pytest_rustimage.engines import make_engine
from pytest_rustimage.engines.docker import DockerEngine
from pytest_rustimage.engines.podman import PodmanEngine
from pytest_rustimage.engines.protocol import Engine

ROOT = Path(__file__).resolve().parents[3]
ENGINES = (DockerEngine, PodmanEngine)
MEMBERS = sorted(name for name in vars(Engine) if not name.startswith("_"))
PROPERTIES = sorted(name for name in MEMBERS if isinstance(vars(Engine)[name], property))


def test_the_protocol_has_its_32_members() -> None:
    assert len(MEMBERS) == 32
    assert PROPERTIES == ["builder", "endpoint", "name", "service_host"]


def test_every_member_has_a_docstring() -> None:
    for name in MEMBERS:
        member = vars(Engine)[name]
        function = member.fget if isinstance(member, property) else member
        assert (function.__doc__ or "").strip(), f"Engine.{name} has no docstring"


def no_connection(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("an engine connected while it was only made and looked at")


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """No Docker client may be made: constructing and checking an engine connects to nothing."""
    monkeypatch.setattr(docker, "DockerClient", no_connection)


def test_both_engines_are_structurally_an_engine(offline: None, tmp_path: Path) -> None:
    # before Python 3.12 isinstance reads the properties: `builder` then probes the (here absent) CLI
    docker_engine = DockerEngine(base_url="unix:///nonexistent/docker.sock", cli=str(tmp_path / "no-docker"))
    podman_engine = PodmanEngine(cli=str(tmp_path / "no-podman"))
    assert isinstance(docker_engine, Engine)
    assert isinstance(podman_engine, Engine)
    assert (docker_engine.name, podman_engine.name) == ("docker", "podman")
    assert docker_engine.endpoint == "unix:///nonexistent/docker.sock"


def test_make_engine_connects_to_nothing(offline: None) -> None:
    for name in ("docker", "podman"):
        engine = make_engine(name)
        assert engine.name == name
        engine.close()  # nothing to let go of


def test_an_object_missing_a_member_is_not_an_engine() -> None:
    class Half:
        name = "half"

        def ping(self) -> None:
            pass

    assert not isinstance(Half(), Engine)


def parameters(function: Any) -> list[tuple[str, Any, Any]]:
    """A function's parameters as (name, kind, default): what a caller relies on."""
    return [(p.name, p.kind, p.default) for p in inspect.signature(function).parameters.values()]


@pytest.mark.parametrize("engine", ENGINES, ids=lambda cls: cls.__name__)
@pytest.mark.parametrize("name", MEMBERS)
def test_every_member_is_there_with_the_protocols_parameters(engine: type[object], name: str) -> None:
    assert hasattr(engine, name), f"{engine.__name__} has no {name}"
    ours, theirs = vars(Engine)[name], inspect.getattr_static(engine, name)
    if isinstance(ours, property):
        assert isinstance(theirs, property), f"{engine.__name__}.{name} is not a property"
    else:
        assert callable(theirs), f"{engine.__name__}.{name} is not a method"
        assert parameters(getattr(engine, name)) == parameters(ours)


def test_the_docs_list_every_member() -> None:
    text = (ROOT / "docs" / "engines.md").read_text()
    interface = text.split("## Docker", 1)[0]
    named = set(re.findall(r"`([a-z_]+)`", interface))
    assert set(MEMBERS) <= named, f"docs/engines.md does not name: {sorted(set(MEMBERS) - named)}"
    for path in re.findall(r"`(pytest_rustimage/[\w/]+\.py)`", text):
        assert (ROOT / path).is_file(), f"docs/engines.md names {path}, which does not exist"


ALLOWED = ("pytest_rustimage.errors", "pytest_rustimage.names", "pytest_rustimage.locks", "pytest_rustimage.units")


@pytest.mark.parametrize("path", sorted((ROOT / "pytest_rustimage" / "engines").glob("*.py")), ids=lambda p: p.name)
def test_engines_import_only_the_foundation_and_each_other(path: Path) -> None:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path.name}: a relative import"
            names = [node.module or ""]
        else:
            continue
        for name in names:
            if name.split(".")[0] == "pytest_rustimage":
                assert name in ALLOWED or name.startswith("pytest_rustimage.engines"), f"{path.name} imports {name}"

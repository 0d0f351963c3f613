"""The two engine protocols: `Engine` (what a session uses) and `EngineStore` (what housekeeping uses),
each its stated members on a shared `Connection`; both engines are both, every member with the
protocol's parameters; the docs list the whole interface; and the engines import only the foundation
and each other."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path
from typing import Any

import docker
import pytest

from pytest_rustimage.engines import make_engine
from pytest_rustimage.engines import protocol as engine_protocol
from pytest_rustimage.engines.docker import DockerEngine
from pytest_rustimage.engines.podman import PodmanEngine
from pytest_rustimage.engines.protocol import Engine, EngineAndStore, EngineStore

ROOT = Path(__file__).resolve().parents[3]
ENGINES = (DockerEngine, PodmanEngine)

SHARED = ["close", "endpoint", "name", "ping"]
ENGINE_MEMBERS = sorted(
    [
        *SHARED,
        *("builder", "cache_mounts_missing", "build", "remove_build_leftovers"),
        *("image_id", "inspect_raw", "open_archive", "read_file", "remove_image"),
        *("service_host", "api_endpoint", "run", "start", "published", "logs", "state"),
        *("remove_container", "remove_containers"),
    ]
)
STORE_MEMBERS = sorted(
    [
        *SHARED,
        *("list_images", "image_layers", "history_sizes", "remove_unused_image", "import_rootfs", "load_archive"),
        *("list_containers", "remove_stopped_container"),
        *("cache_mounts", "remove_cache_mount"),
    ]
)
MEMBERS = sorted({*ENGINE_MEMBERS, *STORE_MEMBERS})


def members(interface: type) -> list[str]:
    """The public members a protocol declares, its own and those of the protocols it is made of."""
    mine = [cls for cls in interface.__mro__ if cls.__module__ == engine_protocol.__name__]
    return sorted({name for cls in mine for name in vars(cls) if not name.startswith("_")})


def is_property(name: str) -> bool:
    return isinstance(inspect.getattr_static(EngineAndStore, name), property)


def test_each_protocol_has_its_stated_members() -> None:
    assert members(Engine) == ENGINE_MEMBERS
    assert members(EngineStore) == STORE_MEMBERS
    assert members(EngineAndStore) == MEMBERS
    assert (len(ENGINE_MEMBERS), len(STORE_MEMBERS), len(MEMBERS)) == (22, 14, 32)
    assert [name for name in MEMBERS if is_property(name)] == ["builder", "endpoint", "name", "service_host"]


def test_the_sides_share_only_the_connection() -> None:
    assert sorted(set(ENGINE_MEMBERS) & set(STORE_MEMBERS)) == SHARED == members(engine_protocol.Connection)


def test_every_member_has_a_docstring() -> None:
    for name in MEMBERS:
        member = inspect.getattr_static(EngineAndStore, name)
        function = member.fget if isinstance(member, property) else member
        assert (function.__doc__ or "").strip(), f"{name} has no docstring"


def no_connection(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("an engine connected while it was only made and looked at")


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """No Docker client may be made: constructing and checking an engine connects to nothing."""
    monkeypatch.setattr(docker, "DockerClient", no_connection)


def test_both_engines_are_structurally_an_engine_and_a_store(offline: None, tmp_path: Path) -> None:
    # before Python 3.12 isinstance reads the properties: `builder` then probes the (here absent) CLI
    docker_engine = DockerEngine(base_url="unix:///nonexistent/docker.sock", cli=str(tmp_path / "no-docker"))
    podman_engine = PodmanEngine(cli=str(tmp_path / "no-podman"))
    for engine in (docker_engine, podman_engine):
        assert isinstance(engine, Engine)
        assert isinstance(engine, EngineStore)
        assert isinstance(engine, EngineAndStore)
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
    assert not isinstance(Half(), EngineStore)


def test_a_store_alone_is_a_store_and_not_an_engine() -> None:
    """What housekeeping takes (an `EngineStore`) needs none of the build and run side."""

    def member(name: str) -> Any:
        return property(lambda self: name) if is_property(name) else lambda self, *args, **kwargs: None

    store = type("StoreOnly", (), {name: member(name) for name in STORE_MEMBERS})()
    assert isinstance(store, EngineStore)
    assert not isinstance(store, Engine)
    assert not isinstance(store, EngineAndStore)


def parameters(function: Any) -> list[tuple[str, Any, Any]]:
    """A function's parameters as (name, kind, default): what a caller relies on."""
    return [(p.name, p.kind, p.default) for p in inspect.signature(function).parameters.values()]


@pytest.mark.parametrize("engine", ENGINES, ids=lambda cls: cls.__name__)
@pytest.mark.parametrize("name", MEMBERS)
def test_every_member_is_there_with_the_protocols_parameters(engine: type[object], name: str) -> None:
    assert hasattr(engine, name), f"{engine.__name__} has no {name}"
    ours, theirs = inspect.getattr_static(EngineAndStore, name), inspect.getattr_static(engine, name)
    if isinstance(ours, property):
        assert isinstance(theirs, property), f"{engine.__name__}.{name} is not a property"
    else:
        assert callable(theirs), f"{engine.__name__}.{name} is not a method"
        assert parameters(getattr(engine, name)) == parameters(ours)


def test_the_docs_list_every_member() -> None:
    text = (ROOT / "docs" / "engines.md").read_text()
    interface = text.split("## Docker", 1)[0]
    named = set(re.findall(r"`([A-Za-z_]+)`", interface))
    assert {"Engine", "EngineStore", "EngineAndStore"} <= named
    assert set(MEMBERS) <= named, f"docs/engines.md does not name: {sorted(set(MEMBERS) - named)}"
    for path in re.findall(r"`(pytest_rustimage/[\w/]+\.py)`", text):
        assert (ROOT / path).is_file(), f"docs/engines.md names {path}, which does not exist"


# the foundation layer of docs/architecture.md
ALLOWED = tuple(f"pytest_rustimage.{name}" for name in ("errors", "names", "units", "folders", "locks"))
ENGINES_DIR = ROOT / "pytest_rustimage" / "engines"


@pytest.mark.parametrize("path", sorted(ENGINES_DIR.rglob("*.py")), ids=lambda p: str(p.relative_to(ENGINES_DIR)))
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

"""The Docker CLI probe's answer kept per CLI and plugin files: real executables (shell scripts that
answer as a docker CLI does, and log each run), real plugin files, a real cache folder."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from pytest_rustimage.engines.docker.cli import DockerCli, probe_cli
from pytest_rustimage.engines.docker.cli_store import CliFacts, cli_key, gather, kept_cli, load, plugin_places

# buildx works when an executable docker-buildx is in one of $PLUGIN_DIRS (the places the test says
# the CLI looks in); the client's version is the one written into the script
SCRIPT = """#!/bin/sh
echo "$0 $*" >> "$CALLS"
if [ "$1" = buildx ]; then
  IFS=:
  for d in $PLUGIN_DIRS; do [ -x "$d/docker-buildx" ] && exit 0; done
  echo "docker: 'buildx' is not a docker command." >&2
  exit 1
fi
[ "$1" = version ] && echo "{version}" && exit 0
exit 2
"""


class Machine:
    """A docker config folder, an extra and a system plugin folder, and the CLIs made in ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.config = root / "config"
        self.extra = root / "extra-plugins"
        self.system = root / "system-plugins"
        for folder in (self.config / "cli-plugins", self.extra, self.system):
            folder.mkdir(parents=True)
        self.calls = root / "calls.log"
        self.calls.touch()

    def cli(self, name: str, version: str) -> str:
        path = self.root / name / "docker"
        path.parent.mkdir(exist_ok=True)
        path.write_text(SCRIPT.replace("{version}", version))
        path.chmod(0o755)
        return str(path)

    def env(self) -> dict[str, str]:
        dirs = [str(self.config / "cli-plugins"), str(self.extra), str(self.system)]
        return {
            "PATH": os.environ["PATH"],
            "HOME": str(self.root),
            "DOCKER_CONFIG": str(self.config),
            "CALLS": str(self.calls),
            "PLUGIN_DIRS": ":".join(dirs),
        }

    def runs(self) -> int:
        return len(self.calls.read_text().splitlines())

    def kept(self, candidates: list[str], env: dict[str, str] | None = None) -> DockerCli | None:
        return kept_cli(candidates, env or self.env(), system_dirs=[str(self.system)])


def plugin(folder: Path, mode: int = 0o755) -> None:
    (folder / "docker-buildx").write_text("#!/bin/sh\nexit 0\n")
    (folder / "docker-buildx").chmod(mode)


@pytest.fixture
def machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Machine:
    monkeypatch.setenv("RUST_IMAGE_CACHE_DIR", str(tmp_path / "cache"))
    return Machine(tmp_path / "machine")


def stored(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "cache" / "cli"
    return sorted(folder.iterdir()) if folder.is_dir() else []


def test_the_kept_answer_is_the_probed_one_and_the_clis_run_once(machine: Machine, tmp_path: Path) -> None:
    old = machine.cli("old", "20.10.5")
    first = machine.kept([old])
    assert first == DockerCli(old, "buildkit-env") == probe_cli([old], machine.env())
    runs = machine.runs()
    assert machine.kept([old]) == first
    assert machine.runs() == runs  # the second answer ran no CLI
    (path,) = stored(tmp_path)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert json.loads(path.read_text())["format"] == 1


def _rewrite_cli(m: Machine, clis: list[str]) -> list[str]:
    Path(clis[0]).write_text(SCRIPT.replace("{version}", "24.0.7"))  # a newer client, no buildx: the next one
    return clis


def _plugin_in_config(m: Machine, clis: list[str]) -> list[str]:
    plugin(m.config / "cli-plugins")
    return clis


def _plugin_in_system_dir(m: Machine, clis: list[str]) -> list[str]:
    plugin(m.system)
    return clis


def _plugin_made_executable(m: Machine, clis: list[str]) -> list[str]:
    (m.extra / "docker-buildx").chmod(0o755)  # there from the start, not executable: the CLI skips it
    return clis


def _other_order(m: Machine, clis: list[str]) -> list[str]:
    return clis[::-1]


CHANGES: dict[str, Callable[[Machine, list[str]], list[str]]] = {
    "the CLI rewritten": _rewrite_cli,
    "buildx in the config folder": _plugin_in_config,
    "buildx in a system folder": _plugin_in_system_dir,
    "buildx made executable in an extra folder": _plugin_made_executable,
    "the candidates in another order": _other_order,
}


@pytest.mark.parametrize("change", CHANGES)
def test_a_changed_cli_plugin_or_order_is_probed_again(machine: Machine, change: str) -> None:
    (machine.config / "config.json").write_text(json.dumps({"cliPluginsExtraDirs": [str(machine.extra)]}))
    plugin(machine.extra, mode=0o644)
    clis = [machine.cli("old", "20.10.5"), machine.cli("older", "19.03.15")]  # either builds with BuildKit
    before = machine.kept(clis)
    assert before == DockerCli(clis[0], "buildkit-env")
    clis = CHANGES[change](machine, clis)
    after = machine.kept(clis)
    assert after == probe_cli(clis, machine.env()) != before


def test_another_config_folder_is_probed_again(machine: Machine, tmp_path: Path) -> None:
    old = machine.cli("old", "20.10.5")
    before = machine.kept([old])
    other = tmp_path / "other-config"
    (other / "cli-plugins").mkdir(parents=True)
    plugin(other / "cli-plugins")
    env = {**machine.env(), "DOCKER_CONFIG": str(other), "PLUGIN_DIRS": str(other / "cli-plugins")}
    assert machine.kept([old], env) == probe_cli([old], env) == DockerCli(old, "buildx") != before


CORRUPT = {
    "not json": "{not json",
    "a list": "[1, 2]",
    "another format": None,
    "another key": None,
    "an unknown mode": None,
    "a CLI that is no candidate": None,
}


@pytest.mark.parametrize("kind", CORRUPT)
def test_a_corrupt_or_foreign_file_is_not_trusted_and_is_rewritten(machine: Machine, tmp_path: Path, kind: str) -> None:
    old = machine.cli("old", "20.10.5")
    right = machine.kept([old])
    (path,) = stored(tmp_path)
    good = json.loads(path.read_text())
    forged = {
        "another format": {**good, "format": 0, "mode": "buildx"},
        "another key": {**good, "key": "0" * 64, "mode": "buildx"},
        "an unknown mode": {**good, "mode": "magic"},
        "a CLI that is no candidate": {**good, "path": "/usr/bin/true", "mode": "buildx"},
    }
    text = CORRUPT[kind]
    path.write_text(text if text is not None else json.dumps(forged[kind]))
    runs = machine.runs()
    assert machine.kept([old]) == right
    assert machine.runs() > runs  # probed again
    assert json.loads(path.read_text()) == good  # and rewritten


def test_an_answer_from_a_cli_that_could_not_run_is_not_kept(machine: Machine, tmp_path: Path) -> None:
    old = machine.cli("old", "20.10.5")
    missing = str(tmp_path / "gone" / "docker")
    assert machine.kept([missing, old]) == DockerCli(old, "buildkit-env")
    assert stored(tmp_path) == []


def test_without_a_cache_folder_it_probes_every_time(
    machine: Machine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("RUST_IMAGE_CACHE_DIR", str(tmp_path / "a-file"))
    old = machine.cli("old", "20.10.5")
    assert machine.kept([old]) == DockerCli(old, "buildkit-env")
    runs = machine.runs()
    assert machine.kept([old]) == DockerCli(old, "buildkit-env")
    assert machine.runs() > runs


def test_the_key_covers_every_fact(machine: Machine) -> None:
    facts = gather([machine.cli("old", "20.10.5")], machine.env(), [str(machine.system)])
    variants = [
        replace(facts, candidates=((facts.candidates[0][0], "/elsewhere", facts.candidates[0][2]),)),
        replace(facts, candidates=((*facts.candidates[0][:2], None),)),
        replace(facts, config=(facts.config[0], (1, 2, 3, 4, 5, 6))),
        replace(facts, plugins=facts.plugins[:-1]),
        replace(facts, plugins=(*facts.plugins[:-1], (facts.plugins[-1][0], (1, 2, 3, 4, 5, 6)))),
        replace(facts, env=(("DOCKER_CONFIG", "/x"), ("DOCKER_CLI_EXPERIMENTAL", "enabled"))),
    ]
    keys = {cli_key(facts), *(cli_key(v) for v in variants)}
    assert len(keys) == 1 + len(variants)
    assert cli_key(facts) == cli_key(CliFacts(facts.candidates, facts.config, facts.plugins, facts.env))


def test_plugin_places_follow_the_clis_order() -> None:
    assert plugin_places("/c", ["/x"], ["/s1", "/s2"]) == [
        "/c/cli-plugins/docker-buildx",
        "/x/docker-buildx",
        "/s1/docker-buildx",
        "/s2/docker-buildx",
    ]
    assert load(Path("/nonexistent/file.json"), "k", ["/usr/bin/docker"]) is None


def test_a_legacy_answer_is_never_kept(machine: Machine, tmp_path: Path) -> None:
    """No CLI that does BuildKit is told by failures, which may pass: the machine is probed every time."""
    new = machine.cli("new", "24.0.7")  # no buildx and a client that ignores DOCKER_BUILDKIT
    assert machine.kept([new]) == DockerCli(new, "legacy")
    assert stored(tmp_path) == []
    plugin(machine.config / "cli-plugins")  # buildx installed since
    assert machine.kept([new]) == DockerCli(new, "buildx")

"""pytest hooks: options, markers, collection of built-in checks, report header and summary."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pytest_rustimage.cachecheck.buildlog import opens_step
from pytest_rustimage.checks.registry import CHECKS
from pytest_rustimage.crate import is_workspace_member, unusable_manifest
from pytest_rustimage.errors import ConfigError, RustImageError
from pytest_rustimage.names import variant
from pytest_rustimage.plugin.fixtures import DISABLED, marker_kwargs, rust_image, rust_image_factory, rust_image_parity
from pytest_rustimage.plugin.items import CrateFile
from pytest_rustimage.plugin.options import add_options
from pytest_rustimage.plugin.resolve import crate_path, resolve, variants_for
from pytest_rustimage.plugin.settings import Settings
from pytest_rustimage.plugin.state import STATE, State
from pytest_rustimage.plugin.terminate import TERMINATED_EXIT, SigtermAsInterrupt
from pytest_rustimage.recipe.dockerignore import leave_out
from pytest_rustimage.recipe.spec import ImageSpec
from pytest_rustimage.report import baseline, html, records, summary
from pytest_rustimage.session.factory import ImageFactory

__all__ = ["rust_image", "rust_image_factory", "rust_image_parity"]

SIGTERM = pytest.StashKey[SigtermAsInterrupt]()
WORKER_OUTPUT = "rust_image_snapshot"  # the key of a worker's snapshot in xdist's workeroutput


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "rust_image(crate=None, strategy=None, bin=None, engine=None): the crate (relative to the rootdir) "
        "and settings the rust_image fixture builds for this test",
    )
    try:
        settings = Settings.from_config(config)
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from exc
    config.stash[STATE] = State(settings, lambda: _make_factory(config))
    if settings.enabled:
        leave_out(_outputs(config, settings))
        config.stash[SIGTERM] = SigtermAsInterrupt()
        config.stash[SIGTERM].install()  # a CI job cancelled with SIGTERM cleans up as after Ctrl-C
        try:
            config.stash[STATE].baseline()  # a hand-edited file that cannot be read is a usage error, now
        except ConfigError as exc:
            raise pytest.UsageError(str(exc)) from exc


def _outputs(config: pytest.Config, settings: Settings) -> list[Path]:
    """What this session writes: its reports, CycloneDX folder, size baseline and JUnit file."""
    junit = getattr(config.option, "xmlpath", None)
    written = [settings.report_path, settings.html_path, settings.sbom_dir, settings.baseline_path]
    return [Path(path) for path in (*written, junit) if path]


def _make_factory(config: pytest.Config) -> ImageFactory:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    verbosity = config.get_verbosity()

    def show(line: str) -> None:
        # builds happen inside tests, while pytest captures output: step around it
        if reporter is None or verbosity < 0:
            return
        if capture is None:
            reporter.write_line(line)
            return
        with capture.global_and_fixture_disabled():
            reporter.write_line(line)

    def new_build() -> Callable[[str], None]:
        """Progress of one build: each step as it opens, with the seconds since the build began
        (every output line under -v, nothing under -q)."""
        started = time.monotonic()
        seen: set[str] = set()

        def line(text: str) -> None:
            elapsed = f"{time.monotonic() - started:6.1f}s"
            if verbosity >= 1:
                show(f"  | {elapsed} {text}")
            elif opens_step(text) and text not in seen:
                seen.add(text)
                show(f"  | {elapsed} {text[:140]}")

        return line

    # xdist workers of one run share its id, so an image is built once per run (even with --rust-image-rebuild)
    run_id = getattr(config, "workerinput", {}).get("testrunuid")
    return ImageFactory(say=show, progress=new_build, run_id=run_id)


def pytest_unconfigure(config: pytest.Config) -> None:
    try:
        if STATE in config.stash:
            config.stash[STATE].close()
    finally:
        if SIGTERM in config.stash:
            config.stash[SIGTERM].uninstall()


def _inside_other_crate(path: Path) -> bool:
    """A manifest under a crate's ``target/`` or ``vendor/`` folder is not the user's."""
    return any(
        folder.name in ("target", "vendor") and (folder.parent / "Cargo.toml").is_file() for folder in path.parents
    )


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if collection_path.name == "target" and (collection_path.parent / "Cargo.toml").is_file():
        return True
    return None


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> CrateFile | None:
    config = parent.config
    if file_path.name != "Cargo.toml" or not config.stash[STATE].settings.enabled:
        return None
    named = any(Path(arg.split("::")[0]).resolve() in (file_path, file_path.parent) for arg in config.args)
    if not named and (_inside_other_crate(file_path) or is_workspace_member(file_path)):
        return None
    crate_file: CrateFile = CrateFile.from_parent(parent, path=file_path)
    return crate_file


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "rust_image" not in metafunc.fixturenames:
        return
    state = metafunc.config.stash[STATE]
    if not state.settings.enabled:
        return
    marker = marker_kwargs(metafunc.definition)
    try:
        crate = state.crate(crate_path(state.settings, marker))
        variants, named = variants_for(state.settings, crate, marker)
    except RustImageError as exc:
        metafunc.parametrize("rust_image", [exc], ids=["error"], indirect=True)
        return
    # each variant's spec, resolved here once (or the error resolving it, which its test reports)
    specs: list[ImageSpec | RustImageError] = []
    for strategy, engine, binary in variants:
        try:
            specs.append(resolve(state.settings, crate, strategy, engine, marker, binary=binary, named=named))
        except RustImageError as exc:
            specs.append(exc)
    ids = [variant(s, e, b if named else None) for s, e, b in variants]
    metafunc.parametrize("rust_image", specs, ids=ids, indirect=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.stash[STATE].settings.enabled:
        return
    skip = pytest.mark.skip(reason=DISABLED)
    for item in items:
        if item.get_closest_marker("rust_image") is not None:
            item.add_marker(skip)


def _nothing_to_check(config: pytest.Config) -> str | None:
    """Why a run that collected nothing under --rust-image was pointed at the wrong place, if it was."""
    for arg in config.args:
        path = Path(arg.split("::")[0])
        unusable = unusable_manifest(path) if path.is_dir() else None
        if unusable is not None:
            return f"--rust-image: {unusable}"
        if path.is_dir() and not any(path.rglob("Cargo.toml")):
            return f"--rust-image: no Cargo.toml in {arg}; point pytest at a crate folder or its Cargo.toml"
    return None


def pytest_collection_finish(session: pytest.Session) -> None:
    config = session.config
    state = config.stash[STATE]
    if state.settings.enabled and session.items and not hasattr(config, "workerinput"):
        missing = state.missing_local_bases()
        if missing is not None:
            raise pytest.UsageError(missing)
    if not state.settings.enabled or session.items or hasattr(config, "workerinput"):
        return  # an xdist worker's usage error would not reach the user: the controller says it
    problem = _nothing_to_check(config)
    if problem is not None:
        raise pytest.UsageError(problem)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node: Any, ids: list[str]) -> None:
    """xdist controller: note whether the workers collected anything."""
    state = node.config.stash[STATE]
    state.collected_by_workers = state.collected_by_workers or bool(ids)


def pytest_report_header(config: pytest.Config) -> list[str]:
    settings = config.stash[STATE].settings
    if not settings.enabled:
        return []
    differences = settings.differences()
    return ["rust-image: on" + (f" ({', '.join(differences)})" if differences else "")]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """xdist controller: keep what a worker saw, for the one summary, baseline and reports of the run."""
    data = getattr(node, "workeroutput", {}).get(WORKER_OUTPUT)
    if data:
        node.config.stash[STATE].from_workers.append(summary.from_json(json.loads(data)))


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Merge what the sessions saw; write the baseline (under --rust-image-update-baseline) and the reports.

    An xdist worker only hands its snapshot to the controller, which writes for the whole run."""
    config = session.config
    state = config.stash[STATE]
    if not state.settings.enabled:
        return
    if config.stash[SIGTERM].received:
        session.exitstatus = TERMINATED_EXIT  # 143, as a shell reports a job SIGTERM ended
    if hasattr(config, "workeroutput"):
        if state.started:
            config.workeroutput[WORKER_OUTPUT] = json.dumps(summary.to_json(state.snapshot()))
        return
    if state.collected_by_workers is False and session.exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
        problem = _nothing_to_check(config)  # what pytest_collection_finish says without xdist
        if problem is not None:
            config.get_terminal_writer().line(f"ERROR: {problem}", red=True)
            session.exitstatus = pytest.ExitCode.USAGE_ERROR
    run = summary.merge([*state.from_workers, state.snapshot()])
    state.final = run
    if not run.images:
        return
    settings = state.settings
    notes = []
    if settings.update_baseline and run.verdicts:
        baseline.update(settings.baseline_path, {v.key: v.measured() for v in run.verdicts})
        notes.append(f"baseline updated: {settings.baseline_path} ({len(run.verdicts)} image(s))")
    reports: tuple[tuple[Path | None, Callable[[], str]], ...] = (
        (settings.report_path, lambda: records.render(run.images)),
        (settings.html_path, lambda: html.render(run.images, CHECKS)),  # each check's columns and facts
    )
    for path, render in reports:
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(render(), encoding="utf-8")
            notes.append(f"report written: {path}")
    state.final = dataclasses.replace(run, notes=(*run.notes, *notes))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    state = config.stash[STATE]
    lines = summary.lines(state.final, CHECKS) if state.final is not None else []
    if not lines:
        return
    terminalreporter.section("rust-image summary")
    for line in lines:
        terminalreporter.write_line(line)

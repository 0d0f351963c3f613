"""pytest hooks: options, markers, collection of built-in checks, report header and summary."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from pytest_rustimage import baseline, html_report, report
from pytest_rustimage.checks import CrateFile
from pytest_rustimage.crate import is_workspace_member, read_crate
from pytest_rustimage.errors import ConfigError, RustImageError
from pytest_rustimage.fixtures import DISABLED, marker_kwargs, rust_image, rust_image_factory, rust_image_parity
from pytest_rustimage.images import ImageFactory
from pytest_rustimage.settings import Settings, add_options, baseline_key, crate_path, engines_for, strategies_for
from pytest_rustimage.sizes import format_size
from pytest_rustimage.state import STATE, State

__all__ = ["rust_image", "rust_image_factory", "rust_image_parity"]

# build output lines that open a step (BuildKit, legacy builder, buildah)
_STEP = re.compile(r"^(#\d+ \[[^\]]+\] .*|Step \d+/\d+ : .*|(?:\[\d+/\d+\] )?STEP \d+/\d+: .*)$")


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
            elif _STEP.match(text) and text not in seen:
                seen.add(text)
                show(f"  | {elapsed} {text[:140]}")

        return line

    return ImageFactory(say=show, progress=new_build)


def pytest_unconfigure(config: pytest.Config) -> None:
    if STATE in config.stash:
        config.stash[STATE].close()


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
        crate = read_crate(crate_path(state.settings, marker))
        variants = [
            (s, e) for s in strategies_for(state.settings, crate, marker) for e in engines_for(state.settings, marker)
        ]
    except RustImageError as exc:
        metafunc.parametrize("rust_image", [exc], ids=["error"], indirect=True)
        return
    metafunc.parametrize("rust_image", variants, ids=[f"{s}-{e}" for s, e in variants], indirect=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.stash[STATE].settings.enabled:
        return
    skip = pytest.mark.skip(reason=DISABLED)
    for item in items:
        if item.get_closest_marker("rust_image") is not None:
            item.add_marker(skip)


def pytest_collection_finish(session: pytest.Session) -> None:
    config = session.config
    if not config.stash[STATE].settings.enabled or session.items:
        return
    for arg in config.args:
        path = Path(arg.split("::")[0])
        if path.is_dir() and not any(path.rglob("Cargo.toml")):
            raise pytest.UsageError(
                f"--rust-image: no Cargo.toml in {arg}; point pytest at a crate folder or its Cargo.toml"
            )


def pytest_report_header(config: pytest.Config) -> list[str]:
    settings = config.stash[STATE].settings
    if not settings.enabled:
        return []
    differences = settings.differences()
    return ["rust-image: on" + (f" ({', '.join(differences)})" if differences else "")]


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Write the baseline (under --rust-image-update-baseline) and the JSON and HTML reports."""
    state = session.config.stash[STATE]
    if not state.started:
        return
    factory = state.factory()
    settings = state.settings
    if settings.update_baseline and state.verdicts:
        baseline.update(settings.baseline_path, {k: v.size for k, v in state.verdicts.items()})
        state.notes.append(f"baseline updated: {settings.baseline_path} ({len(state.verdicts)} image(s))")
    outputs = [(settings.report_path, report.render), (settings.html_path, html_report.render)]
    if any(path is not None for path, _ in outputs):
        records = report.records(factory.images(), factory.cache_reports, state.verdicts)
        for path, render in outputs:
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(render(records), encoding="utf-8")
                state.notes.append(f"report written: {path}")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    state = config.stash[STATE]
    if not state.started:
        return
    factory = state.factory()
    images = factory.images()
    if not images:
        return
    write = terminalreporter.write_line
    terminalreporter.section("rust-image summary")
    row = "{:<12} {:<10} {:<6} {:>9} {:>17} {:>3} {:>6}  {}"
    write(row.format("crate", "strategy", "engine", "size", "vs baseline", "lay", "build", "cache: deps, 3rd-party, s"))
    for image in images:
        spec = image.spec
        try:
            size, layers = format_size(image.size), str(image.info.layer_count)
        except RustImageError:
            size, layers = "?", "?"
        verdict = state.verdicts.get(baseline_key(spec))
        change = verdict.change_text() if verdict else "-"
        build = "reused" if image.build.reused else f"{image.build.duration:.0f}s"
        cache_report = factory.cache_reports.get(spec.key)
        cache = (
            f"{'reused' if cache_report.deps_reused else 'REBUILT'}, {len(cache_report.third_party_recompiled)}, "
            f"{cache_report.cold_seconds:.1f}->{cache_report.rebuild_seconds:.1f}"
            if cache_report
            else "-"
        )
        write(row.format(spec.crate.name[:12], spec.strategy, spec.engine, size, change, layers, build, cache))
    for verdict in state.verdicts.values():
        if verdict.failed or verdict.status == "new":
            write(("size gate FAILED: " if verdict.failed else "size gate: ") + verdict.message())
    for image in images:
        try:
            waste = f", wasted {format_size(image.info.wasted)}" if image.info.wasted else ""
        except RustImageError:
            waste = ""
        write(f"image {image.tag} ({image.spec.variant}){waste}")
    for engine in factory.engines():
        write(f"engine {engine.name} at {engine.endpoint} ({engine.builder})")
    for note in state.notes:
        write(note)

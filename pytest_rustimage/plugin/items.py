"""The built-in checks collected for a crate: build, runs, size, linkage.

A ``Cargo.toml`` given to ``pytest --rust-image`` becomes a :class:`CrateFile`
whose items are named ``CHECK[STRATEGY-ENGINE]``, e.g.
``Cargo.toml::runs[chef-docker]``. Items of the same image share one build
through the session's :class:`ImageFactory`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NoReturn

import pytest
from _pytest._code.code import ExceptionInfo, TerminalRepr

from pytest_rustimage.errors import BuilderUnsupported, BuildFailed, CrateError, EngineUnavailable, RustImageError, tail
from pytest_rustimage.inspect.facts import BinaryFacts
from pytest_rustimage.inspect.loader import fixes_for
from pytest_rustimage.names import IMAGE_CHECKS
from pytest_rustimage.plugin.resolve import specs_for
from pytest_rustimage.plugin.state import STATE, State
from pytest_rustimage.recipe.spec import ImageSpec
from pytest_rustimage.report.baseline import baseline_key, entry_of, judge
from pytest_rustimage.report.parity import compare, observe
from pytest_rustimage.session.image import RustImage
from pytest_rustimage.units import format_size


class CheckFailed(RustImageError):
    """A built-in check found the image wanting."""


def skip(reason: str) -> NoReturn:
    """Skip the current check, reported at its item rather than at a line of the plugin's code."""
    raise pytest.skip.Exception(reason, _use_item_location=True)


def check_build(image: RustImage, state: State) -> str:
    how = "reused from an earlier session" if image.build.reused else f"built in {image.build.duration:.1f}s"
    return f"{image.tag} {how}"


def check_runs(image: RustImage, state: State) -> str:
    spec = image.spec
    result = image.run(*spec.args)
    problems = []
    if result.exit_code != spec.expect_exit_code:
        problems.append(f"exit code {result.exit_code}, expected {spec.expect_exit_code}")
    if spec.expect_stdout is not None and spec.expect_stdout not in result.stdout:
        problems.append(f"stdout does not contain {spec.expect_stdout!r}")
    if problems:
        raise CheckFailed(f"{image.binary_path} in {image.tag}: {'; '.join(problems)}\n{result.describe()}")
    return f"exit {result.exit_code} in {result.duration:.2f}s: {result.stdout.strip()[:200]}"


DEBUG_SHARE = 0.10  # debug info and symbols above this share of the binary are worth a line in the message


def debug_advice(facts: BinaryFacts) -> str | None:
    """What stripping would save, when debug info and symbols are more than a tenth of the binary."""
    debug = facts.debug_size
    if not facts.size or debug <= DEBUG_SHARE * facts.size:
        return None
    return (
        f"{facts.path} ({format_size(facts.size)}) carries {format_size(debug)} ({debug} bytes, "
        f"{100 * debug / facts.size:.0f}%) of debug info and symbols: `strip = true` (or `debug = 0`) under "
        "[profile.release] in Cargo.toml would save about that much."
    )


def _binary_advice(image: RustImage) -> str:
    try:
        advice = debug_advice(image.binary())
    except RustImageError:  # a Dockerfile's image whose binary is elsewhere: the layers still tell
        return ""
    return f"{advice}\n" if advice else ""


def check_size(image: RustImage, state: State) -> str:
    spec = image.spec
    size = image.size
    if size > spec.max_size:
        largest = sorted(image.layers, key=lambda layer: layer.size, reverse=True)[:3]
        lines = "\n".join(f"  {format_size(layer.size):>10}  {layer.created_by[:90]}" for layer in largest)
        raise CheckFailed(
            f"{image.tag} is {format_size(size)} ({size} bytes), over its budget of "
            f"{format_size(spec.max_size)} ({spec.max_size} bytes) by {size - spec.max_size} bytes.\n"
            f"Largest layers:\n{lines}\n{_binary_advice(image)}"
            "Make the image smaller, or raise max-size under [package.metadata.rust-image]."
        )
    wasted = image.info.wasted
    if spec.max_wasted is not None and wasted > spec.max_wasted:
        worst = sorted(image.layers, key=lambda layer: layer.wasted, reverse=True)[:3]
        lines = "\n".join(f"  {format_size(la.wasted):>10}  {la.created_by[:90]}" for la in worst if la.wasted)
        raise CheckFailed(
            f"{image.tag} wastes {format_size(wasted)} ({wasted} bytes): files that later layers delete or "
            f"overwrite, more than max-wasted {format_size(spec.max_wasted)}.\nLayers whose bytes are wasted:\n"
            f"{lines}\nDelete files in the same step that makes them, or copy only what the image needs."
        )
    base = image.base
    measured = entry_of(size, image.own_size, base.name, base.id)
    verdict = judge(
        baseline_key(spec), measured, state.baseline(), state.settings.size_tolerance, state.settings.gate_base
    )
    state.verdicts[verdict.key] = verdict
    if verdict.failed and not state.settings.update_baseline:
        raise CheckFailed(f"{verdict.message()}\nbaseline file: {state.settings.baseline_path}")
    return (
        f"{format_size(size)} of {format_size(spec.max_size)} budget; baseline: {verdict.change_text()}; "
        f"wasted {format_size(wasted)}"
    )


def check_linkage(image: RustImage, state: State) -> str:
    facts = image.binary()
    wanted = image.spec.expect_linkage
    ok = wanted == "any" or (wanted == "static") == facts.is_static
    if not ok:
        detail = (
            f"interpreter {facts.interpreter}, needs {', '.join(facts.needed) or 'nothing'}"
            if not facts.is_static
            else "no interpreter, no shared libraries"
        )
        raise CheckFailed(
            f"{facts.path} in {image.tag} is linked {facts.linkage} ({detail}), "
            f"but {wanted} linkage is expected ({image.spec.strategy} strategy). "
            + ("Use the static strategy, or build with a static target." if wanted == "static" else "")
        )
    if facts.loads is not True:
        raise CheckFailed(load_failure(image, facts))
    loaded = f"; loads: {len(facts.resolved)} libraries found in the image" if facts.resolved else ""
    return f"{facts.linkage}, libc {facts.libc}, {format_size(facts.size)}{loaded}"


def load_failure(image: RustImage, facts: BinaryFacts) -> str:
    """What a binary that would not load lacks, where the loader looked, and what to do."""
    problems = facts.loading.problems if facts.loading is not None else ()
    packages = image.packages_for([p.library for p in problems if p.kind == "missing"])
    what = f"{facts.path} in {image.tag}"
    undecided = facts.loading is not None and facts.loading.cannot_tell
    head = f"whether {what} loads cannot be told" if undecided else f"{what} would not load"
    lines = [f"{head} ({image.spec.variant}):"]
    lines += [f"  - {problem.text()}" for problem in problems]
    runtime = image.spec.runtime_image if image.spec.traits.generated else ""  # a crate's own Dockerfile names its own
    fixes = fixes_for(problems, packages=packages, runtime=runtime)
    if fixes:
        lines += ["what to do:", *(f"  - {fix}" for fix in fixes)]
    return "\n".join(lines)


def check_cache(image: RustImage, state: State) -> str:
    try:
        report = image.rebuild_after()
    except BuildFailed as exc:
        raise CheckFailed(f"{image.spec.what}: {exc}") from exc
    if report.skip_reason is not None:
        skip(f"nothing to prove: {report.skip_reason}")
    if report.inconclusive:  # "cannot tell" is a failure with its reason, never a pass or a skip
        steps = "; ".join(f"[{h.stage}] {h.instruction[:100]}" for h in report.undecided)
        raise CheckFailed(
            f"{image.spec.crate.name} ({image.spec.variant}): cannot tell whether the dependency layer stays "
            f"cached across a source-only edit: cargo's output is hidden in {steps}\n{report.describe()}"
        )
    if not report.ok:
        raise CheckFailed(
            f"{image.spec.crate.name} ({image.spec.variant}): the dependency layer does not stay "
            f"cached across a source-only edit\n{report.describe()}"
        )
    return report.summary()


RUNNERS: dict[str, Callable[[RustImage, State], str]] = {
    "build": check_build,
    "runs": check_runs,
    "size": check_size,
    "linkage": check_linkage,
    "cache": check_cache,
}


def image_for(item: pytest.Item, spec: ImageSpec, build_check: bool = False) -> RustImage:
    """The image of ``spec`` for a built-in check: skip when the engine is away (fail if required),
    skip when there is no image (only the build check fails for that, with the reason)."""
    state = item.config.stash[STATE]
    try:
        return state.factory().get(spec)
    except EngineUnavailable as exc:
        if state.settings.require_engine:
            raise
        skip(f"{exc} (pass --rust-image-require-engine to fail instead)")
    except RustImageError:  # the build check reports why there is no image; the others need not repeat it
        if build_check:
            raise
        skip(f"the image did not build; see build[{spec.variant}]")


class _CheckBase(pytest.Item):
    label = ""  # "CRATE (VARIANT)", for messages

    def repr_failure(self, excinfo: ExceptionInfo[BaseException], style: str | None = None) -> str | TerminalRepr:
        error = excinfo.value
        if isinstance(error, BuildFailed):
            log = tail(error.log)
            return f"{self.label} did not build: {error.reason}\n--- last lines of the build log ---\n{log}"
        if isinstance(error, (CrateError, BuilderUnsupported)):  # no build context, or no builder for it
            return f"{self.label} did not build: {error}"
        if isinstance(error, RustImageError):
            return str(error)
        return super().repr_failure(excinfo, style=style)  # type: ignore[arg-type]

    def reportinfo(self) -> tuple[Path, int | None, str]:
        # line 0 (the manifest's first line), as pytest's own non-Python items do: skips are then
        # reported at the item, not at a line of the plugin's code
        return self.path, 0, f"{self.label}: {self.name}"


class CheckItem(_CheckBase):
    def __init__(self, *, spec: ImageSpec, check: str, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.spec = spec
        self.check = check
        self.label = f"{spec.crate.name} ({spec.variant})"

    def runtest(self) -> None:
        image = image_for(self, self.spec, build_check=self.check == "build")
        outcome = RUNNERS[self.check](image, self.config.stash[STATE])
        self.user_properties.append((f"rust_image_{self.check}", outcome))
        if self.check == "size":  # facts CI systems show from JUnit XML
            self.user_properties += [
                ("rust_image_size_bytes", image.size),
                ("rust_image_layers", image.info.layer_count),
            ]


class ParityItem(_CheckBase):
    """``parity[STRATEGY]``: the same crate and strategy built by each engine gives equivalent images."""

    def __init__(self, *, specs: list[ImageSpec], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.specs = specs
        self.label = f"{specs[0].crate.name} ({specs[0].strategy})"

    def runtest(self) -> None:
        images = [image_for(self, spec) for spec in self.specs]
        tolerance = self.config.stash[STATE].settings.parity_tolerance
        first = observe(images[0])
        for other in images[1:]:
            report = compare(first, observe(other), tolerance)
            self.user_properties.append((f"rust_image_parity_{other.engine.name}", report.table()))
            report.assert_equivalent()


class CrateErrorItem(pytest.Item):
    """Stands for a crate that could not be read, so the error shows as a failure, not a traceback."""

    def __init__(self, *, error: RustImageError, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.error = error

    def runtest(self) -> None:
        raise self.error

    def repr_failure(self, excinfo: ExceptionInfo[BaseException], style: str | None = None) -> str | TerminalRepr:
        return str(excinfo.value)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, "reading the crate"


class CrateFile(pytest.File):
    """A ``Cargo.toml`` whose crate gets the built-in checks."""

    def collect(self) -> Iterable[pytest.Item]:
        try:
            state = self.config.stash[STATE]
            specs = specs_for(state.settings, state.crate(self.path))
        except RustImageError as exc:
            yield CrateErrorItem.from_parent(self, name="crate", error=exc)
            return
        wanted = self.config.stash[STATE].settings.checks
        for spec in specs:
            for check in IMAGE_CHECKS:
                if check in wanted:
                    yield CheckItem.from_parent(self, name=f"{check}[{spec.variant}]", spec=spec, check=check)
        by_strategy: dict[str, list[ImageSpec]] = {}
        for spec in specs:  # per strategy, and per binary when several are checked
            name = f"{spec.strategy}-{spec.binary.name}" if spec.named_binary else spec.strategy
            by_strategy.setdefault(name, []).append(spec)
        for group_name, group in by_strategy.items():
            if len(group) > 1 and "parity" in wanted:
                yield ParityItem.from_parent(self, name=f"parity[{group_name}]", specs=group)

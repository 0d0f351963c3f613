"""Judge the probe's two builds from their logs: after a source-only edit, did any step compile a third-party crate?

The probe (:class:`pytest_rustimage.cachecheck.probe.CacheProbe`) has two builds to show: the baseline
(the session's own build of the image, or a build of the unchanged copy) and the rebuild of an
edited copy. :func:`assess` judges them from their logs alone, for any Dockerfile: each builder's words
for "from cache" and cargo's ``Compiling`` lines in every ``RUN`` step, of every stage, into a
:class:`~pytest_rustimage.cachecheck.verdict.CacheReport`. A step that ran cargo after the edit and hid
its output (read by :mod:`pytest_rustimage.cachecheck.hidden_steps`) makes the report inconclusive unless
the Dockerfile answers for it. The report also names the steps that compiled the third-party crates in
the baseline (the dependency steps) and whether each came from cache after the edit, and why a step
compiled third-party crates again, told from evidence by :mod:`pytest_rustimage.cachecheck.why`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from pytest_rustimage.cachecheck import why
from pytest_rustimage.cachecheck.buildlog import Compiled, Step, compiled_crates, marked, parse_steps
from pytest_rustimage.cachecheck.hidden_steps import hidden_step, settled, stage_name
from pytest_rustimage.cachecheck.verdict import CacheReport, DepsStep, HiddenStep, StepOutcome
from pytest_rustimage.recipe import instructions


def _third_party(crates: Iterable[Compiled], own: frozenset[str]) -> list[Compiled]:
    return [c for c in crates if c.name not in own and not (c.path or "").startswith("/")]


def _runs(steps: Iterable[Step]) -> list[Step]:
    return [step for step in steps if step.instruction.upper().startswith("RUN ")]


def assess(
    *,
    edit: str,
    strategy: str,
    engine: str,
    baseline_log: str,
    baseline: str,
    baseline_seconds: float | None,
    rebuild_log: str,
    rebuild_seconds: float,
    own_crates: Iterable[str],
    dockerfile: str = "",
    edited: str | None = None,
    measured_at: float = 0.0,
) -> CacheReport:
    """Judge the rebuild after ``edit`` against the baseline build.

    ``dockerfile`` (its text) and ``edited`` (the edited file's path in the build context) let the
    report say why a dependency step ran again.
    """
    own = frozenset(own_crates)
    key = instructions.normalise
    first, after = parse_steps(baseline_log), parse_steps(rebuild_log)
    stages = instructions.parse(dockerfile) if dockerfile else []
    deps = _deps_steps(first, after, own)
    outcomes = tuple(
        StepOutcome(
            s.stage or stage_name(stages, s.instruction),  # BuildKit names no stage in a one-stage build
            s.instruction,
            s.cached,
            tuple(compiled_crates(s.output)) if not s.cached else (),
        )
        for s in after
        if not s.instruction.upper().startswith("FROM ")
    )
    hidden = _hidden_steps(first, after, stages, edited, own)
    return CacheReport(
        edit=edit,
        strategy=strategy,
        engine=engine,
        baseline=baseline,
        baseline_seconds=baseline_seconds,
        rebuild_seconds=rebuild_seconds,
        deps_steps=tuple(deps),
        compiled=tuple(c for o in outcomes for c in o.compiled),
        own_crates=own,
        steps=outcomes,
        hints=tuple(why.explain(outcomes, deps, own, stages, edited, {key(s.instruction): s.output for s in after})),
        baseline_compiled_rust=any(compiled_crates(s.output) for s in _runs(first))
        or any(h.build == "first" for h in hidden),
        measured_at=measured_at,
        hidden=tuple(hidden),
    )


def _deps_steps(first: list[Step], after: list[Step], own: frozenset[str]) -> list[DepsStep]:
    """The baseline's steps that compiled third-party crates, each with its fate in the rebuild; when the
    baseline shows none (it came from cache), the rebuild's step marked as the dependency step."""
    key = instructions.normalise
    rebuilt = {(s.stage, key(s.instruction)): s for s in after}
    deps: list[DepsStep] = []
    for step in _runs(first):
        crates = _third_party(compiled_crates(step.output), own)
        if crates:
            again = rebuilt.get((step.stage, key(step.instruction)))
            deps.append(DepsStep(step.stage, step.instruction, len(crates), None if again is None else again.cached))
    marked_deps = marked(after, "deps")
    if not deps and marked_deps is not None:  # the baseline showed nothing (it came from cache): the marker says
        deps.append(DepsStep(marked_deps.stage, marked_deps.instruction, None, marked_deps.cached))
    return deps


def _hidden_steps(
    first: list[Step], after: list[Step], stages: list[instructions.Stage], edited: str | None, own: frozenset[str]
) -> list[HiddenStep]:
    """The steps of both builds that hid cargo's output; the rebuild's with what answers for them, if anything."""
    hidden = [h for s in _runs(first) if (h := hidden_step("first", s, stages, edited)) is not None]
    for step in _runs(after):
        found = hidden_step("after", step, stages, edited)
        if found is not None:
            hidden.append(dataclasses.replace(found, settled=settled(step, after, stages, edited, own)))
    return hidden

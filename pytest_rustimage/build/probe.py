"""The layer-cache probe: build a copy of the crate, edit it, build again, and judge the second build.

:class:`CacheProbe` runs the builds; the verdict is :func:`pytest_rustimage.build.verdict.assess`'s,
from the logs and, where the strategy has a dependency stage, that stage's image id before and after
the edit. The default probe (a comment appended to the binary's main source file) runs once per
session per image and is shared by the built-in ``cache`` check and :meth:`RustImage.rebuild_after`.
"""

from __future__ import annotations

import dataclasses
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

from pytest_rustimage.build.context import copy_tree, prepare, vendor
from pytest_rustimage.build.pool import EnginePool
from pytest_rustimage.build.spec import ImageSpec, secret_values
from pytest_rustimage.build.strategies import GENERATED
from pytest_rustimage.build.verdict import CacheReport, Edit, apply_edit, assess, comment_edit
from pytest_rustimage.engines import Engine
from pytest_rustimage.engines.protocol import BuildOutput, BuildRequest, LineSink
from pytest_rustimage.errors import ConfigError
from pytest_rustimage.names import probe_tag

Say = Callable[[str], None]


class CacheProbe:
    """Probes for one session; the default probe's report is kept per image (:attr:`reports`)."""

    def __init__(
        self,
        engines: EnginePool,
        *,
        workdir: Path,
        session_id: str,
        labels: dict[str, str],
        say: Say,
        progress: Callable[[], LineSink | None],
    ) -> None:
        self._engines = engines
        self._workdir = workdir
        self._session_id = session_id
        self._labels = labels
        self._say = say
        self._progress = progress
        self.reports: dict[tuple[str, ...], CacheReport] = {}  # the default probe's, by ImageSpec.key

    def __call__(self, spec: ImageSpec, edit: Edit | None = None) -> CacheReport:
        """Build a copy of the crate cold, apply ``edit`` (default: a comment in the binary's main
        source file), build again, and judge whether the dependency layer was reused."""
        if not spec.traits.generated:
            raise ConfigError(
                f"the cache probe needs a generated strategy ({', '.join(GENERATED)}), not {spec.strategy}"
            )
        if edit is None and spec.key in self.reports:
            return self.reports[spec.key]
        engine = self._engines.get(spec.engine)
        what = spec.what
        work = Path(tempfile.mkdtemp(prefix="cache-probe-", dir=self._workdir))
        source = work / "crate"
        copy_tree(spec.crate.root, source)
        main = spec.binary.src_path.resolve().relative_to(spec.crate.root.resolve()).as_posix()
        tag = probe_tag(spec.crate.name, spec.strategy, self._session_id)
        made: list[str] = []
        try:
            self._say(f"rust-image: cache probe for {what}: cold build (no cache) ...")
            cold, cold_deps = self._build(spec, engine, source, f"{tag}-cold", made, no_cache=True)
            description = apply_edit(source, edit if edit is not None else comment_edit(main, uuid.uuid4().hex[:8]))
            self._say(f"rust-image: cache probe for {what}: {description}; building again ...")
            warm, warm_deps = self._build(spec, engine, source, f"{tag}-warm", made, no_cache=False)
        finally:
            for ref in made:
                engine.remove_image(ref)
        report = assess(
            edit=description,
            strategy=spec.strategy,
            engine=engine.name,
            rebuild_log=warm.log,
            cold_seconds=cold.duration,
            rebuild_seconds=warm.duration,
            deps_ids=(cold_deps, warm_deps),
            own_crates=[p.name for p in spec.crate.packages],
        )
        self._say(f"rust-image: cache probe for {what}: {report.summary()}")
        if edit is None:
            self.reports[spec.key] = report
        return report

    def _build(
        self, spec: ImageSpec, engine: Engine, source: Path, tag: str, made: list[str], *, no_cache: bool
    ) -> tuple[BuildOutput, str | None]:
        """Build the probe's copy; with a dependency stage, also that stage alone for its image id."""
        context, dockerfile, _ = prepare(spec, self._workdir, source)
        if spec.vendor:
            vendor(context / "app", context / "vendor")
        request = BuildRequest(
            context=context,
            dockerfile=dockerfile,
            tag=tag,
            build_args={"BUILDER_IMAGE": spec.builder_image, "RUNTIME_IMAGE": spec.runtime_image},
            labels=self._labels,
            target=spec.traits.target,
            timeout=spec.build_timeout,
            no_cache=no_cache,
            secrets=secret_values(spec),
        )
        made.append(tag)
        output = engine.build(request, on_line=self._progress())
        deps_stage = spec.traits.deps_stage
        if deps_stage is None:
            return output, None
        made.append(f"{tag}-deps")
        stage = engine.build(dataclasses.replace(request, tag=f"{tag}-deps", target=deps_stage, no_cache=False))
        return output, stage.image_id

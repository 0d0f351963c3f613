"""The plugin's per-session state, kept in ``config.stash``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pytest_rustimage.checks.base import Context
from pytest_rustimage.crate import Crate, read_crate
from pytest_rustimage.errors import EngineUnavailable
from pytest_rustimage.names import LOCAL_BUILDER, LOCAL_RUNTIME
from pytest_rustimage.plugin.settings import Settings, engines_of
from pytest_rustimage.report import records, summary
from pytest_rustimage.report.baseline import Entry, SizeVerdict, load
from pytest_rustimage.report.image_record import Sizes
from pytest_rustimage.session.factory import ImageFactory
from pytest_rustimage.session.image import RustImage

# the checks that read an image's merged files: with one of them, measuring an image keeps its files
# from the same archive read (:attr:`RustImage.files_with_info`); without, the sizes alone are read
FILE_CHECKS = frozenset({"linkage", "needs"})


class State:
    """Settings read once, the crates read once, and the image factory made on first use."""

    def __init__(self, settings: Settings, make_factory: Callable[[], ImageFactory]) -> None:
        self.settings = settings
        self._make_factory = make_factory
        self._factory: ImageFactory | None = None
        self._baseline: dict[str, Entry] | None = None
        self._crates: dict[Path, Crate] = {}  # by resolved manifest folder or file, as asked
        self.verdicts: dict[str, SizeVerdict] = {}  # by baseline key, filled by the size checks
        self.sizes: dict[tuple[str, ...], Sizes | str] = {}  # by spec key: measured when an image is first used
        self.notes: list[str] = []  # lines for the end-of-run summary
        self.from_workers: list[summary.Snapshot] = []  # under xdist, what each worker saw (controller only)
        self.final: summary.Snapshot | None = None  # the run's merged snapshot, once the session finished
        self.collected_by_workers: bool | None = None  # under xdist, whether any worker collected an item

    def baseline(self) -> dict[str, Entry]:
        """The committed sizes, read once (an absent file is an empty baseline)."""
        if self._baseline is None:
            self._baseline = load(self.settings.baseline_path)
        return self._baseline

    def context(self) -> Context:
        """What the built-in checks read of the session besides their images."""
        settings = self.settings
        return Context(
            baseline=self.baseline(),
            size_tolerance=settings.size_tolerance,
            gate_base=settings.gate_base,
            update_baseline=settings.update_baseline,
            baseline_path=settings.baseline_path,
            parity_tolerance=settings.parity_tolerance,
            verdicts=self.verdicts,
            sbom_dir=settings.sbom_dir,
            build_again=lambda image: self.factory().reproducer.build_again(image),
        )

    def crate(self, path: Path) -> Crate:
        """The crate at ``path`` (a folder or its ``Cargo.toml``), read once per session: collection,
        parametrization and fixtures share it. A crate that cannot be read raises each time."""
        key = path.resolve()
        if key not in self._crates:
            self._crates[key] = read_crate(path)
        return self._crates[key]

    @property
    def started(self) -> bool:
        return self._factory is not None

    def factory(self) -> ImageFactory:
        if self._factory is None:
            self._factory = self._make_factory()
        return self._factory

    def missing_local_bases(self) -> str | None:
        """With ``rust_image_bases = local``: why the local base images cannot be used (missing on an
        engine that answers), else None. Engines that do not answer are their checks' business."""
        settings = self.settings
        wanted = [
            ref for ref in (settings.builder_image, settings.runtime_image) if ref in (LOCAL_BUILDER, LOCAL_RUNTIME)
        ]
        if settings.bases != "local" or not wanted:
            return None
        missing = []
        for name in engines_of(settings.cli_engine or settings.ini_engine):
            try:
                engine = self.factory().engine(name)
            except EngineUnavailable:
                continue
            missing += [f"{ref} on {name}" for ref in wanted if engine.image_id(ref) is None]
        if not missing:
            return None
        return (
            f"rust_image_bases = local, but the local base images are missing ({', '.join(missing)}): make them "
            "with `python -m pytest_rustimage bases` (`--engine docker --engine podman` for both engines)"
        )

    def used(self, image: RustImage) -> RustImage:
        """Note an image a check or test is about to use: its sizes are measured now, once, for the
        reports (so that the session's end makes no engine call)."""
        if image.spec.key not in self.sizes:
            image.files_with_info = not FILE_CHECKS.isdisjoint(self.settings.checks)
            self.sizes[image.spec.key] = records.measure_sizes(image)
        return image

    def snapshot(self) -> summary.Snapshot:
        """What this session saw, from what was measured while it ran (no engine call)."""
        if self._factory is None:
            return summary.snapshot([], [], [], self.notes)
        factory = self._factory
        images = records.records(factory.images(), self.sizes, factory.cache_matrices, self.verdicts)
        engines = factory.engine_lines()
        return summary.snapshot(images, self.verdicts.values(), engines, self.notes)

    def close(self) -> None:
        if self._factory is not None:
            self._factory.close()


STATE = pytest.StashKey[State]()

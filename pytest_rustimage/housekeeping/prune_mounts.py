"""Pruning the ``incremental`` strategy's build cache mounts (``prune --cache-mounts``): the plugin's
own mounts on one engine, with ``crates`` only those crates' ``target/`` mounts; never another
build's cache."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from pytest_rustimage.engines.protocol import CacheMount, EngineStore
from pytest_rustimage.errors import EngineError
from pytest_rustimage.names import is_crate_mount
from pytest_rustimage.units import format_size


@dataclass
class MountOutcome:
    """What pruning one engine's cache mounts did (or, in a dry run, would do)."""

    engine: str
    endpoint: str
    dry_run: bool
    removed: list[CacheMount] = field(default_factory=list)
    refused: list[tuple[CacheMount, str]] = field(default_factory=list)

    @property
    def freed(self) -> int:
        return sum(mount.size for mount in self.removed)


def prune_cache_mounts(engine: EngineStore, *, dry_run: bool, crates: Sequence[str] = ()) -> MountOutcome:
    """Remove (unless ``dry_run``) the build cache mounts of the plugin's own builds on one engine: with
    ``crates``, only the ``target/`` mounts of those crates (the shared registry mount stays)."""
    outcome = MountOutcome(engine.name, engine.endpoint, dry_run)
    for mount in engine.cache_mounts():
        if crates and not any(is_crate_mount(mount.name, crate) for crate in crates):
            continue
        try:
            if not dry_run:
                engine.remove_cache_mount(mount)
            outcome.removed.append(mount)
        except EngineError as exc:
            outcome.refused.append((mount, str(exc)))
    return outcome


def describe_mounts(outcome: MountOutcome) -> str:
    """Lines for a person: the cache mounts that went (or would go) and the bytes freed."""
    verb = "would remove" if outcome.dry_run else "removed"
    lines = [f"{outcome.engine} at {outcome.endpoint}: build cache mounts of the plugin"]
    lines += [f"  {verb} cache mount {mount.name} ({format_size(mount.size)})" for mount in outcome.removed]
    lines += [f"  could not remove cache mount {mount.name}: {why}" for mount, why in outcome.refused]
    if not (outcome.removed or outcome.refused):
        lines.append("  no cache mount of the plugin's")
    lines.append(
        f"  {'would free' if outcome.dry_run else 'freed'} {format_size(outcome.freed)} ({outcome.freed} bytes)"
    )
    return "\n".join(lines)

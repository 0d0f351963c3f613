"""The machine-readable report (``--rust-image-report=PATH.json``): every measured fact, per image."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any

from pytest_rustimage import __version__
from pytest_rustimage.cachecheck.verdict import CacheReport
from pytest_rustimage.errors import RustImageError
from pytest_rustimage.report.baseline import SizeVerdict, baseline_key
from pytest_rustimage.session.image import RustImage

FORMAT = 1


def image_record(image: RustImage, cache: CacheReport | None, verdict: SizeVerdict | None) -> dict[str, Any]:
    """What the session learnt about one image; facts it did not measure are left out, not guessed."""
    spec = image.spec
    record: dict[str, Any] = {
        "crate": spec.crate.name,
        "manifest": str(spec.crate.manifest_path),
        "strategy": spec.strategy,
        "engine": spec.engine,
        "binary": spec.binary.name,
        "variant": spec.variant,  # as item ids name the image: STRATEGY-ENGINE[-BINARY]
        "baseline_key": baseline_key(spec),
        "tag": image.tag,
        "id": image.id,
        "build": {
            "reused": image.build.reused,
            "origin": image.build.origin,
            "seconds": round(image.build.duration, 3),
        },
        "budget": spec.max_size,
    }
    try:
        info = image.info
        record["size"] = info.size
        record["wasted"] = info.wasted
        record["layers"] = [dataclasses.asdict(layer) for layer in info.layers]
        if image.own_size is not None:  # the layers above the runtime base; unknown when the base is
            record["own_bytes"] = image.own_size
        record["base"] = dataclasses.asdict(image.base)
        record["config"] = {
            k: (dict(v) if isinstance(v, Mapping) else v) for k, v in dataclasses.asdict(info.config).items()
        }
    except RustImageError as exc:
        record["error"] = str(exc)
    facts = image.measured_binary()
    if facts is not None:
        record["binary_facts"] = {
            "path": facts.path,
            "size": facts.size,
            "sha256": facts.sha256,
            **{k: v for k, v in dataclasses.asdict(facts.elf).items()},  # sections among them
            "debug_bytes": facts.debug_size,
            # True, or why it would not load; each library loaded to its path in the image
            "loads": True if facts.loads is True else list(facts.loads),
            "resolved": dict(facts.resolved),
        }
    if verdict is not None:
        record["baseline"] = {
            "size": verdict.baseline,
            "own": verdict.baseline_own,
            "change": verdict.change,  # of the own bytes (of the whole image for a format-1 entry)
            "status": verdict.status,
            "base_changed": verdict.base_text() or None,
        }
    if cache is not None:
        record["cache"] = {
            "edit": cache.edit,
            "ok": cache.ok,
            "inconclusive": cache.inconclusive,  # cargo's output hidden after the edit: the check fails
            "deps_reused": cache.deps_reused,
            "third_party_recompiled": list(cache.third_party_recompiled),
            "own_recompiled": list(cache.own_recompiled),
            "baseline": cache.baseline,
            "baseline_seconds": round(cache.baseline_seconds, 3) if cache.baseline_seconds is not None else None,
            "rebuild_seconds": round(cache.rebuild_seconds, 3),
            "stored": cache.stored,
            "measured_at": round(cache.measured_at, 3),
            "deps_steps": [dataclasses.asdict(step) for step in cache.deps_steps],
            "hidden": [dataclasses.asdict(step) for step in cache.hidden],
        }
    return record


def records(
    images: Sequence[RustImage], caches: Mapping[tuple[str, ...], CacheReport], verdicts: Mapping[str, SizeVerdict]
) -> list[dict[str, Any]]:
    return [image_record(i, caches.get(i.spec.key), verdicts.get(baseline_key(i.spec))) for i in images]


def render(records: Sequence[Mapping[str, Any]]) -> str:
    return (
        json.dumps({"format": FORMAT, "plugin": __version__, "images": list(records)}, indent=2, sort_keys=True) + "\n"
    )

"""What a session learnt about one image, typed: an :class:`ImageRecord` and its parts.

A record is filled from what was measured while checks and fixtures ran (nothing here talks to an
engine); facts not measured are left out (``None``), not guessed. :func:`to_json` writes a record as
the JSON report's image object (docs/report.schema.json) and as what an xdist worker sends to the
controller; :func:`from_json` reads it back into the same types.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pytest_rustimage.cachecheck.verdict import DepsStep, HiddenStep
from pytest_rustimage.inspect.audit import AuditData, AuditedPackage
from pytest_rustimage.inspect.base import BaseFacts
from pytest_rustimage.inspect.elf import ElfFacts
from pytest_rustimage.inspect.facts import ImageConfig, Layer
from pytest_rustimage.inspect.needs import Need
from pytest_rustimage.inspect.runtimes import RuntimeVerdict, from_data, to_data

Json = dict[str, Any]


@dataclass(frozen=True)
class BuildFacts:
    """How the image came to be; ``builds`` and ``sessions`` are counted when a run's records are merged."""

    reused: bool
    origin: str
    seconds: float
    builds: int | None = None  # sessions that built it (1 when the build lock works)
    sessions: int | None = None  # sessions that used it


@dataclass(frozen=True)
class Sizes:
    """The image's bytes, layers, own bytes above its base, and runtime config."""

    size: int
    wasted: int
    layers: tuple[Layer, ...]
    own_bytes: int | None  # unknown when the base is
    base: BaseFacts
    config: ImageConfig


@dataclass(frozen=True)
class BinaryRecord:
    """The checked binary's facts. ``loads``, the load verdict: True, or why it would not load."""

    path: str
    size: int
    sha256: str
    elf: ElfFacts
    debug_bytes: int
    loads: Literal[True] | tuple[str, ...]
    resolved: Mapping[str, str]  # each library loaded, to its path in the image
    floor: tuple[str, ...] = ()  # per family, the highest symbol version needed (GLIBC_2.34, GCC_3.0), glibc's first
    runtimes: tuple[RuntimeVerdict, ...] | None = None  # the runtime matrix; None: not asked (static: empty)


@dataclass(frozen=True)
class BaselineRecord:
    """The size gate's verdict on the image, against the baseline."""

    size: int | None
    own: int | None
    change: int | None  # of the own bytes (of the whole image for a format-1 entry)
    status: str
    base_changed: str | None


@dataclass(frozen=True)
class EditRow:
    """One edit kind of the cache check's matrix: what its rebuild showed, or why it does not apply."""

    kind: str
    applicable: bool
    reason: str  # why it does not apply, or why its rebuild proves nothing ("" when it does)
    edit: str | None  # what the edit did
    deps_reused: bool | None  # the dependency layer kept (None: not measured)
    third_party_recompiled: tuple[str, ...]
    own_recompiled: tuple[str, ...]
    rerun_steps: tuple[str, ...]  # the RUN steps that ran again after the edit
    rebuild_seconds: float | None
    stored: bool  # an earlier run's verdict for the same inputs
    gated: bool  # whether it can fail the check (member: reported only)
    ok: bool
    problems: tuple[str, ...]  # what failed to hold


@dataclass(frozen=True)
class CacheRecord:
    """The cache check's verdict: the first fields are the ``source`` edit's (else the first measured
    kind's), ``ok`` the whole matrix's, ``edits`` one row per configured edit kind."""

    edit: str
    ok: bool
    inconclusive: bool  # cargo's output hidden after the edit: the check fails
    deps_reused: bool
    third_party_recompiled: tuple[str, ...]
    own_recompiled: tuple[str, ...]
    baseline: str
    baseline_seconds: float | None
    rebuild_seconds: float
    stored: bool
    measured_at: float
    deps_steps: tuple[DepsStep, ...]
    hidden: tuple[HiddenStep, ...]
    edits: tuple[EditRow, ...] = ()


@dataclass(frozen=True)
class ReproducibleRecord:
    """The reproducible check's verdict: whether a second build gave the same binary and files, in a line."""

    identical: bool
    summary: str


@dataclass(frozen=True)
class ImageRecord:
    """One image of the run and what was measured of it."""

    crate: str
    manifest: str
    strategy: str
    engine: str
    binary: str
    variant: str  # as item ids name the image: STRATEGY-ENGINE[-BINARY]
    baseline_key: str
    tag: str
    id: str
    build: BuildFacts
    budget: int
    sizes: Sizes | None = None
    error: str | None = None  # why the sizes could not be measured
    binary_facts: BinaryRecord | None = None
    baseline: BaselineRecord | None = None
    cache: CacheRecord | None = None
    needs: tuple[Need, ...] | None = None  # every need detected, satisfied or not (None: not looked at)
    reproducible: ReproducibleRecord | None = None  # the reproducible check's verdict (None: not run)

    @property
    def key(self) -> tuple[str, ...]:
        """What makes two sessions' records the same image."""
        return (self.manifest, self.strategy, self.engine, self.binary, self.tag)


_PLAIN = ("crate", "manifest", "strategy", "engine", "binary", "variant", "baseline_key", "tag", "id", "budget")


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _sizes_json(sizes: Sizes) -> Json:
    out: Json = {
        "size": sizes.size,
        "wasted": sizes.wasted,
        "layers": [dataclasses.asdict(layer) for layer in sizes.layers],
        "base": dataclasses.asdict(sizes.base),
        "config": {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in dataclasses.asdict(sizes.config).items()},
    }
    if sizes.own_bytes is not None:
        out["own_bytes"] = sizes.own_bytes
    return out


def _binary_json(facts: BinaryRecord) -> Json:
    return {
        "path": facts.path,
        "size": facts.size,
        "sha256": facts.sha256,
        **_elf_json(facts.elf),  # sections among them
        "debug_bytes": facts.debug_bytes,
        "loads": True if facts.loads is True else list(facts.loads),
        "resolved": dict(facts.resolved),
        "floor": list(facts.floor),
        **({} if facts.runtimes is None else {"runtimes": [to_data(r) for r in facts.runtimes]}),
    }


def _elf_json(elf: ElfFacts) -> Json:
    """The ELF facts, cargo-auditable's dependency list among them (``audit``: the crates per binary)."""
    return dataclasses.asdict(elf)


def _cache_json(cache: CacheRecord) -> Json:
    out = dataclasses.asdict(cache)
    out.update(
        third_party_recompiled=list(cache.third_party_recompiled),
        own_recompiled=list(cache.own_recompiled),
        baseline_seconds=_rounded(cache.baseline_seconds),
        rebuild_seconds=_rounded(cache.rebuild_seconds),
        measured_at=_rounded(cache.measured_at),
        edits=[{**dataclasses.asdict(row), "rebuild_seconds": _rounded(row.rebuild_seconds)} for row in cache.edits],
    )
    return out


def _plain(value: Any) -> Any:
    """JSON's own types: lists for tuples, dicts for mappings."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def to_json(record: ImageRecord) -> Json:
    """The record as the JSON report's image object (JSON's own types only)."""
    return _plain(_json(record))  # type: ignore[no-any-return]


def _json(record: ImageRecord) -> Json:
    build = {k: v for k, v in dataclasses.asdict(record.build).items() if v is not None}
    build["seconds"] = round(record.build.seconds, 3)
    out: Json = {name: getattr(record, name) for name in _PLAIN}
    out["build"] = build
    if record.sizes is not None:
        out.update(_sizes_json(record.sizes))
    if record.error is not None:
        out["error"] = record.error
    if record.binary_facts is not None:
        out["binary_facts"] = _binary_json(record.binary_facts)
    if record.baseline is not None:
        out["baseline"] = dataclasses.asdict(record.baseline)
    if record.cache is not None:
        out["cache"] = _cache_json(record.cache)
    if record.needs is not None:
        out["needs"] = [dataclasses.asdict(need) for need in record.needs]
    if record.reproducible is not None:
        out["reproducible"] = dataclasses.asdict(record.reproducible)
    return out


def _elf(data: Mapping[str, Any]) -> ElfFacts:
    values = {f.name: _tuples(data[f.name]) for f in dataclasses.fields(ElfFacts) if f.name in data}
    audit = data.get("audit")
    values["audit"] = None if audit is None else _audit(audit)
    return ElfFacts(**values)


def _audit(data: Mapping[str, Any]) -> AuditData:
    packages = tuple(
        AuditedPackage(**{**package, "dependencies": tuple(package["dependencies"])}) for package in data["packages"]
    )
    return AuditData(packages=packages, format=data["format"])


def _tuples(value: Any) -> Any:
    """JSON's lists back as the tuples the facts hold (in mappings' values too)."""
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    if isinstance(value, dict):
        return {k: _tuples(v) for k, v in value.items()}
    return value


def _binary(data: Mapping[str, Any]) -> BinaryRecord:
    loads = data["loads"]
    return BinaryRecord(
        path=data["path"],
        size=data["size"],
        sha256=data["sha256"],
        elf=_elf(data),
        debug_bytes=data["debug_bytes"],
        loads=True if loads is True else tuple(loads),
        resolved=dict(data["resolved"]),
        floor=tuple(data.get("floor", ())),
        runtimes=tuple(map(from_data, data["runtimes"])) if "runtimes" in data else None,
    )


def _sizes(data: Mapping[str, Any]) -> Sizes:
    config = dict(data["config"])
    for name in ("entrypoint", "cmd", "exposed_ports"):
        config[name] = tuple(config[name])
    return Sizes(
        size=data["size"],
        wasted=data["wasted"],
        layers=tuple(Layer(**layer) for layer in data["layers"]),
        own_bytes=data.get("own_bytes"),
        base=BaseFacts(**data["base"]),
        config=ImageConfig(**config),
    )


def _cache(data: Mapping[str, Any]) -> CacheRecord:
    values = dict(data)
    values["third_party_recompiled"] = tuple(values["third_party_recompiled"])
    values["own_recompiled"] = tuple(values["own_recompiled"])
    values["deps_steps"] = tuple(DepsStep(**step) for step in values["deps_steps"])
    values["hidden"] = tuple(HiddenStep(**{**step, "reasons": tuple(step["reasons"])}) for step in values["hidden"])
    values["edits"] = tuple(EditRow(**_tuples(row)) for row in values.get("edits", ()))
    return CacheRecord(**values)


def from_json(data: Mapping[str, Any]) -> ImageRecord:
    """A record written by :func:`to_json`, read back into its types."""
    baseline = data.get("baseline")
    return ImageRecord(
        **{name: data[name] for name in _PLAIN},
        build=BuildFacts(**data["build"]),
        sizes=_sizes(data) if "size" in data else None,
        error=data.get("error"),
        binary_facts=_binary(data["binary_facts"]) if "binary_facts" in data else None,
        baseline=BaselineRecord(**baseline) if baseline is not None else None,
        cache=_cache(data["cache"]) if "cache" in data else None,
        needs=tuple(_need(need) for need in data["needs"]) if "needs" in data else None,
        reproducible=ReproducibleRecord(**data["reproducible"]) if "reproducible" in data else None,
    )


def _need(data: Mapping[str, Any]) -> Need:
    return Need(**{**data, "looked_for": tuple(data["looked_for"])})

"""Housekeeping: remove the images and containers the plugin made and no longer uses.

What "no longer uses" means (docs/housekeeping.md): for each crate and strategy, the images the
latest ``keep`` sessions built stay, older builds go; so do leftover cache-probe tags, untagged
images carrying the plugin's label (Podman's stage and layer images, a rebuild's old image) and
stopped containers carrying it. Images without the plugin's label, other people's tags on the
plugin's images, and the base images (unless asked) are never touched. Leftovers a running
session may still own (younger than ``grace``) stay.

:func:`plan` is pure: it decides from what the engine listed. :func:`prune_engine` lists, plans,
removes (never by force: the engine refuses what a container still uses) and measures what was
freed from the layers no remaining image holds.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from pytest_rustimage.engines.protocol import ContainerEntry, EngineStore, ImageEntry
from pytest_rustimage.errors import ConfigError, EngineError
from pytest_rustimage.names import (
    BUILT_LABEL,
    INPUTS_LABEL,
    PLUGIN_LABEL,
    RECIPE_LABEL,
    RUN_LABEL,
    SESSION_LABEL,
    TAG_PREFIX,
    PluginTag,
    bare,
    parse_tag,
)
from pytest_rustimage.units import format_size

DEFAULT_GRACE = 3600.0
EMPTY_LAYER = "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"  # an empty tar
STOPPED = frozenset({"created", "configured", "exited", "stopped", "dead"})
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def _built_at(image: ImageEntry) -> float:
    """When an image was built: the plugin's label (BuildKit can give a rebuild the very ``Created`` time
    of the image before it, when every layer comes from cache), else the engine's ``Created``."""
    try:
        return float(image.labels[BUILT_LABEL])
    except (KeyError, ValueError):
        return image.created


def _built_by(image: ImageEntry) -> str:
    """What made an image: its run (all xdist workers of one run are one), else its session."""
    return image.labels.get(RUN_LABEL) or image.labels.get(SESSION_LABEL) or image.id


def parse_duration(text: str) -> float:
    """``"90"``, ``"90s"``, ``"30m"``, ``"2h"``, ``"1d"``: seconds."""
    match = _DURATION.match(text)
    if not match:
        raise ConfigError(f"cannot read the duration {text!r}; write e.g. 0, 90s, 30m, 2h or 1d")
    return float(match[1]) * _UNITS[match[2]]


@dataclass(frozen=True)
class Policy:
    keep: int = 1  # sessions kept per crate and strategy
    everything: bool = False  # every image the plugin built (``--all``)
    bases: bool = False  # base images too: replaced ones; with ``everything`` the current ones
    grace: float = DEFAULT_GRACE  # leftovers younger than this may belong to a running session
    crates: tuple[str, ...] = ()  # only these crates (tag parts), and what can be traced to them

    def __post_init__(self) -> None:
        if self.keep < 1:
            raise ConfigError(f"--keep must be at least 1, not {self.keep}")
        if self.grace < 0:
            raise ConfigError(f"--grace cannot be negative ({self.grace:g}s)")


@dataclass(frozen=True)
class Action:
    kind: str  # "tag", "untagged", "base", "container"
    ref: str  # the tag, or the image or container id
    image_id: str
    reason: str


@dataclass(frozen=True)
class Plan:
    remove: tuple[Action, ...]  # in removal order: containers, tags, untagged images (newest first), bases
    keep: tuple[Action, ...]  # what was looked at and stays, with why


def _young(created: float, now: float, grace: float) -> bool:
    return now - created < grace


def _grace_note(policy: Policy) -> str:
    return f"younger than the grace period ({policy.grace:g}s): a running session may own it"


@dataclass
class _Tagged:
    """What the tagged images decided, for the untagged images and containers to follow."""

    remove: list[Action] = field(default_factory=list)
    keep: list[Action] = field(default_factory=list)
    selected: set[str] = field(default_factory=set)  # image ids of the selected crates
    inputs_kept: dict[str, bool] = field(default_factory=dict)  # a build's inputs digest -> its image stays


def _tagged(images: Sequence[ImageEntry], policy: Policy, now: float) -> _Tagged:
    """Builds grouped by crate and strategy (the latest ``keep`` sessions' stay); probe tags are leftovers."""
    found = _Tagged()
    groups: dict[tuple[str, str], list[tuple[PluginTag, ImageEntry]]] = {}
    for image in images:
        for tag in filter(None, map(parse_tag, image.tags)):
            if policy.crates and tag.crate not in policy.crates:
                continue
            found.selected.add(image.id)
            if tag.kind == "build":
                groups.setdefault((tag.crate, tag.strategy), []).append((tag, image))
            elif _young(_built_at(image), now, policy.grace):
                found.keep.append(Action("tag", tag.ref, image.id, _grace_note(policy)))
            else:
                found.remove.append(Action("tag", tag.ref, image.id, "a cache probe's leftover"))
    for (crate, strategy), members in sorted(groups.items()):
        members.sort(key=lambda pair: (_built_at(pair[1]), pair[1].id), reverse=True)
        sessions = list(dict.fromkeys(_built_by(image) for _, image in members))
        latest = set(sessions[: policy.keep])
        what = f"{crate} ({strategy})"
        for tag, image in members:
            kept = not policy.everything and _built_by(image) in latest
            digest = image.labels.get(INPUTS_LABEL)
            if digest:
                found.inputs_kept[digest] = found.inputs_kept.get(digest, False) or kept
            if kept:
                found.keep.append(Action("tag", tag.ref, image.id, f"built by the latest session(s) of {what}"))
            else:
                why = f"a build of {what} (--all)" if policy.everything else f"an older build of {what}"
                found.remove.append(Action("tag", tag.ref, image.id, why))
    return found


def _untagged(images: Sequence[ImageEntry], tagged: _Tagged, policy: Policy, now: float) -> list[Action]:
    """Untagged images carrying the plugin's label: a removed build's stages go with it, a kept build's
    stay (they are its layer cache), others are leftovers. Newest first: children before parents."""
    found: list[tuple[ImageEntry, Action]] = []
    for image in images:
        if image.tags:
            continue  # tags that are not the plugin's are someone else's: never removed
        digest = image.labels.get(INPUTS_LABEL, "")
        if (policy.crates and digest not in tagged.inputs_kept) or tagged.inputs_kept.get(digest):
            continue  # not traced to the selected crates, or the layer cache of an image that stays
        tagged.selected.add(image.id)
        if digest in tagged.inputs_kept:
            found.append((image, Action("untagged", image.id, image.id, "a stage or layer image of a removed build")))
        elif _young(_built_at(image), now, policy.grace):
            tagged.keep.append(Action("untagged", image.id, image.id, _grace_note(policy)))
        else:
            found.append((image, Action("untagged", image.id, image.id, "an untagged leftover of a build")))
    found.sort(key=lambda pair: (pair[0].created, pair[0].id), reverse=True)
    return [action for _, action in found]


def _bases(bases: Sequence[ImageEntry], policy: Policy, now: float, keep: list[Action]) -> list[Action]:
    """Replaced (untagged) base images; the current ones only with ``everything``. Images built on a
    base inherit its label: those carrying the plugin's label are builds, not bases."""
    found: list[Action] = []
    for image in sorted(bases, key=lambda i: (i.created, i.id), reverse=True):
        if PLUGIN_LABEL in image.labels:
            continue
        if not image.tags:
            if _young(image.created, now, policy.grace):
                keep.append(Action("base", image.id, image.id, _grace_note(policy)))
            else:
                found.append(Action("base", image.id, image.id, "a replaced base image"))
        for ref in (t for t in image.tags if bare(t).startswith(TAG_PREFIX)):
            if policy.everything:
                found.append(Action("base", ref, image.id, "a base image (--all --bases)"))
            else:
                keep.append(Action("base", ref, image.id, "a current base image (remove with --all --bases)"))
    return found


def _containers(containers: Sequence[ContainerEntry], tagged: _Tagged, policy: Policy, now: float) -> list[Action]:
    """Stopped containers; with ``crates``, only those of the selected crates' images."""
    found: list[Action] = []
    for container in sorted(containers, key=lambda c: (c.created, c.id)):
        if policy.crates and container.image_id not in tagged.selected:
            continue
        if container.state not in STOPPED:
            tagged.keep.append(Action("container", container.id, container.image_id, container.state or "running"))
        elif _young(container.created, now, policy.grace):
            tagged.keep.append(Action("container", container.id, container.image_id, _grace_note(policy)))
        else:
            article = "an" if container.state[:1] in ("a", "e", "i", "o", "u") else "a"
            why = f"{article} {container.state} container"
            found.append(Action("container", container.id, container.image_id, why))
    return found


def plan(
    images: Sequence[ImageEntry],
    containers: Sequence[ContainerEntry],
    policy: Policy,
    now: float,
    bases: Sequence[ImageEntry] = (),
) -> Plan:
    """What to remove from one engine, from what it listed: ``images`` carrying the plugin's label,
    ``containers`` carrying it, ``bases`` (images carrying the base-recipe label, looked at only
    with ``policy.bases``)."""
    tagged = _tagged(images, policy, now)
    untagged = _untagged(images, tagged, policy, now)
    old_bases = _bases(bases, policy, now, tagged.keep) if policy.bases else []
    stopped = _containers(containers, tagged, policy, now)
    return Plan(remove=(*stopped, *tagged.remove, *untagged, *old_bases), keep=tuple(tagged.keep))


def vanishing(removals: Iterable[Action], images: Iterable[ImageEntry]) -> set[str]:
    """The ids of the images that are gone once ``removals`` are done: untagged ones removed by id,
    tagged ones whose every tag is removed."""
    refs = {action.ref for action in removals if action.kind != "container"}
    return {image.id for image in images if (image.id in refs if not image.tags else set(image.tags) <= refs)}


def layer_sizes(diff_ids: Sequence[str], history: Sequence[int]) -> dict[str, int] | None:
    """Each layer's size, from the image's history sizes (oldest first). History entries that made
    no layer have size 0, as do empty layers (whose diff id is the empty tar's); None when the two
    lists cannot be matched (a layer of 0 bytes that is not empty, say one that only deletes)."""
    real = [layer for layer in diff_ids if layer != EMPTY_LAYER]
    sizes = [size for size in history if size > 0]
    if len(real) != len(sizes):
        return None
    found = dict.fromkeys((layer for layer in diff_ids if layer == EMPTY_LAYER), 0)
    found.update(zip(real, sizes, strict=True))
    return found


def freed_bytes(
    gone: Iterable[str],
    layers: Mapping[str, Sequence[str]],
    remaining: Iterable[str],
    sizes: Mapping[str, Mapping[str, int] | None],
) -> tuple[int, bool]:
    """Bytes of the layers that the ``gone`` images held and no ``remaining`` image holds, and
    whether every such layer's size was known (else the number is a lower bound)."""
    kept = {layer for image in remaining for layer in layers.get(image, ())}
    known: dict[str, int] = {}
    freed_layers: set[str] = set()
    for image in gone:
        image_sizes = sizes.get(image) or {}
        for layer in layers.get(image, ()):
            if layer not in kept:
                freed_layers.add(layer)
                if layer in image_sizes:
                    known[layer] = image_sizes[layer]
    return sum(known.values()), freed_layers <= set(known)


@dataclass
class Outcome:
    """What pruning one engine did (or, in a dry run, would do)."""

    engine: str
    endpoint: str
    dry_run: bool
    removed: list[Action] = field(default_factory=list)
    refused: list[tuple[Action, str]] = field(default_factory=list)
    kept: list[Action] = field(default_factory=list)
    freed: int = 0
    exact: bool = True


def _one_each(images: Sequence[ImageEntry]) -> list[ImageEntry]:
    """One entry per image id, with every tag it has (Podman lists an image once per tag)."""
    merged: dict[str, ImageEntry] = {}
    for image in images:
        found = merged.get(image.id)
        tags = tuple(dict.fromkeys((*found.tags, *image.tags))) if found else image.tags
        labels = {**(found.labels if found else {}), **image.labels}
        merged[image.id] = ImageEntry(image.id, tags, image.created, labels)
    return list(merged.values())


def prune_engine(engine: EngineStore, policy: Policy, *, dry_run: bool, now: float | None = None) -> Outcome:
    """List, plan, remove (unless ``dry_run``) and measure on one engine."""
    now = time.time() if now is None else now
    images = _one_each(engine.list_images(PLUGIN_LABEL))
    bases = engine.list_images(RECIPE_LABEL) if policy.bases else []
    chosen = plan(images, engine.list_containers(PLUGIN_LABEL), policy, now, bases)
    outcome = Outcome(engine.name, engine.endpoint, dry_run, kept=list(chosen.keep))
    everything = [*images, *bases]
    touched = {action.image_id for action in chosen.remove if action.kind != "container"}
    before = engine.image_layers()
    sizes: dict[str, Mapping[str, int] | None] = {}
    for image_id in touched & set(before):
        try:
            sizes[image_id] = layer_sizes(before[image_id], engine.history_sizes(image_id))
        except EngineError:
            sizes[image_id] = None
    if dry_run:
        outcome.removed = list(chosen.remove)
        gone = vanishing(chosen.remove, everything)
        remaining: set[str] = set(before) - gone
    else:
        pending = list(chosen.remove)
        for _ in range(3):  # an untagged parent may be refused until its children are gone
            retry: list[tuple[Action, str]] = []
            for action in pending:
                try:
                    if action.kind == "container":
                        engine.remove_stopped_container(action.ref)
                    else:
                        engine.remove_unused_image(action.ref)
                    outcome.removed.append(action)
                except EngineError as exc:
                    retry.append((action, str(exc)))
            if not retry or len(retry) == len(pending):
                outcome.refused = retry
                break
            pending = [action for action, _ in retry]
            outcome.refused = retry
        after = engine.image_layers()
        gone = {image_id for image_id in touched if image_id in before and image_id not in after}
        remaining = set(after)
    outcome.freed, outcome.exact = freed_bytes(gone, before, remaining, sizes)
    return outcome


def _short(action: Action) -> str:
    if action.kind == "container":
        return f"container {action.ref[:12]}"
    if action.ref.startswith("sha256:"):
        return f"<none> {action.ref[7:19]}"
    return action.ref


def describe(outcome: Outcome) -> str:
    """Lines for a person: what went (or would go), what stayed and why, the bytes freed."""
    verb = "would remove" if outcome.dry_run else "removed"
    lines = [f"{outcome.engine} at {outcome.endpoint}:"]
    for action in outcome.removed:
        lines.append(f"  {verb} {_short(action)}: {action.reason}")
    for action, why in outcome.refused:
        lines.append(f"  could not remove {_short(action)}: {why}")
    for action in outcome.kept:
        lines.append(f"  kept {_short(action)}: {action.reason}")
    if not (outcome.removed or outcome.refused):
        lines.append("  nothing to remove")
    amount = f"{format_size(outcome.freed)} ({outcome.freed} bytes)"
    if not outcome.exact:
        amount = f"at least {amount}"
    lines.append(f"  {'would free' if outcome.dry_run else 'freed'} {amount}")
    return "\n".join(lines)

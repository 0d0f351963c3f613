"""Housekeeping: which images and containers `prune` removes (pure), and how it removes and counts."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from pytest_rustimage.engines.protocol import ContainerEntry, ImageEntry
from pytest_rustimage.errors import ConfigError, EngineError
from pytest_rustimage.housekeeping.prune import (
    EMPTY_LAYER,
    Action,
    Outcome,
    Policy,
    _one_each,
    describe,
    freed_bytes,
    layer_sizes,
    parse_duration,
    plan,
    prune_engine,
    vanishing,
)
from pytest_rustimage.names import (
    BUILT_LABEL,
    INPUTS_LABEL,
    PLUGIN_LABEL,
    RECIPE_LABEL,
    RUN_LABEL,
    SESSION_LABEL,
    PluginTag,
    parse_tag,
)

NOW = 1_800_000_000.0
HOUR = 3600.0
DAY = 24 * HOUR


def image(
    name: str,
    *tags: str,
    age: float = DAY,
    session: str | None = None,
    inputs: str | None = None,
    labels: Mapping[str, str] | None = None,
) -> ImageEntry:
    found = {PLUGIN_LABEL: "0.1.0", **(labels or {})}
    if session:
        found[SESSION_LABEL] = session
    if inputs:
        found[INPUTS_LABEL] = inputs
    return ImageEntry(id=f"sha256:{name}", tags=tags, created=NOW - age, labels=found)


def container(name: str, image_id: str, state: str = "exited", age: float = DAY) -> ContainerEntry:
    return ContainerEntry(id=name, image_id=image_id, created=NOW - age, state=state, labels={PLUGIN_LABEL: "0.1.0"})


def refs(actions: tuple[Action, ...] | list[Action]) -> list[str]:
    return [action.ref for action in actions]


OLD = image("old", "pytest-rustimage/hello:static-0000000000000001", age=2 * DAY, session="s1", inputs="d1")
NEW = image("new", "pytest-rustimage/hello:static-0000000000000002", age=DAY, session="s2", inputs="d2")


# ---- tags


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("pytest-rustimage/hello:static-0123456789abcdef", PluginTag("", "hello", "build", "static")),
        ("localhost/pytest-rustimage/hello:chef-0123456789abcdef", PluginTag("", "hello", "build", "chef")),
        ("docker.io/pytest-rustimage/app:dummy-main-0123456789abcdef", PluginTag("", "app", "build", "dummy-main")),
        ("pytest-rustimage/hello:probe-static-abc123-cold", PluginTag("", "hello", "probe")),
        ("pytest-rustimage/hello:static-0123", None),  # not a digest
        ("pytest-rustimage/hello:latest", None),  # someone's own tag in the plugin's repository
        ("pytest-rustimage/builder:bookworm", None),  # a base image
        ("myrepo/hello:static-0123456789abcdef", None),
        ("pytest-rustimage/a/b:static-0123456789abcdef", None),
        ("pytest-rustimage/:static-0123456789abcdef", None),
        ("pytest-rustimage/hello", None),
    ],
)
def test_parse_tag(ref: str, expected: PluginTag | None) -> None:
    found = parse_tag(ref)
    if expected is None:
        assert found is None
    else:
        assert found == PluginTag(ref, expected.crate, expected.kind, expected.strategy)


@pytest.mark.parametrize(
    ("text", "seconds"), [("0", 0), ("90", 90), ("90s", 90), ("30m", 1800), ("2h", 7200), ("1d", 86400), ("1.5h", 5400)]
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "-1h", "1w", "h"])
def test_a_bad_duration_is_refused(text: str) -> None:
    with pytest.raises(ConfigError, match="cannot read the duration"):
        parse_duration(text)


def test_policy_refuses_nonsense() -> None:
    with pytest.raises(ConfigError, match="--keep must be at least 1"):
        Policy(keep=0)
    with pytest.raises(ConfigError, match="--grace cannot be negative"):
        Policy(grace=-1)


# ---- tagged builds


def test_the_latest_build_of_each_crate_and_strategy_stays_and_older_ones_go() -> None:
    chef = image("chef", "pytest-rustimage/hello:chef-0000000000000003", age=3 * DAY, session="s0")
    other = image("other", "pytest-rustimage/server:static-0000000000000004", age=5 * DAY, session="s0")
    chosen = plan([OLD, NEW, chef, other], [], Policy(), NOW)
    assert refs(chosen.remove) == ["pytest-rustimage/hello:static-0000000000000001"]
    assert chosen.remove[0].reason == "an older build of hello (static)"
    assert set(refs(chosen.keep)) == {*NEW.tags, *chef.tags, *other.tags}


def test_every_image_of_the_latest_session_stays() -> None:
    # two binaries of one workspace: same crate and strategy, built together
    second = image("bin2", "pytest-rustimage/hello:static-0000000000000005", age=DAY + 60, session="s2")
    chosen = plan([OLD, NEW, second], [], Policy(), NOW)
    assert refs(chosen.remove) == list(OLD.tags)
    assert set(refs(chosen.keep)) == {*NEW.tags, *second.tags}


def test_every_image_of_the_latest_run_stays_though_xdist_workers_built_them() -> None:
    # two binaries of one workspace built by two workers (two sessions) of one run
    run = {RUN_LABEL: "run-2"}
    first = image("w1", "pytest-rustimage/hello:static-0000000000000006", age=DAY, session="gw0", labels=run)
    second = image("w2", "pytest-rustimage/hello:static-0000000000000007", age=DAY + 60, session="gw1", labels=run)
    chosen = plan([OLD, first, second], [], Policy(), NOW)
    assert refs(chosen.remove) == list(OLD.tags)
    assert set(refs(chosen.keep)) == {*first.tags, *second.tags}


def test_keep_counts_sessions() -> None:
    oldest = image("oldest", "pytest-rustimage/hello:static-0000000000000000", age=3 * DAY, session="s0")
    chosen = plan([oldest, OLD, NEW], [], Policy(keep=2), NOW)
    assert refs(chosen.remove) == list(oldest.tags)


def test_all_removes_the_latest_builds_too() -> None:
    chosen = plan([OLD, NEW], [], Policy(everything=True), NOW)
    assert set(refs(chosen.remove)) == {*OLD.tags, *NEW.tags}
    assert chosen.remove[0].reason.endswith("(--all)")


def test_tags_that_are_not_the_plugins_are_never_removed() -> None:
    shared = image(
        "shared", "pytest-rustimage/hello:static-0000000000000001", "myrepo/hello:1", age=2 * DAY, session="s1"
    )
    mine = image("mine", "pytest-rustimage/hello:latest", "myrepo/x:2", age=9 * DAY)
    chosen = plan([shared, NEW, mine], [], Policy(everything=True, grace=0), NOW)
    assert "myrepo/hello:1" not in refs(chosen.remove)
    assert not {"pytest-rustimage/hello:latest", "myrepo/x:2"} & set(refs(chosen.remove))
    # the plugin's tag goes, the image stays under its other tag
    assert vanishing(chosen.remove, [shared, NEW, mine]) == {NEW.id}


def test_crates_limit_what_is_looked_at() -> None:
    other_old = image("o1", "pytest-rustimage/server:static-0000000000000006", age=2 * DAY, session="s1")
    other_new = image("o2", "pytest-rustimage/server:static-0000000000000007", age=DAY, session="s2")
    chosen = plan([OLD, NEW, other_old, other_new], [], Policy(crates=("server",)), NOW)
    assert refs(chosen.remove) == list(other_old.tags)
    assert set(refs(chosen.keep)) == set(other_new.tags)


# ---- leftovers


def test_probe_tags_go_once_older_than_the_grace_period() -> None:
    stale = image("p1", "pytest-rustimage/hello:probe-static-aaaa-cold", age=2 * HOUR)
    fresh = image("p2", "pytest-rustimage/hello:probe-static-bbbb-warm", age=60)
    chosen = plan([stale, fresh], [], Policy(), NOW)
    assert refs(chosen.remove) == list(stale.tags)
    assert refs(chosen.keep) == list(fresh.tags)
    assert "grace period (3600s)" in chosen.keep[0].reason
    assert refs(plan([stale, fresh], [], Policy(grace=0), NOW).remove) == [*stale.tags, *fresh.tags]


def test_untagged_images_follow_their_build_or_the_grace_period() -> None:
    cache_of_new = image("c-new", age=DAY, inputs="d2")  # layer cache of the image that stays
    stage_of_old = image("c-old", age=60, inputs="d1")  # of a removed build: goes, however young
    orphan_old = image("orphan1", age=2 * HOUR, inputs="gone")
    orphan_young = image("orphan2", age=60, inputs="gone")  # a running session's build, maybe
    probe_stage = image("probe", age=2 * HOUR, session="s9")  # no inputs label: a probe's stage
    images = [OLD, NEW, cache_of_new, stage_of_old, orphan_old, orphan_young, probe_stage]
    chosen = plan(images, [], Policy(), NOW)
    assert set(refs(chosen.remove)) == {*OLD.tags, stage_of_old.id, orphan_old.id, probe_stage.id}
    assert cache_of_new.id not in refs(chosen.remove) + refs(chosen.keep)
    assert orphan_young.id in refs(chosen.keep)
    with_all = plan(images, [], Policy(everything=True, grace=0), NOW)
    assert {cache_of_new.id, orphan_young.id} <= set(refs(with_all.remove))


def test_untagged_images_go_newest_first_after_the_tags() -> None:
    parent = image("parent", age=3 * HOUR, inputs="gone")
    child = image("child", age=2 * HOUR, inputs="gone")
    chosen = plan([parent, OLD, child, NEW], [container("c", OLD.id)], Policy(), NOW)
    assert refs(chosen.remove) == ["c", *OLD.tags, child.id, parent.id]


def test_with_crates_only_traceable_untagged_images_and_containers_are_looked_at() -> None:
    traced = image("traced", age=DAY, inputs="d1")
    untraced = image("untraced", age=DAY, inputs="elsewhere")
    bare = image("bare", age=DAY)
    stopped_mine = container("mine", OLD.id)
    stopped_other = container("other", "sha256:someone-else")
    chosen = plan([OLD, NEW, traced, untraced, bare], [stopped_mine, stopped_other], Policy(crates=("hello",)), NOW)
    assert set(refs(chosen.remove)) == {"mine", *OLD.tags, traced.id}


def test_containers_running_or_young_stay() -> None:
    found = [
        container("running", NEW.id, state="running"),
        container("paused", NEW.id, state="paused"),
        container("young", NEW.id, state="exited", age=60),
        container("created", NEW.id, state="created"),
        container("dead", NEW.id, state="dead"),
    ]
    chosen = plan([NEW], found, Policy(), NOW)
    assert refs(chosen.remove) == ["created", "dead"]
    assert {"running", "paused", "young"} <= set(refs(chosen.keep))


# ---- base images


BUILDER = ImageEntry("sha256:builder", ("pytest-rustimage/builder:bookworm",), NOW - DAY, {RECIPE_LABEL: "r2"})
REPLACED = ImageEntry("sha256:builder-old", (), NOW - 2 * DAY, {RECIPE_LABEL: "r1"})
MIRROR = ImageEntry("sha256:mirror", ("registry.example/builder:1",), NOW - 2 * DAY, {RECIPE_LABEL: "r0"})


def test_images_built_on_a_base_are_not_bases() -> None:
    # a build inherits its base's recipe label: it is looked at as a build, never as a base
    stage = image("stage", age=DAY, labels={RECIPE_LABEL: "r2"})
    chef = image("chef", "pytest-rustimage/hello:chef-0000000000000008", session="s1", labels={RECIPE_LABEL: "r2"})
    chosen = plan([stage, chef], [], Policy(bases=True, everything=True), NOW, bases=[BUILDER, stage, chef])
    assert sorted(refs(chosen.remove)) == sorted([*BUILDER.tags, *chef.tags, stage.id])
    assert [action.kind for action in chosen.remove if action.image_id == chef.id] == ["tag"]


def test_base_images_are_looked_at_only_when_asked() -> None:
    assert plan([], [], Policy(everything=True, grace=0), NOW, bases=[BUILDER, REPLACED]).remove == ()
    asked = plan([], [], Policy(bases=True), NOW, bases=[BUILDER, REPLACED, MIRROR])
    assert refs(asked.remove) == [REPLACED.id]
    assert "pytest-rustimage/builder:bookworm" in refs(asked.keep)
    everything = plan([], [], Policy(bases=True, everything=True), NOW, bases=[BUILDER, REPLACED, MIRROR])
    assert refs(everything.remove) == ["pytest-rustimage/builder:bookworm", REPLACED.id]


# ---- sizes


LAYER_A, LAYER_B, LAYER_C = "sha256:a", "sha256:b", "sha256:c"


def test_layer_sizes_match_history_entries_that_made_layers() -> None:
    # history oldest first: a layer, an ENV (no layer), an empty RUN layer, another layer
    assert layer_sizes([LAYER_A, EMPTY_LAYER, LAYER_B], [100, 0, 0, 50]) == {LAYER_A: 100, EMPTY_LAYER: 0, LAYER_B: 50}
    assert layer_sizes([LAYER_A, LAYER_B], [100, 0]) is None  # a layer that deletes only: 0 bytes, cannot match


def test_freed_counts_layers_no_remaining_image_holds_once() -> None:
    layers = {"x": (LAYER_A, LAYER_B), "y": (LAYER_A, LAYER_C), "z": (LAYER_A,)}
    sizes = {"x": {LAYER_A: 100, LAYER_B: 10}, "y": {LAYER_A: 100, LAYER_C: 1}}
    assert freed_bytes({"x", "y"}, layers, {"z"}, sizes) == (11, True)
    assert freed_bytes({"x", "y"}, layers, set(), sizes) == (111, True)
    assert freed_bytes({"x"}, layers, {"y", "z"}, {"x": None}) == (0, False)  # B's size unknown: at least 0
    assert freed_bytes(set(), layers, {"x"}, sizes) == (0, True)


# ---- against an engine


class FakeEngine:
    """Just the housekeeping calls, over in-memory images and containers."""

    name = "fake"
    endpoint = "memory://"

    def __init__(self, images: list[ImageEntry], containers: list[ContainerEntry], refuse: set[str] = frozenset()):
        self.images = {i.id: i for i in images}
        self.layers = {i.id: (f"layer-{i.id}", "shared") for i in images}
        self.containers = {c.id: c for c in containers}
        self.refuse = set(refuse)
        self.calls: list[str] = []

    def list_images(self, label: str) -> list[ImageEntry]:
        return [i for i in self.images.values() if label in i.labels]

    def list_containers(self, label: str) -> list[ContainerEntry]:
        return [c for c in self.containers.values() if label in c.labels]

    def image_layers(self) -> dict[str, tuple[str, ...]]:
        return {image_id: self.layers[image_id] for image_id in self.images}

    def history_sizes(self, ref: str) -> tuple[int, ...]:
        return (1000, 7)

    def remove_unused_image(self, ref: str) -> None:
        self.calls.append(ref)
        if ref in self.refuse:
            raise EngineError(f"{ref} is in use")
        for image in list(self.images.values()):
            if ref == image.id or ref in image.tags:
                rest = tuple(t for t in image.tags if t != ref)
                if rest:
                    self.images[image.id] = ImageEntry(image.id, rest, image.created, image.labels)
                else:
                    del self.images[image.id]

    def remove_stopped_container(self, container: str) -> None:
        self.calls.append(container)
        self.containers.pop(container, None)


def test_a_dry_run_removes_nothing_and_says_what_it_would_free() -> None:
    engine = FakeEngine([OLD, NEW], [container("c", OLD.id)])
    outcome = prune_engine(engine, Policy(), dry_run=True, now=NOW)  # type: ignore[arg-type]
    assert engine.calls == [] and set(engine.images) == {OLD.id, NEW.id}
    assert refs(outcome.removed) == ["c", *OLD.tags]
    assert (outcome.freed, outcome.exact) == (1000, True)  # OLD's own layer; "shared" stays with NEW
    text = describe(outcome)
    assert "would remove pytest-rustimage/hello:static-0000000000000001: an older build of hello (static)" in text
    assert "would remove container c: an exited container" in text
    assert "would free 1000 B (1000 bytes)" in text


def test_a_run_removes_and_counts_what_went() -> None:
    engine = FakeEngine([OLD, NEW], [container("c", OLD.id)])
    outcome = prune_engine(engine, Policy(), dry_run=False, now=NOW)  # type: ignore[arg-type]
    assert engine.calls == ["c", *OLD.tags]
    assert set(engine.images) == {NEW.id} and not engine.containers
    assert (outcome.freed, outcome.exact, outcome.refused) == (1000, True, [])
    assert "removed pytest-rustimage/hello:static-0000000000000001" in describe(outcome)
    assert "freed 1000 B" in describe(outcome)


def test_a_refusal_is_reported_and_not_counted() -> None:
    engine = FakeEngine([OLD, NEW], [], refuse={OLD.tags[0]})
    outcome = prune_engine(engine, Policy(), dry_run=False, now=NOW)  # type: ignore[arg-type]
    assert OLD.id in engine.images
    assert [(action.ref, why) for action, why in outcome.refused] == [(OLD.tags[0], f"{OLD.tags[0]} is in use")]
    assert outcome.freed == 0
    assert f"could not remove {OLD.tags[0]}: {OLD.tags[0]} is in use" in describe(outcome)


def test_nothing_to_do_says_so() -> None:
    outcome = Outcome("docker", "unix:///x", dry_run=False, exact=False, freed=3)
    assert describe(outcome) == "docker at unix:///x:\n  nothing to remove\n  freed at least 3 B (3 bytes)"


# ---- the command line


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--keep", "0"], "error: --keep must be at least 1, not 0"),
        (["--grace", "soon"], "error: cannot read the duration 'soon'"),
        (["--grace=-5m"], "error: cannot read the duration '-5m'"),
    ],
)
def test_the_command_refuses_bad_options_before_touching_an_engine(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from pytest_rustimage import __main__ as cli

    monkeypatch.setattr(cli, "make_engine", lambda name: pytest.fail("an engine was made"))
    assert cli.main(["prune", *args]) == 2
    assert message in capsys.readouterr().err


def test_the_command_refuses_an_unknown_engine(capsys: pytest.CaptureFixture[str]) -> None:
    from pytest_rustimage.__main__ import main

    with pytest.raises(SystemExit) as exit_info:
        main(["prune", "--engine", "containerd"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'containerd'" in capsys.readouterr().err


class Absent:
    def __init__(self, name: str) -> None:
        self.name = name

    def ping(self) -> None:
        from pytest_rustimage.errors import EngineUnavailable

        raise EngineUnavailable(self.name, "unix:///nowhere.sock", "connection refused")

    def close(self) -> None:
        pass


class Present(FakeEngine):
    def ping(self) -> None:
        pass

    def close(self) -> None:
        pass


def test_the_command_skips_an_absent_engine_and_prunes_the_other(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from pytest_rustimage import __main__ as cli

    podman = Present([OLD, NEW], [])
    monkeypatch.setattr(cli, "make_engine", lambda name: Absent(name) if name == "docker" else podman)
    assert cli.main(["prune", "--grace", "0"]) == 0
    out = capsys.readouterr().out
    assert "docker: skipped, docker engine not reachable at unix:///nowhere.sock: connection refused" in out
    assert f"fake at memory://:\n  removed {OLD.tags[0]}: an older build of hello (static)" in out
    assert set(podman.images) == {NEW.id}
    assert cli.main(["prune", "--engine", "docker"]) == 1  # asked for by name: an error
    assert "docker: skipped" in capsys.readouterr().err


def test_the_command_fails_when_no_engine_answers(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from pytest_rustimage import __main__ as cli

    monkeypatch.setattr(cli, "make_engine", Absent)
    assert cli.main(["prune", "--dry-run"]) == 1
    captured = capsys.readouterr()
    assert "docker: skipped" in captured.out and "podman: skipped" in captured.out
    assert "error: no engine answered; nothing was pruned" in captured.err


def test_builds_with_the_same_created_time_are_ordered_by_the_plugins_build_label() -> None:
    # BuildKit gives a rebuild whose layers all come from cache the Created time of the image before it
    older = image("z-old", "pytest-rustimage/hello:static-0000000000000010", age=DAY, session="s1",
                  labels={BUILT_LABEL: str(NOW - 2 * HOUR)})  # fmt: skip
    newer = image("a-new", "pytest-rustimage/hello:static-0000000000000011", age=DAY, session="s2",
                  labels={BUILT_LABEL: str(NOW - HOUR)})  # fmt: skip
    for order in ([older, newer], [newer, older]):
        chosen = plan(order, [], Policy(), NOW)
        assert refs(chosen.remove) == [older.tags[0]], chosen


def test_an_image_listed_once_per_tag_is_one_image() -> None:
    first = image("p", "localhost/pytest-rustimage/hello:probe-static-aaaa-warm", age=2 * HOUR)
    second = ImageEntry(first.id, ("localhost/pytest-rustimage/hello:probe-static-aaaa-cold",), first.created, {})
    (merged,) = _one_each([first, second])
    assert merged.tags == (*first.tags, *second.tags) and merged.labels == first.labels

"""Podman's builds (buildah): taking turns on one storage, cleaning up after a stopped build, and
removing the stage images a build leaves behind."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import time
from collections.abc import Mapping

from pytest_rustimage.engines.cache_mounts import buildah_lacks_mounts
from pytest_rustimage.engines.common import build_arguments, run_build
from pytest_rustimage.engines.podman.connection import PodmanConnection
from pytest_rustimage.engines.podman.runtime import crun_hint, explain, retry_storage_race, stop_run_steps
from pytest_rustimage.engines.protocol import BuildOutput, BuildRequest, LineSink
from pytest_rustimage.errors import EngineError, RustImageError
from pytest_rustimage.names import normalise_id

LEFTOVER_TRIES = 3  # removals of a session's build leftovers before what stays is said


class PodmanBuilds(PodmanConnection):
    """:class:`~pytest_rustimage.engines.protocol.BuildApi` on Podman."""

    @property
    def builder(self) -> str:
        return "buildah"

    def cache_mounts_missing(self) -> str | None:
        if self._buildah is None:
            self._buildah = self._run("info", "--format", "{{.Host.BuildahVersion}}", timeout=60).stdout.strip()
        return buildah_lacks_mounts(self._buildah)

    def build(self, request: BuildRequest, on_line: LineSink | None = None) -> BuildOutput:
        # builds on one Podman storage take turns, so that what a stopped build leaves behind is known
        # to be its own (see _clean_stopped_build); no bound on the wait: each holder's build is bounded
        # by its own timeout, and a holder that dies lets go
        # Removals of images take the same turn (see _storage_turn), so buildah's storage race with them
        # (storage_race) is left only to removals made outside the plugin; those get the build again.
        def attempt() -> BuildOutput:
            with self._storage_turn(f"on this Podman storage before {request.tag}"):
                return self._build(request, on_line)

        return retry_storage_race(attempt, on_line)

    def _build(self, request: BuildRequest, on_line: LineSink | None) -> BuildOutput:
        # buildah 1.28 hands a file secret over empty when the environment has a variable of its name
        env = {k: v for k, v in os.environ.items() if k not in request.secrets}
        before = self._working_containers()
        built = run_build(
            "podman build",
            request,
            lambda iidfile, secrets: [*self._base(), "build", "--layers", *build_arguments(request, iidfile, secrets)],
            env=env,
            on_line=on_line,
            stopped=lambda: self._clean_stopped_build(before),
            hint=crun_hint,
        )
        return dataclasses.replace(built, image_id=normalise_id(built.image_id))

    def _working_containers(self) -> set[str]:
        """Ids of buildah's working containers (a build's stages; ``podman ps`` shows them with --external)."""
        done = self._run("ps", "-a", "--external", "--format", "json", check=False)
        try:
            listed = json.loads(done.stdout or "[]") if done.returncode == 0 else []
        except json.JSONDecodeError:
            return set()
        return {str(c["Id"]) for c in listed or [] if c.get("State") == "storage"}

    def _clean_stopped_build(self, before: set[str]) -> None:
        """Podman 4 leaves a stopped build's working containers behind, and the step they were running
        goes on: stop those steps and remove the containers that appeared since the build began (the
        plugin's builds on one storage take turns, so they are this build's; a build someone started by
        hand meanwhile could be hit too). Best effort: it never hides why the build stopped."""
        with contextlib.suppress(RustImageError):
            made = self._working_containers() - before
            if not made:
                return
            if not (self._url or self._connection):
                stop_run_steps({ident[:12] for ident in made})
            self._run("rm", "-f", *sorted(made), check=False)

    def remove_build_leftovers(self, labels: Mapping[str, str]) -> int:
        # buildah leaves each build's non-target stages behind as untagged images; they carry the
        # build's labels, so this session's can be told from anyone else's. `rmi` can fail for a moment
        # (an image still in use by a step another build is closing, a storage race): what is left is
        # listed again and removed again, and what still stays is said, never left in silence.
        args = ["images", "-q", "--no-trunc", "--filter", "dangling=true"]
        for key, value in labels.items():
            args += ["--filter", f"label={key}={value}"]
        removed = 0
        for attempt in range(LEFTOVER_TRIES):
            ids = sorted(set(self._run(*args).stdout.split()))
            if not ids:
                return removed
            if attempt:
                time.sleep(2 * attempt)
            with self._storage_turn("before removing build leftovers"):
                done = self._run("rmi", "-f", *ids, check=False, timeout=300)
            removed += len(ids) - len(set(self._run(*args).stdout.split()) & set(ids))
        left = sorted(set(self._run(*args).stdout.split()))
        if left:
            raise EngineError(
                f"{len(left)} untagged image(s) of this session could not be removed: {', '.join(i[:12] for i in left)}"
                f" ({explain(done.stderr) or 'podman rmi gave no reason'})"
            )
        return removed

"""Podman, driven through its CLI.

Why the CLI and not podman-py over an API socket (the decision is also in
docs/engines.md): the CLI is what Podman users have, rootful or rootless,
with no service to start, keep alive and stop; it honours ``CONTAINERS_CONF``,
``CONTAINER_HOST`` and named connections by itself; and ``podman build`` is
buildah, which the API's build endpoint only wraps. Every call is a short
subprocess with a timeout, and its stderr becomes the error message.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from pytest_rustimage.engines.cache_mounts import buildah_cache_folders, buildah_lacks_mounts, buildah_mounts
from pytest_rustimage.engines.common import (
    bind_address,
    build_arguments,
    container_entry,
    host_of,
    image_entry,
    imported_image_id,
    not_in_image,
    read_following_links,
    run_build,
)
from pytest_rustimage.engines.podman_runtime import (
    CRUN_HINT,
    CRUN_SIGNS,
    crun_hint,
    explain,
    retry_storage_race,
    stop_run_steps,
)
from pytest_rustimage.engines.podman_service import PodmanService
from pytest_rustimage.engines.protocol import (
    BuildOutput,
    BuildRequest,
    CacheMount,
    ContainerEntry,
    ImageEntry,
    LineSink,
    RunResult,
)
from pytest_rustimage.errors import (
    EngineError,
    EngineGone,
    EngineUnavailable,
    RunTimeout,
    RustImageError,
)
from pytest_rustimage.locks import exclusive, lock_folder, lock_path
from pytest_rustimage.names import normalise_id

LEFTOVER_TRIES = 3  # removals of a session's build leftovers before what stays is said

# CRUN_HINT and explain live in podman_runtime; they are this module's to import as well
__all__ = ["CRUN_HINT", "LOCAL", "PodmanEngine", "explain"]

LOCAL = "local podman"
_GONE_SIGNS = ("Cannot connect to Podman", "unable to connect to Podman")  # a remote engine went away


class PodmanEngine:
    """Podman through ``podman`` (local, or remote through ``CONTAINER_HOST`` or a connection)."""

    def __init__(self, cli: str = "podman", url: str | None = None, connection: str | None = None) -> None:
        self._cli = cli
        self._url = url or os.environ.get("CONTAINER_HOST") or None
        self._connection = connection or os.environ.get("CONTAINER_CONNECTION") or None
        self._buildah: str | None = None
        self._service = PodmanService(self._base())

    @property
    def name(self) -> str:
        return "podman"

    @property
    def endpoint(self) -> str:
        if self._url:
            return self._url
        if self._connection:
            return f"connection {self._connection}"
        conf = os.environ.get("CONTAINERS_CONF")
        return f"{LOCAL} ({self._cli}" + (f", CONTAINERS_CONF={conf})" if conf else ")")

    @property
    def builder(self) -> str:
        return "buildah"

    def cache_mounts_missing(self) -> str | None:
        if self._buildah is None:
            self._buildah = self._run("info", "--format", "{{.Host.BuildahVersion}}", timeout=60).stdout.strip()
        return buildah_lacks_mounts(self._buildah)

    @property
    def service_host(self) -> str:
        return host_of(self._url)

    def _base(self) -> list[str]:
        cmd = [self._cli]
        if self._url:
            cmd += ["--remote", "--url", self._url]
        elif self._connection:
            cmd += ["--connection", self._connection]
        return cmd

    def _run(self, *args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
        try:
            done = subprocess.run(
                [*self._base(), *args], capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
            )
        except FileNotFoundError as exc:
            raise EngineUnavailable("podman", self.endpoint, f"`{self._cli}` is not installed") from exc
        except subprocess.TimeoutExpired as exc:
            raise EngineError(f"`podman {' '.join(args[:2])}` did not answer within {timeout:g}s") from exc
        if done.returncode != 0:
            self._check_reachable(done.stderr)
            if check:
                raise EngineError(f"`podman {' '.join(args[:2])}` failed: {explain(done.stderr)}")
        return done

    def _check_reachable(self, stderr: str) -> None:
        """Raise a clear error when podman says its (remote) engine cannot be reached."""
        if any(sign in stderr for sign in _GONE_SIGNS):
            lines = [line for line in stderr.strip().splitlines() if line.startswith("Error:")] or [stderr.strip()]
            raise EngineGone("podman", self.endpoint, lines[-1])

    def ping(self) -> None:
        try:
            done = self._run("info", "--format", "{{.Host.OCIRuntime.Name}}", timeout=60, check=False)
        except EngineGone as exc:
            raise EngineUnavailable("podman", self.endpoint, exc.reason) from exc
        except EngineError as exc:
            raise EngineUnavailable("podman", self.endpoint, str(exc)) from exc
        if done.returncode != 0:
            raise EngineUnavailable("podman", self.endpoint, explain(done.stderr) or f"exit {done.returncode}")

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

    def _storage_turn(self, what: str) -> contextlib.AbstractContextManager[bool]:
        """The turn on this Podman storage that builds and the plugin's image removals take: buildah
        before 1.43 fails a build whose cache lookup meets an image removed meanwhile."""
        return exclusive(lock_path(lock_folder(), self.endpoint, "podman builds"), what=what)

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

    def image_id(self, ref: str) -> str | None:
        done = self._run("image", "inspect", "--format", "{{.Id}}", ref, check=False)
        return normalise_id(done.stdout.strip()) if done.returncode == 0 and done.stdout.strip() else None

    def inspect_raw(self, ref: str) -> Mapping[str, Any]:
        done = self._run("image", "inspect", ref)
        raw: list[dict[str, Any]] = json.loads(done.stdout)
        return raw[0]

    @contextlib.contextmanager
    def open_archive(self, ref: str) -> Iterator[IO[bytes]]:
        proc = subprocess.Popen(
            [*self._base(), "save", "--format", "docker-archive", ref],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
        )
        assert proc.stdout is not None and proc.stderr is not None
        try:
            yield proc.stdout
        finally:
            proc.stdout.close()
            _, err = proc.communicate(timeout=300)
        if proc.returncode not in (0, None, -13):  # -13: we stopped reading (SIGPIPE)
            raise EngineError(f"`podman save {ref}` failed: {err.decode(errors='replace').strip()}")

    def load_archive(self, path: Path) -> None:
        self._run("load", "-i", str(path), timeout=900)

    def run(
        self,
        image: str,
        command: Sequence[str],
        *,
        entrypoint: Sequence[str] | None = None,
        env: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
        timeout: float = 60.0,
    ) -> RunResult:
        name = f"rust-image-{uuid.uuid4().hex[:12]}"
        cmd = [*self._base(), "run", "--name", name, *self._options(entrypoint, env, labels), image, *command]
        shown = tuple(entrypoint or ()) + tuple(command)
        started = time.monotonic()
        try:
            done = subprocess.run(cmd, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as exc:
            output = (exc.stdout or b"").decode(errors="replace") + (exc.stderr or b"").decode(errors="replace")
            raise RunTimeout(image, shown, timeout, output) from exc
        finally:
            self._run("rm", "-f", "--ignore", name, check=False)
        stderr = done.stderr.decode(errors="replace")
        if done.returncode == 125:
            self._check_reachable(stderr)
        if done.returncode in (125, 126, 127) and any(sign in stderr for sign in CRUN_SIGNS):
            raise EngineError(f"podman could not run {image}: {explain(stderr)}")
        return RunResult(
            command=shown,
            exit_code=done.returncode,
            stdout=done.stdout.decode(errors="replace"),
            stderr=stderr,
            duration=time.monotonic() - started,
        )

    @staticmethod
    def _options(
        entrypoint: Sequence[str] | None, env: Mapping[str, str] | None, labels: Mapping[str, str] | None
    ) -> list[str]:
        options: list[str] = []
        if entrypoint is not None:
            options += ["--entrypoint", json.dumps(list(entrypoint))]
        for key, value in sorted((env or {}).items()):
            options += ["-e", f"{key}={value}"]
        for key, value in sorted((labels or {}).items()):
            options += ["--label", f"{key}={value}"]
        return options

    def read_file(self, image: str, path: str, labels: Mapping[str, str] | None = None) -> bytes:
        name = f"rust-image-{uuid.uuid4().hex[:12]}"
        options = self._options(["/nonexistent-rust-image-export"], None, labels)
        self._run("create", "--name", name, *options, image)

        def fetch(path: str) -> tuple[str, bytes]:  # a symbolic link is the tar's member
            done = subprocess.run(
                [*self._base(), "cp", f"{name}:{path}", "-"], capture_output=True, timeout=300, stdin=subprocess.DEVNULL
            )
            if done.returncode != 0:
                raise not_in_image(path, image, done.stderr.decode().strip())
            return "", done.stdout

        try:
            return read_following_links(image, path, fetch)
        finally:
            self._run("rm", "-f", "--ignore", name, check=False)

    def start(
        self,
        image: str,
        command: Sequence[str],
        *,
        entrypoint: Sequence[str] | None,
        env: Mapping[str, str] | None,
        labels: Mapping[str, str],
        ports: Sequence[int],
    ) -> str:
        bind = bind_address(self.service_host)
        publish = [option for port in ports for option in ("-p", f"{bind}::{port}/tcp")]
        name = f"rust-image-{uuid.uuid4().hex[:12]}"
        options = self._options(entrypoint, env, labels)
        done = self._run("run", "-d", "--name", name, *publish, *options, image, *command, check=False)
        if done.returncode != 0:
            self._run("rm", "-f", "--ignore", name, check=False)
            raise EngineError(f"podman could not start {image}: {explain(done.stderr)}")
        return name

    def published(self, container: str, port: int) -> int:
        out = self._run("port", container, f"{port}/tcp").stdout.strip().splitlines()
        if not out:
            raise EngineError(f"port {port}/tcp of container {container} is not published")
        return int(out[0].rsplit(":", 1)[1])

    def logs(self, container: str) -> str:
        done = self._run("logs", container, check=False)
        return done.stdout + done.stderr

    def state(self, container: str) -> tuple[bool, int | None]:
        out = self._run("inspect", "--format", "{{.State.Running}} {{.State.ExitCode}}", container).stdout.split()
        running = out[0] == "true"
        return running, None if running else int(out[1])

    def remove_container(self, container: str) -> None:
        self._run("rm", "-f", "--ignore", "--time", "5", container, check=False)

    def remove_containers(self, labels: Mapping[str, str]) -> int:
        args = ["ps", "-aq"]
        for key, value in labels.items():
            args += ["--filter", f"label={key}={value}"]
        ids = self._run(*args).stdout.split()
        if ids:
            self._run("rm", "-f", "--time", "5", *ids, check=False)
        return len(ids)

    def import_rootfs(self, tarball: Path, tag: str, changes: Sequence[str]) -> str:
        args = ["import"]
        for change in changes:
            args += ["--change", change]
        self._run(*args, str(tarball), tag, timeout=900)
        return imported_image_id(self.image_id(tag), tarball, tag)

    def remove_image(self, ref: str) -> None:
        with self._storage_turn(f"before removing {ref}"):
            self._run("rmi", "-f", ref, check=False)

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

    def list_images(self, label: str) -> list[ImageEntry]:
        items: list[dict[str, Any]] = json.loads(
            self._listing("images", "-a", "--format", "json", "--filter", f"label={label}") or "[]"
        )
        return [image_entry(item, dict.fromkeys(item.get("Names") or ())) for item in items]

    def image_layers(self) -> dict[str, tuple[str, ...]]:
        ids = list(dict.fromkeys(self._listing("images", "-a", "-q", "--no-trunc").split()))
        found: dict[str, tuple[str, ...]] = {}
        template = "{{.Id}} {{range .RootFS.Layers}}{{.}} {{end}}"
        for start in range(0, len(ids), 100):
            batch = ids[start : start + 100]
            done = self._run("image", "inspect", "--format", template, *batch, check=False)
            if done.returncode != 0:  # one of them went meanwhile: ask one by one
                done = subprocess.CompletedProcess(done.args, 0, "", "")
                for one in batch:
                    single = self._run("image", "inspect", "--format", template, one, check=False)
                    if single.returncode == 0:
                        done.stdout += single.stdout
            for line in done.stdout.splitlines():
                words = line.split()
                if words:
                    found[normalise_id(words[0])] = tuple(words[1:])
        return found

    def history_sizes(self, ref: str) -> tuple[int, ...]:
        history: list[dict[str, Any]] = json.loads(self._run("history", "--format", "json", ref).stdout or "[]")
        return tuple(int(entry.get("size") or 0) for entry in reversed(history))

    def list_containers(self, label: str) -> list[ContainerEntry]:
        items: list[dict[str, Any]] = json.loads(
            self._listing("ps", "-a", "--format", "json", "--filter", f"label={label}") or "[]"
        )
        return [container_entry(item) for item in items]

    def _listing(self, *args: str) -> str:
        """A listing's output. Podman fails a listing when an image or container it is looking at
        goes meanwhile (``image not known``), which another session's cleanup can cause: ask again."""
        for _ in range(4):
            done = self._run(*args, check=False)
            if done.returncode == 0:
                return done.stdout
            if not _gone(done.stderr):
                break
        raise EngineError(f"`podman {' '.join(args[:2])}` failed: {explain(done.stderr)}")

    def remove_unused_image(self, ref: str) -> None:
        with self._storage_turn(f"before removing {ref}"):
            done = self._run("rmi", ref, check=False, timeout=300)
        if done.returncode != 0 and not _gone(done.stderr):
            raise EngineError(f"podman refused to remove {ref}: {explain(done.stderr)}")

    def cache_mounts(self) -> list[CacheMount]:
        if self._url or self._connection:  # a remote engine's folders are not ours to see
            return []
        return buildah_mounts(buildah_cache_folders())

    def remove_cache_mount(self, mount: CacheMount) -> None:
        shutil.rmtree(mount.ref, ignore_errors=True)

    def remove_stopped_container(self, container: str) -> None:
        done = self._run("rm", container, check=False)
        if done.returncode != 0 and not _gone(done.stderr):
            raise EngineError(f"podman refused to remove container {container[:12]}: {explain(done.stderr)}")

    def api_endpoint(self) -> str:
        if self._url:  # a remote engine is reached at an API service already: the same one
            return self._url
        if self._connection:
            raise EngineError(
                f"podman connection {self._connection}: other tools need its API URL; set CONTAINER_HOST to it"
            )
        return self._service.url()

    def close(self) -> None:
        self._service.stop()


def _gone(stderr: str) -> bool:
    """Whether a failed ``rmi``/``rm`` failed only because the object does not exist (any more)."""
    text = stderr.lower()
    return "not known" in text or "no such" in text

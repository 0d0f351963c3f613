"""What the Docker and Podman engines share, so that each module holds only what is its engine's own.

Both hand builds to a CLI with the same flags and read its outcome the same way, both copy a file
out of an image as a one-member tar and follow its symbolic links, both turn their listings into
the same entries, and both publish service ports by the same rule. Nothing here talks to an engine:
:func:`run_build` runs the command an engine gives it, and the rest is plain data in, data or an
error out.
"""

from __future__ import annotations

import io
import posixpath
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from pytest_rustimage.engines.process import stream_process
from pytest_rustimage.engines.protocol import BuildOutput, BuildRequest, ContainerEntry, ImageEntry, LineSink
from pytest_rustimage.errors import BuildFailed, EngineError
from pytest_rustimage.names import normalise_id

LOCAL_HOST = "127.0.0.1"
IIDFILE_FOLDER_PREFIX = "rust-image-iid-"  # a build's private folder for its image id file and secrets
MAX_LINKS = 10  # symbolic links followed when a file is read out of an image

# --- services ---------------------------------------------------------------------------------


def host_of(url: str | None) -> str:
    """Where a service published by the engine at ``url`` is reached: its host for a remote
    (``tcp://``, ``ssh://``, ``http(s)://``) engine, else the loopback address."""
    parsed = urlparse(url or "")
    return parsed.hostname if parsed.scheme in ("tcp", "ssh", "http", "https") and parsed.hostname else LOCAL_HOST


def bind_address(host: str) -> str:
    """The address to publish ports on: loopback for a local engine, every address for a remote one."""
    return LOCAL_HOST if host == LOCAL_HOST else "0.0.0.0"


# --- builds -----------------------------------------------------------------------------------


def write_secrets(request: BuildRequest, folder: Path) -> list[str]:
    """Write each build secret to a private file in ``folder`` (outside the context); the
    ``--secret id=NAME,src=FILE`` options that hand them to the builder."""
    options = []
    for name, value in sorted(request.secrets.items()):
        path = folder / f"secret-{name}"
        path.touch(mode=0o600)
        path.write_text(value)
        options += ["--secret", f"id={name},src={path}"]
    return options


def build_arguments(request: BuildRequest, iidfile: Path, secrets: Sequence[str] = ()) -> list[str]:
    """What follows the builder's own words (``docker buildx build --load``, ``podman build --layers``):
    the Dockerfile, the tag, the image id file, the target, ``--no-cache``, the build args and labels
    (each sorted by key), the ``secrets`` options, and last the context."""
    cmd = ["-f", str(request.dockerfile), "-t", request.tag, "--iidfile", str(iidfile)]
    if request.target:
        cmd += ["--target", request.target]
    if request.no_cache:
        cmd.append("--no-cache")
    for key, value in sorted(request.build_args.items()):
        cmd += ["--build-arg", f"{key}={value}"]
    for key, value in sorted(request.labels.items()):
        cmd += ["--label", f"{key}={value}"]
    cmd += secrets
    cmd.append(str(request.context))
    return cmd


def run_build(
    command: str,
    request: BuildRequest,
    argv: Callable[[Path, list[str]], list[str]],
    *,
    env: Mapping[str, str],
    on_line: LineSink | None,
    stopped: Callable[[], None] | None = None,
    hint: Callable[[str], str] | None = None,
) -> BuildOutput:
    """Run the build ``argv(iidfile, secret options)`` and stream its log to ``on_line``; the image id
    as the builder wrote it. The id file and the secrets live in a private folder outside the context,
    which may be the user's own folder. ``stopped()`` runs when the build was stopped (interrupted or
    out of time) before the error goes on; failures as :func:`built_image_id` says (``command``, ``hint``)."""
    with tempfile.TemporaryDirectory(prefix=IIDFILE_FOLDER_PREFIX) as tmp:
        iidfile = Path(tmp) / "iid"
        cmd = argv(iidfile, write_secrets(request, Path(tmp)))
        started = time.monotonic()
        try:
            outcome = stream_process(cmd, env=env, timeout=request.timeout, on_line=on_line)
        except BaseException:  # interrupted: the build was stopped
            if stopped is not None:
                stopped()
            raise
        duration = time.monotonic() - started
        if outcome[2] and stopped is not None:  # out of time: stopped as well
            stopped()
        image_id = built_image_id(command, request, outcome, iidfile, hint)
    return BuildOutput(image_id=image_id, log=outcome[1], duration=duration)


def built_image_id(
    command: str,
    request: BuildRequest,
    outcome: tuple[int, str, bool],
    iidfile: Path,
    hint: Callable[[str], str] | None = None,
) -> str:
    """The image id (as the builder wrote it) of a build that ran as ``command`` (``docker build``),
    from its ``outcome`` (exit code, log, timed out) and the id file it was to write.

    :class:`BuildFailed` with the log when it ran out of time, failed or wrote no id; ``hint(log)``
    is added to the message of a failure (not of a timeout)."""
    code, log, timed_out = outcome
    if timed_out:
        raise BuildFailed(f"the build did not finish within {request.timeout:g}s and was stopped", log, timed_out=True)
    if code != 0 or not iidfile.exists():
        raise BuildFailed(f"`{command}` exited with code {code}{hint(log) if hint else ''}", log)
    return iidfile.read_text().strip()


# --- images -----------------------------------------------------------------------------------


def not_in_image(path: str, image: str, detail: str | None = None) -> EngineError:
    """The error for a file that is not there; ``detail`` is the engine's own word, when it has one."""
    return EngineError(f"{path} does not exist in image {image}" + (f": {detail}" if detail is not None else ""))


def read_following_links(image: str, path: str, fetch: Callable[[str], tuple[str, bytes]]) -> bytes:
    """The bytes of the file at ``path`` in ``image``, following symbolic links (at most :data:`MAX_LINKS`).

    ``fetch(path)`` copies one path out of the image: it returns ``(target, b"")`` when the engine says
    by itself that the path is a symbolic link to ``target``, else ``("", tar)`` with the tar the engine
    made of it, whose one member may be a symbolic link as well. ``fetch`` raises :func:`not_in_image`
    when the path is not there. Relative link targets are taken from the link's folder."""
    for _ in range(MAX_LINKS):
        link, data = fetch(path)
        if not link:
            link, content = tar_member(data)
            if not link:
                if content is None:
                    raise EngineError(f"{path} in image {image} is not a regular file")
                return content
        path = posixpath.normpath(posixpath.join(posixpath.dirname(path), link))
    raise EngineError(f"{path} in image {image}: too many levels of symbolic links")


def tar_member(data: bytes) -> tuple[str, bytes | None]:
    """The first member of a tar: ``(target, None)`` for a symbolic link, ``("", bytes)`` for a
    regular file, and ``("", None)`` for anything else (a folder, a device) or an empty tar."""
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        member = tar.next()
        if member is not None and member.issym():
            return member.linkname, None
        handle = tar.extractfile(member) if member else None
        return "", handle.read() if handle is not None else None


def imported_image_id(image_id: str | None, tarball: Path, tag: str) -> str:
    """The id of the image an import of ``tarball`` made as ``tag`` (``image_id`` is what the engine
    then says ``tag`` is), or :class:`EngineError` when there is none."""
    if image_id is None:
        raise EngineError(f"importing {tarball} as {tag} produced no image")
    return image_id


# --- listings ---------------------------------------------------------------------------------


def image_entry(item: Mapping[str, Any], tags: Iterable[str]) -> ImageEntry:
    """An image from one entry of the engine's listing (``Id``, ``Created``, ``Labels`` are named alike
    by Docker's API and ``podman images --format json``); ``tags`` as the engine spells them."""
    return ImageEntry(
        id=normalise_id(str(item["Id"])),
        tags=tuple(tags),
        created=float(item.get("Created") or 0),
        labels=dict(item.get("Labels") or {}),
    )


def container_entry(item: Mapping[str, Any]) -> ContainerEntry:
    """A container from one entry of the engine's listing (Docker's API and ``podman ps --format json``
    agree on the names)."""
    return ContainerEntry(
        id=str(item["Id"]),
        image_id=normalise_id(str(item.get("ImageID") or "")),
        created=float(item.get("Created") or 0),
        state=str(item.get("State") or ""),
        labels=dict(item.get("Labels") or {}),
    )

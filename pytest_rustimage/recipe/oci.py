"""OCI labels (``org.opencontainers.image.*``) for a crate's image.

``source``: the package's ``repository`` from Cargo.toml, else the git remote ``origin`` (made an
https-like URL without credentials); ``revision``: the HEAD commit of the crate's repository;
``created``: RFC 3339 of ``SOURCE_DATE_EPOCH`` when set, else of the HEAD commit's time, else of
now; ``title``, ``version``, ``licenses``, ``description`` from the package's manifest.

:func:`labels` is pure; :func:`git_facts` runs ``git``; :func:`crate_labels` puts them together.
Which values enter the image's input digest, and why, is in docs/decisions.md.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pytest_rustimage.crate import Crate, load_toml
from pytest_rustimage.errors import ConfigError, CrateError

PREFIX = "org.opencontainers.image."
SOURCE = f"{PREFIX}source"
REVISION = f"{PREFIX}revision"
CREATED = f"{PREFIX}created"
TITLE = f"{PREFIX}title"
VERSION = f"{PREFIX}version"
LICENSES = f"{PREFIX}licenses"
DESCRIPTION = f"{PREFIX}description"
NOT_IN_DIGEST = frozenset({REVISION, CREATED})  # a new commit with the same inputs reuses the image

_SCP_LIKE = re.compile(r"^(?:.*@)?(?P<host>[^@/:\s]+):(?!//)(?P<path>[^@]+)$")  # [user[:secret]@]host:path
_WINDOWS_PATH = re.compile(r"^[A-Za-z]:[\\/]")
_REMOTE_SCHEMES = {"http": "http", "https": "https", "ssh": "https", "git": "https", "git+ssh": "https"}


@dataclass(frozen=True)
class GitFacts:
    commit: str
    commit_time: int  # committer time, seconds since the epoch
    origin: str | None  # the remote ``origin`` URL as configured (may carry credentials)


def public_url(url: str) -> str | None:
    """``url`` as an https-like URL without user, password, query or fragment; None for a local path.

    ``git@host:owner/repo.git`` and ``ssh://git@host:22/owner/repo.git`` become
    ``https://host/owner/repo.git``; ``https://user:token@host/x.git`` becomes ``https://host/x.git``.
    """
    url = url.strip()
    if not url or url.startswith(("/", ".", "~")) or _WINDOWS_PATH.match(url):
        return None
    if "://" not in url:
        scp = _SCP_LIKE.match(url)
        return f"https://{scp['host']}/{scp['path'].lstrip('/')}" if scp else None
    try:
        parsed = urlsplit(url)
        host = parsed.hostname
        port = parsed.port
    except ValueError:
        return None
    scheme = _REMOTE_SCHEMES.get(parsed.scheme.lower())
    if scheme is None or not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    keep_port = port and scheme == parsed.scheme.lower()  # an ssh port means nothing to https
    where = f"{host}:{port}" if keep_port else host
    return f"{scheme}://{where}{parsed.path}"


def rfc3339(seconds: float) -> str:
    return datetime.fromtimestamp(int(seconds), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def source_date_epoch(value: str | None) -> int | None:
    """``SOURCE_DATE_EPOCH`` as seconds, None when unset or empty; an error when it is not a number."""
    if value is None or not value.strip():
        return None
    if not value.strip().isdigit():
        raise ConfigError(f"SOURCE_DATE_EPOCH must be a whole number of seconds since 1970, not {value!r}")
    return int(value.strip())


_SKIPPED = frozenset({"target", ".git"})  # build output and history: not the sources' time


def source_epoch(root: Path, env: Mapping[str, str] | None = None) -> int:
    """The time a generated build passes as ``SOURCE_DATE_EPOCH`` (docs/decisions.md, reproducible
    builds): the environment's ``SOURCE_DATE_EPOCH``, else the HEAD commit's time of the repository
    holding ``root``, else the newest modification time of its files (outside ``target/`` and ``.git``)."""
    env = os.environ if env is None else env
    given = source_date_epoch(env.get("SOURCE_DATE_EPOCH"))
    if given is not None:
        return given
    return _source_epoch(str(root.resolve()))


@functools.cache
def _source_epoch(root: str) -> int:
    facts = git_facts(Path(root))
    if facts is not None:
        return facts.commit_time
    newest = 0.0
    for folder, dirs, files in os.walk(root):
        dirs[:] = [name for name in dirs if name not in _SKIPPED]
        for name in files:
            with contextlib.suppress(OSError):
                newest = max(newest, os.lstat(os.path.join(folder, name)).st_mtime)
    return int(newest)


def _field(package: Mapping[str, Any], workspace: Mapping[str, Any], key: str) -> str | None:
    """A ``[package]`` string field, following ``key.workspace = true`` to ``[workspace.package]``."""
    value = package.get(key)
    if isinstance(value, Mapping) and value.get("workspace") is True:
        value = workspace.get(key)
    return " ".join(value.split()) if isinstance(value, str) and value.strip() else None


def labels(
    package: Mapping[str, Any],
    workspace_package: Mapping[str, Any],
    git: GitFacts | None,
    *,
    epoch: int | None,
    now: float,
) -> dict[str, str]:
    """The OCI labels from a manifest's ``[package]`` (and the root's ``[workspace.package]``), the git
    facts and the time; keys whose value is unknown are left out."""
    found: dict[str, str | None] = {
        TITLE: _field(package, workspace_package, "name"),
        VERSION: _field(package, workspace_package, "version"),
        LICENSES: _field(package, workspace_package, "license"),
        DESCRIPTION: _field(package, workspace_package, "description"),
    }
    repository = _field(package, workspace_package, "repository")
    source = public_url(repository) if repository else None
    if source is None and git is not None and git.origin:
        source = public_url(git.origin)
    found[SOURCE] = source
    found[REVISION] = git.commit if git is not None else None
    if epoch is not None:
        found[CREATED] = rfc3339(epoch)
    elif git is not None:
        found[CREATED] = rfc3339(git.commit_time)
    else:
        found[CREATED] = rfc3339(now)
    return {key: value for key, value in found.items() if value}


def _git(folder: Path, *args: str) -> str | None:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0"}
    try:
        done = subprocess.run(
            ["git", "-C", str(folder), *args],
            capture_output=True,
            text=True,
            timeout=30,
            stdin=subprocess.DEVNULL,
            env=env,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def git_facts(folder: Path) -> GitFacts | None:
    """HEAD's commit and time and the ``origin`` URL of the git repository holding ``folder``; None
    when it is not in one (or git is missing, or the repository has no commit yet)."""
    head = _git(folder, "log", "-1", "--format=%H %ct")
    if not head or len(head.split()) != 2:
        return None
    commit, when = head.split()
    origin = _git(folder, "config", "--get", "remote.origin.url")
    return GitFacts(commit=commit, commit_time=int(when), origin=origin or None)


def crate_labels(
    crate: Crate, package: str, *, env: Mapping[str, str] | None = None, now: float | None = None
) -> dict[str, str]:
    """The OCI labels for the image of ``package`` (a package of ``crate``)."""
    env = os.environ if env is None else env
    epoch = source_date_epoch(env.get("SOURCE_DATE_EPOCH"))
    manifest = next((p.manifest_path for p in crate.packages if p.name == package), crate.manifest_path)
    try:
        package_table = _table(load_toml(manifest), "package")
        root = crate.root / "Cargo.toml"
        workspace_table = _table(load_toml(root), "workspace", "package") if root.is_file() else {}
    except CrateError:
        package_table, workspace_table = {"name": package}, {}
    return labels(
        package_table,
        workspace_table,
        git_facts(crate.root),
        epoch=epoch,
        now=time.time() if now is None else now,
    )


def _table(doc: Mapping[str, Any], *keys: str) -> Mapping[str, Any]:
    node: Any = doc
    for key in keys:
        node = node.get(key) if isinstance(node, Mapping) else None
    return node if isinstance(node, Mapping) else {}

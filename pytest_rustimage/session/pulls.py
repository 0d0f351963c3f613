"""A build that failed because a base image could not be pulled: which image, why, and what to do.

Read from the build's log alone (pure). The builders say it differently:

* BuildKit: ``#3 [internal] load metadata for docker.io/library/rust:1-bookworm`` then
  ``#3 ERROR: failed to do request: Head "https://…": dial tcp: lookup … no such host``;
* buildah (``podman build``): ``Error: creating build container: initializing source
  docker://rust:1-bookworm: pinging container registry …: … no such host``, or
  ``short-name "rust:1-bookworm" did not resolve to an alias and no unqualified-search registries
  are defined``;
* the legacy Docker builder: ``Step 1/9 : FROM rust:1-bookworm`` then ``Get "https://…": dial tcp:
  … no such host`` or ``pull access denied for rust, repository does not exist …``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

_METADATA = re.compile(r"^#(\d+) \[internal\] load metadata for (\S+)$")
_BUILDKIT_ERROR = re.compile(r"^#(\d+) ERROR: (.*)$")
_BUILDAH_SOURCE = re.compile(r"initializing source docker://([^:\s]+(?::[^:\s]+)?): (.*)$")
_SHORT_NAME = re.compile(r'short-name "([^"]+)" did not resolve to an alias')
_LEGACY_FROM = re.compile(r"^Step \d+/\d+ : FROM (\S+)", re.IGNORECASE)
_LEGACY_ERROR = re.compile(
    r"(Get \"?https?://\S+: .*|pull access denied for .*|manifest for \S+ not found.*|"
    r"error pulling image configuration: .*|toomanyrequests: .*)$"
)

# what a registry error says, in words a person acts on (first match wins)
_WHY = (
    ("no such host", "the registry's name does not resolve (no DNS, no network or no registry here)"),
    ("server misbehaving", "the registry's name does not resolve (no DNS, no network or no registry here)"),
    ("connection refused", "the registry refused the connection"),
    ("network is unreachable", "the network is unreachable"),
    ("i/o timeout", "the registry did not answer in time"),
    ("timeout", "the registry did not answer in time"),
    ("x509", "the registry's TLS certificate is not trusted"),
    ("certificate", "the registry's TLS certificate is not trusted"),
    ("unauthorized", "the registry refused: not authorised (log in, or check the image name)"),
    ("authentication required", "the registry refused: not authorised (log in, or check the image name)"),
    ("denied", "the registry refused: access denied (log in, or check the image name)"),
    ("toomanyrequests", "the registry refused: too many requests (rate limit)"),
    ("manifest unknown", "the registry has no such image or tag"),
    ("not found", "the registry has no such image or tag"),
)


@dataclass(frozen=True)
class PullFailure:
    image: str
    why: str  # in a person's words
    detail: str  # the builder's own words

    def advice(self) -> str:
        """One line: what could not be pulled and why, then what to do."""
        return (
            f"could not pull the base image {self.image}: {self.why}. Without a registry, make local base "
            "images with `python -m pytest_rustimage bases` and use them with `rust_image_bases = local` "
            "(or --rust-image-bases=local); or set rust_image_builder and rust_image_runtime to a mirror's images"
        )


def _why(detail: str) -> str:
    lowered = detail.lower()
    for sign, words in _WHY:
        if sign in lowered:
            return words
    return detail.strip()[:200]


def _expand(image: str, args: Mapping[str, str]) -> str:
    """``${BUILDER_IMAGE}`` (as the legacy builder echoes a FROM) as the build arg it names."""
    return re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), image)


def pull_failure(log: str, args: Mapping[str, str] | None = None) -> PullFailure | None:
    """The base image a failed build could not pull, or None when the log shows no such failure.

    ``args``: the build args, for a FROM that names its image by one."""
    found = _find(log)
    if found is None or not args:
        return found
    return PullFailure(_expand(found.image, args), found.why, found.detail)


def _find(log: str) -> PullFailure | None:
    lines = [line.rstrip() for line in log.splitlines()]
    pulling: dict[str, str] = {}  # BuildKit step number -> the image it loads
    legacy_from = ""
    for line in lines:
        head = _METADATA.match(line)
        if head:
            pulling[head.group(1)] = head.group(2)
            continue
        error = _BUILDKIT_ERROR.match(line)
        if error and error.group(1) in pulling:
            return PullFailure(pulling[error.group(1)], _why(error.group(2)), error.group(2))
        short = _SHORT_NAME.search(line)
        if short:
            why = "it is a short name and the registries configuration has no unqualified-search registries"
            return PullFailure(short.group(1), why, line.strip())
        source = _BUILDAH_SOURCE.search(line)
        if source:
            return PullFailure(source.group(1), _why(source.group(2)), source.group(2))
        step = _LEGACY_FROM.match(line)
        if step:
            legacy_from = step.group(1)
            continue
        failed = _LEGACY_ERROR.search(line)
        if failed and legacy_from:
            return PullFailure(legacy_from, _why(failed.group(1)), failed.group(1))
        if line.startswith("Step ") or line.startswith(" ---> "):
            legacy_from = ""  # a later step's errors are not the pull's
    return None

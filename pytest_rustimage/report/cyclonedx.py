"""A CycloneDX 1.6 JSON SBOM of one image's binary, from the dependency list ``cargo auditable`` put in it.

What a consumer (a scanner such as Grype or Trivy, Dependency-Track) expects, and so what we write:

* **Subject** (``metadata.component``): the image, type ``container``: ``name`` is the image's tag, as
  the user refers to it; ``version`` is the image id (``sha256:...``), the one name that cannot move to
  other bytes, as container SBOM tools do; the id is also its ``SHA-256`` hash and its ``bom-ref``.
  The binary is one component of type ``application`` (the root package: name, version, the binary's
  sha256, its path in the image as a property); the image depends on it, and it on its crates.
* **Crates**: one ``library`` component each. Only a crate from crates.io gets a purl
  (``pkg:cargo/NAME@VERSION``): a purl of type ``cargo`` means crates.io to scanners, so a path, git or
  other-registry crate of the same name would be matched with crates.io advisories it does not share;
  its source word is kept as a property instead. Build dependencies (build scripts, proc-macros and
  what they use) are scope ``excluded``: they made the binary but are not in it; runtime ones
  ``required``.
* **Dependencies**: the list's own graph, one entry per component.
* **Deterministic**: no timestamp unless one is given, components in the list's order, and a
  ``serialNumber`` that is a name-based UUID (version 5) of a digest of the rest of the document, so the same binary
  in the same image gives the same file byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pytest_rustimage import __version__
from pytest_rustimage.inspect.audit import AuditData, AuditedPackage
from pytest_rustimage.inspect.facts import BinaryFacts
from pytest_rustimage.names import normalise_id

SPEC_VERSION = "1.6"
TOOL_NAME = "pytest-rustimage"
_PROPERTY = "pytest-rustimage"  # namespace of our properties
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://pypi.org/project/pytest-rustimage/#cyclonedx")


def purl(package: AuditedPackage) -> str | None:
    """The package URL of a crate from crates.io, ``pkg:cargo/NAME@VERSION``; None for other sources."""
    if package.source != "crates.io":
        return None
    return f"pkg:cargo/{package.name}@{package.version}"


def sbom_document(
    *,
    image_tag: str,
    image_id: str,
    binary: BinaryFacts,
    audit: AuditData,
    timestamp: datetime | None = None,
) -> dict[str, Any]:
    """The CycloneDX document of ``binary`` in the image ``image_tag`` (id ``image_id``), its components
    from ``audit``; ``timestamp`` (UTC) is written only when given."""
    image_ref = normalise_id(image_id)
    refs = _refs(audit)
    root = audit.root_package
    app_ref = f"binary:{binary.path}"
    app: dict[str, Any] = {
        "type": "application",
        "bom-ref": app_ref,
        "name": root.name if root is not None else binary.name,
        "hashes": [{"alg": "SHA-256", "content": binary.sha256}],
        "properties": [
            {"name": f"{_PROPERTY}:binary:path", "value": binary.path},
            {"name": f"{_PROPERTY}:cargo-auditable:format", "value": str(audit.format)},
        ],
    }
    if root is not None:
        app["version"] = root.version
    components = [app] + [_component(p, refs[i]) for i, p in enumerate(audit.packages) if not p.root]
    dependencies = [{"ref": image_ref, "dependsOn": [app_ref]}]
    for index, package in enumerate(audit.packages):
        depends = sorted({refs[d] for d in package.dependencies})
        dependencies.append({"ref": app_ref if package.root else refs[index], "dependsOn": depends})
    if root is None:  # no root marked: the binary is taken to depend on every crate nothing else needs
        needed = {d for p in audit.packages for d in p.dependencies}
        tops = sorted(refs[i] for i in range(len(audit.packages)) if i not in needed)
        dependencies.insert(1, {"ref": app_ref, "dependsOn": tops})
    metadata: dict[str, Any] = {}
    if timestamp is not None:
        metadata["timestamp"] = timestamp.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    metadata["tools"] = {"components": [{"type": "application", "name": TOOL_NAME, "version": __version__}]}
    metadata["component"] = {
        "type": "container",
        "bom-ref": image_ref,
        "name": image_tag,
        "version": image_ref,
        "hashes": _image_hashes(image_ref),
    }
    body: dict[str, Any] = {
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "version": 1,
        "metadata": metadata,
        "components": components,
        "dependencies": dependencies,
    }
    serial = uuid.uuid5(_NAMESPACE, hashlib.sha256(sbom_json(body).encode()).hexdigest())
    return {"bomFormat": "CycloneDX", "specVersion": SPEC_VERSION, "serialNumber": serial.urn, **body}


def sbom_json(document: Mapping[str, Any]) -> str:
    """The document as the JSON text written to files (two-space indent, a final newline)."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def write_sbom(path: Path, document: Mapping[str, Any]) -> None:
    """Write ``document`` to ``path`` (its folder made if missing), whole or not at all: to a file beside
    it first, then renamed over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        part.write_text(sbom_json(document), encoding="utf-8")
        os.replace(part, path)
    finally:
        part.unlink(missing_ok=True)


def _refs(audit: AuditData) -> list[str]:
    """A unique ``bom-ref`` per package: ``SOURCE:NAME@VERSION``, numbered when that repeats."""
    refs: list[str] = []
    seen: set[str] = set()
    for index, package in enumerate(audit.packages):
        ref = f"{package.source}:{package.name}@{package.version}"
        if ref in seen:
            ref = f"{ref}#{index}"
        seen.add(ref)
        refs.append(ref)
    return refs


def _component(package: AuditedPackage, ref: str) -> dict[str, Any]:
    component: dict[str, Any] = {
        "type": "library",
        "bom-ref": ref,
        "name": package.name,
        "version": package.version,
        "scope": "required" if package.kind == "runtime" else "excluded",
    }
    identifier = purl(package)
    if identifier is not None:
        component["purl"] = identifier
    component["properties"] = [
        {"name": f"{_PROPERTY}:cargo:source", "value": package.source},
        {"name": f"{_PROPERTY}:cargo:kind", "value": package.kind},
    ]
    return component


def _image_hashes(image_ref: str) -> list[dict[str, str]]:
    algorithm, _, digest = image_ref.partition(":")
    if algorithm == "sha256" and len(digest) == 64:
        return [{"alg": "SHA-256", "content": digest}]
    return []

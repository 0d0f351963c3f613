"""The CycloneDX SBOM of a real auditable binary: valid against the CycloneDX 1.6 schema (the CycloneDX
project's own validator), faithful to the binary's list, and the same bytes on every run."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from pytest_rustimage import __version__
from pytest_rustimage.inspect.audit import AuditData
from pytest_rustimage.inspect.elf import inspect_elf
from pytest_rustimage.inspect.facts import BinaryFacts
from pytest_rustimage.report.cyclonedx import purl, sbom_document, sbom_json, write_sbom

if TYPE_CHECKING:
    from tests.unit.conftest import AuditableBuild

IMAGE_ID = "sha256:" + hashlib.sha256(b"an image config").hexdigest()
VALIDATOR = JsonStrictValidator(SchemaVersion.V1_6)


@pytest.fixture
def probe(probe_build: AuditableBuild) -> tuple[BinaryFacts, AuditData]:
    _, binary = probe_build.need()
    data = binary.read_bytes()
    elf = inspect_elf(data)
    assert elf.audit is not None
    facts = BinaryFacts("sbom-probe", "/usr/local/bin/sbom-probe", len(data), hashlib.sha256(data).hexdigest(), elf)
    return facts, elf.audit


def document(probe: tuple[BinaryFacts, AuditData], **changes: Any) -> dict[str, Any]:
    binary, audit = probe
    arguments: dict[str, Any] = {"image_tag": "probe:1", "image_id": IMAGE_ID, "binary": binary, "audit": audit}
    return sbom_document(**{**arguments, **changes})


def test_the_document_is_valid_cyclonedx_1_6(probe: tuple[BinaryFacts, AuditData]) -> None:
    text = sbom_json(document(probe))
    assert VALIDATOR.validate_str(text) is None
    stamped = sbom_json(document(probe, timestamp=datetime(2026, 12, 6, 17, 0, tzinfo=timezone(timedelta(hours=1)))))
    assert VALIDATOR.validate_str(stamped) is None
    assert json.loads(stamped)["metadata"]["timestamp"] == "2026-12-06T16:00:00Z"


def test_the_validator_would_refuse_a_broken_document(probe: tuple[BinaryFacts, AuditData]) -> None:
    broken = document(probe)
    broken["components"][1]["scope"] = "runtime"  # not a CycloneDX scope
    assert VALIDATOR.validate_str(sbom_json(broken)) is not None


def test_the_subject_is_the_image_and_the_tool_is_named(probe: tuple[BinaryFacts, AuditData]) -> None:
    meta = document(probe)["metadata"]
    assert meta["component"] == {
        "type": "container",
        "bom-ref": IMAGE_ID,
        "name": "probe:1",
        "version": IMAGE_ID,
        "hashes": [{"alg": "SHA-256", "content": IMAGE_ID.removeprefix("sha256:")}],
    }
    assert meta["tools"] == {
        "components": [{"type": "application", "name": "pytest-rustimage", "version": __version__}]
    }
    assert "timestamp" not in meta


def test_each_crate_is_a_component_with_a_purl_only_from_crates_io(probe: tuple[BinaryFacts, AuditData]) -> None:
    binary, audit = probe
    components = document(probe)["components"]
    app, crates = components[0], components[1:]
    assert (app["type"], app["name"], app["version"]) == ("application", "sbom-probe", "0.3.1")
    assert app["hashes"] == [{"alg": "SHA-256", "content": binary.sha256}]
    assert [(c["name"], c["version"]) for c in crates] == [(p.name, p.version) for p in audit.crates()]
    by_name = {c["name"]: c for c in crates}
    itoa = by_name["itoa"]
    assert itoa["purl"] == f"pkg:cargo/itoa@{itoa['version']}" and itoa["scope"] == "required"
    assert by_name["syn"]["scope"] == "excluded"  # a build dependency: not in the binary
    assert "purl" not in by_name["probe-local"]  # a path crate is not crates.io's probe-local
    assert {"name": "pytest-rustimage:cargo:source", "value": "local"} in by_name["probe-local"]["properties"]
    assert all(c["type"] == "library" for c in crates)
    assert len({c["bom-ref"] for c in components}) == len(components)


def test_the_dependencies_are_the_lists_graph(probe: tuple[BinaryFacts, AuditData]) -> None:
    _, audit = probe
    doc = document(probe)
    names = {c["bom-ref"]: c["name"] for c in doc["components"]}
    names[IMAGE_ID] = "(image)"
    graph = {names[d["ref"]]: sorted(names[r] for r in d["dependsOn"]) for d in doc["dependencies"]}
    expected = {p.name: sorted(audit.packages[i].name for i in p.dependencies) for p in audit.packages}
    assert graph == {"(image)": ["sbom-probe"], **expected}


def test_two_runs_write_the_same_bytes_and_another_image_another_serial(
    probe: tuple[BinaryFacts, AuditData], tmp_path: Path
) -> None:
    first, second = tmp_path / "a" / "sbom.json", tmp_path / "b.json"
    write_sbom(first, document(probe))
    write_sbom(second, document(probe))
    assert first.read_bytes() == second.read_bytes() == sbom_json(document(probe)).encode()
    assert sorted(p.name for p in first.parent.iterdir()) == ["sbom.json"]  # no part file left
    serial = json.loads(first.read_text())["serialNumber"]
    assert serial.startswith("urn:uuid:")
    other = document(probe, image_id="sha256:" + "0" * 64)["serialNumber"]
    assert other != serial


def test_a_list_without_a_root_still_makes_a_valid_document(probe: tuple[BinaryFacts, AuditData]) -> None:
    _, audit = probe
    rootless = AuditData(tuple(replace(p, root=False) for p in audit.packages), audit.format)
    doc = document(probe, audit=rootless)
    assert VALIDATOR.validate_str(sbom_json(doc)) is None
    app = doc["components"][0]
    assert app["name"] == "sbom-probe" and "version" not in app  # named after the binary
    tops = next(d["dependsOn"] for d in doc["dependencies"] if d["ref"] == app["bom-ref"])
    assert [ref.split(":", 1)[1] for ref in tops] == ["sbom-probe@0.3.1"]


def test_purl_is_only_for_crates_io(probe: tuple[BinaryFacts, AuditData]) -> None:
    _, audit = probe
    local = next(p for p in audit.packages if p.source == "local")
    assert purl(local) is None
    assert purl(replace(local, source="crates.io")) == f"pkg:cargo/{local.name}@{local.version}"

"""The JSON report rendered from typed records: its schema (docs/report.schema.json), and no engine call."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from pytest_rustimage.inspect.audit import AuditData, AuditedPackage
from pytest_rustimage.inspect.base import BaseFacts
from pytest_rustimage.inspect.facts import ImageConfig, Layer
from pytest_rustimage.plugin.resolve import specs_for
from pytest_rustimage.plugin.settings import Settings
from pytest_rustimage.report import records, summary
from pytest_rustimage.report.baseline import SizeVerdict
from pytest_rustimage.report.image_record import Sizes, from_json
from pytest_rustimage.session.image import BuildRecord, RustImage
from tests.report_schema import SCHEMA, validate_report
from tests.unit.plugin.test_settings import make_crate
from tests.unit.report.records_example import complete, record

FULL = complete(
    {
        "size": 3 << 20,
        "layers": [{"size": 1 << 20}, {"size": 2 << 20, "created_by": "COPY hello"}],
        "own_bytes": 2 << 20,
        "base": {"name": "debian:bookworm-slim", "id": "sha256:2", "layers": 1, "size": 1 << 20},
        "binary_facts": {
            "loads": ["libssl.so.3 is not in the image"],
            "version_needs": {"libc.so.6": ["GLIBC_2.34"]},
            "floor": ["GLIBC_2.34"],
            "runtimes": [
                {
                    "name": "bullseye-slim",
                    "ref": "debian:bullseye-slim",
                    "loads": False,
                    "reason": "GLIBC_2.34 > 2.31",
                    "problems": ["/usr/lib/x86_64-linux-gnu/libc.so.6 lacks GLIBC_2.34 needed by /app"],
                    "glibc": "2.31",
                },
                {"name": "x:y", "ref": "x:y", "loads": None, "reason": "not held", "problems": [], "glibc": None},
            ],
        },
        "baseline": {"size": None, "own": None, "change": None, "status": "new", "base_changed": None},
        "cache": {
            "deps_steps": [{"stage": "deps", "instruction": "RUN cargo chef cook", "crates": 3, "cached_after": True}],
            "hidden": [{"build": "after", "stage": "b", "instruction": "RUN cargo build -q", "reasons": ["-q"]}],
            "baseline_seconds": 12.5,
            "edits": [
                {"own_recompiled": ["hello v0.1.0"], "rerun_steps": ["[build] RUN cargo build"]},
                {
                    "kind": "library",
                    "applicable": False,
                    "reason": "not applicable: a single package, not a workspace: there is no member to edit",
                    "edit": None,
                    "deps_reused": None,
                    "rebuild_seconds": None,
                },
                {"kind": "member", "gated": False, "deps_reused": False, "problems": ["2 third-party crate(s)"]},
            ],
        },
        "build": {"builds": 1, "sessions": 2},
        "needs": [
            {
                "kind": "CA certificates",
                "evidence": "the binary names SSL_CERT_FILE",
                "looked_for": ["/etc/ssl/certs/ca-certificates.crt"],
                "found_at": None,
                "fix": "add a CA bundle",
            },
            {"kind": "shell", "evidence": "CMD", "looked_for": ["/bin/sh"], "found_at": "/bin/sh", "fix": "exec form"},
        ],
        "reproducible": {"identical": False, "summary": "the binary differs from a second build"},
    }
)


def rendered(*images: dict[str, Any]) -> dict[str, Any]:
    return dict(json.loads(records.render([from_json(image) for image in images])))


def test_a_report_of_every_kind_of_record_matches_the_schema() -> None:
    minimal = complete({"build": {"builds": 1, "sessions": 1}, "error": "the archive could not be read"})
    report = validate_report(rendered(FULL, minimal))
    assert report["format"] == records.FORMAT == 1
    assert report["images"] == [FULL, minimal]  # read back and written again: the same JSON


def test_the_schema_names_every_key_a_record_writes_and_no_other() -> None:
    defs = json.loads(SCHEMA.read_text())["$defs"]
    written = rendered(FULL)["images"][0]
    assert set(defs["image"]["properties"]) == set(written) | {"error"}
    for part in ("build", "base", "config", "binary_facts", "baseline", "cache", "reproducible"):
        assert set(defs[part]["properties"]) == set(written[part]), part
    assert set(defs["layer"]["properties"]) == set(written["layers"][0])
    assert set(defs["edit_row"]["properties"]) == set(written["cache"]["edits"][0])
    assert set(defs["need"]["properties"]) == set(written["needs"][0])


def test_a_report_that_breaks_the_schema_is_refused() -> None:
    broken = rendered(FULL)
    broken["images"][0]["build"]["origin"] = "somewhere"
    del broken["images"][0]["tag"]
    try:
        validate_report(broken)
    except AssertionError as refused:
        assert "images/0/build/origin" in str(refused) and "'tag' is a required property" in str(refused)
    else:
        raise AssertionError("a broken report passed the schema")


class NoEngine:
    """Any use of the engine fails the test: the record is made from what was measured."""

    name = "docker"

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"engine.{name} called while making a record")


def test_a_record_is_made_without_an_engine_call(tmp_path: Path) -> None:
    (spec,) = specs_for(Settings(), make_crate(tmp_path))
    build = BuildRecord("pytest-rustimage/p:chef-0", "sha256:" + "3" * 64, "docker", "chef", False, 2.0, log="")
    image = RustImage(spec, NoEngine(), build, {}, probe=lambda *_: None)  # type: ignore[arg-type,return-value]
    config = ImageConfig("", ("/p",), (), {}, "/", (), {})
    sizes = Sizes(10, 0, (Layer(4, ""), Layer(6, "COPY p")), 6, BaseFacts("debian", "sha256:9", 1, 4), config)
    verdict = SizeVerdict(records.baseline_key(spec), 10, None, None)
    made = records.records([image], {spec.key: sizes}, {}, {verdict.key: verdict})
    run = summary.merge([summary.snapshot(made, [verdict], [], [])])  # as at the session's end
    (written,) = validate_report(json.loads(records.render(run.images)))["images"]
    assert (written["size"], written["own_bytes"], written["baseline"]["status"]) == (10, 6, "new")
    assert "binary_facts" not in written and "cache" not in written  # not measured: left out
    assert record().sizes is None


def test_the_binarys_dependency_list_is_in_the_report_and_read_back() -> None:
    image = from_json(FULL)
    assert image.binary_facts is not None
    packages = (
        AuditedPackage("app", "0.1.0", "local", "runtime", True, (1,)),
        AuditedPackage("itoa", "1.0.15", "crates.io", "runtime", False, ()),
    )
    elf = dataclasses.replace(image.binary_facts.elf, audit=AuditData(packages, 1), audit_error=None)
    with_list = dataclasses.replace(image, binary_facts=dataclasses.replace(image.binary_facts, elf=elf))
    (written,) = validate_report(json.loads(records.render([with_list])))["images"]
    listed = written["binary_facts"]["audit"]["packages"]
    assert [(p["name"], p["version"], p["root"]) for p in listed] == [("app", "0.1.0", True), ("itoa", "1.0.15", False)]
    assert from_json(written) == with_list  # read back into its types

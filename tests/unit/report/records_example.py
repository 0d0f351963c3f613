"""Typed image records for report tests, written as the few JSON keys a test cares about.

:func:`record` completes a partial JSON record (the report's image object) with neutral values and reads
it back with :func:`pytest_rustimage.report.image_record.from_json`, as the xdist controller does.
"""

from __future__ import annotations

from typing import Any

from pytest_rustimage.report.image_record import ImageRecord, from_json

ELF = {
    "machine": "x86_64",
    "elf_type": "DYN",
    "linkage": "static-pie",
    "interpreter": None,
    "needed": [],
    "libc": "glibc",
    "stripped": True,
    "build_id": None,
    "sections": {},
    "elf_class": 64,
    "soname": None,
    "runpath": [],
    "rpath": [],
    "version_needs": {},
    "version_defs": [],
    "audit": None,
    "audit_error": None,
}
BINARY = {
    "path": "/usr/local/bin/hello",
    "size": 0,
    "sha256": "0" * 64,
    **ELF,
    "debug_bytes": 0,
    "loads": True,
    "floor": [],
}
CACHE = {
    "edit": "appended a comment to src/main.rs",
    "ok": True,
    "inconclusive": False,
    "deps_reused": True,
    "third_party_recompiled": [],
    "own_recompiled": [],
    "baseline": "the image's own build",
    "baseline_seconds": None,
    "rebuild_seconds": 0.0,
    "stored": False,
    "measured_at": 0.0,
    "deps_steps": [],
    "hidden": [],
    "edits": [],
}
EDIT_ROW = {
    "kind": "source",
    "applicable": True,
    "reason": "",
    "edit": "appended a comment to src/main.rs",
    "deps_reused": True,
    "third_party_recompiled": [],
    "own_recompiled": [],
    "rerun_steps": [],
    "rebuild_seconds": 0.0,
    "stored": False,
    "gated": True,
    "ok": True,
    "problems": [],
}
CONFIG = {"user": "", "entrypoint": [], "cmd": [], "env": {}, "workdir": "/", "exposed_ports": [], "labels": {}}
BASE = {"name": "scratch", "id": "", "layers": 0, "size": 0, "known": True}


def complete(partial: dict[str, Any]) -> dict[str, Any]:
    """``partial`` with every key a full JSON record has (as the report writes it)."""
    data = dict(partial)
    strategy, engine = data.setdefault("strategy", "static"), data.setdefault("engine", "docker")
    crate = data.setdefault("crate", "hello")
    data.setdefault("binary", crate)
    data.setdefault("manifest", f"/x/{crate}/Cargo.toml")
    data.setdefault("variant", f"{strategy}-{engine}")
    data.setdefault("baseline_key", f"{crate}/{strategy}/{engine}")
    data.setdefault("tag", f"pytest-rustimage/{crate}:{strategy}-0123")
    data.setdefault("id", "sha256:" + "1" * 64)
    data.setdefault("budget", 1 << 30)
    data["build"] = {"reused": False, "origin": "built", "seconds": 1.0, **data.get("build", {})}
    if "size" in data:
        data.setdefault("wasted", 0)
        data["layers"] = [{"created_by": "", "diff_id": "", "wasted": 0, **la} for la in data.get("layers", [])]
        data["base"] = {**BASE, **data.get("base", {})}
        data["config"] = {**CONFIG, **data.get("config", {})}
    if "binary_facts" in data:
        data["binary_facts"] = {**BINARY, "resolved": {}, **data["binary_facts"]}
    if "cache" in data:
        cache = {**CACHE, **data["cache"]}
        cache["hidden"] = [{"reasons": [], "settled": "", **step} for step in cache["hidden"]]
        cache["edits"] = [{**EDIT_ROW, **row} for row in cache["edits"]]
        data["cache"] = cache
    return data


def record(**partial: Any) -> ImageRecord:
    return from_json(complete(partial))

"""Every JSON report the suite writes is checked against docs/report.schema.json."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

SCHEMA = Path(__file__).resolve().parents[1] / "docs" / "report.schema.json"
OPTION = "--rust-image-report="


@functools.cache
def validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA.read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def validate_report(report: Path | dict[str, Any]) -> dict[str, Any]:
    """The report (a file, or its data), after checking it against the schema; fails naming every mismatch."""
    data = json.loads(report.read_text()) if isinstance(report, Path) else report
    errors = sorted(validator().iter_errors(data), key=lambda e: [str(part) for part in e.absolute_path])
    where = report if isinstance(report, Path) else "report"
    lines = [f"  {'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in errors]
    assert not errors, f"{where} does not match {SCHEMA.name}:\n" + "\n".join(lines)
    return data


def validate_reports_of(args: Iterable[str], folder: Path) -> None:
    """Check the reports a pytest run with ``args`` (run in ``folder``) wrote, if it wrote them."""
    for arg in args:
        if arg.startswith(OPTION):
            path = folder / arg[len(OPTION) :]
            if path.is_file():
                validate_report(path)

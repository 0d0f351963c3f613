"""The needs check's part of the summary and the HTML report: failures under the table, every need in the facts."""

from __future__ import annotations

from pytest_rustimage.checks.needs import NEEDS
from tests.unit.report.records_example import record

CERTS = {
    "kind": "CA certificates",
    "evidence": "the binary names SSL_CERT_FILE",
    "looked_for": ["/etc/ssl/certs/ca-certificates.crt"],
    "found_at": None,
    "fix": "add a CA bundle",
}
USER = {"kind": "user", "evidence": "USER 65532", "looked_for": ["nothing"], "found_at": "the numeric ids", "fix": ""}


def test_a_missing_need_is_a_line_under_the_table() -> None:
    missing, fine, unseen = record(needs=[CERTS, USER]), record(needs=[USER]), record()
    lines = NEEDS.summary_lines([missing, fine, unseen], {})
    assert lines == [f"needs what the image lacks: {missing.tag} (static-docker): CA certificates"]


def test_every_need_is_in_the_facts_satisfied_or_not() -> None:
    ((name, html),) = NEEDS.html_facts(record(needs=[CERTS, USER]))
    assert name == "needs"
    assert (
        "CA certificates: the binary names SSL_CERT_FILE; looked for /etc/ssl/certs/ca-certificates.crt; NOT FOUND"
        in html
    )
    assert "user: USER 65532; looked for nothing; found at the numeric ids" in html
    assert NEEDS.html_facts(record(needs=[])) == [("needs", "none detected")]
    assert NEEDS.html_facts(record()) == []


def test_the_overview_marks_what_the_image_lacks() -> None:
    ((column,),) = [NEEDS.overview_columns]
    assert column.cell(record(needs=[CERTS, USER]), None) == '<span class="over">lacks CA certificates</span>'
    assert column.cell(record(needs=[USER]), None) == "user found"
    assert column.cell(record(needs=[]), None) == "none detected"
    assert column.cell(record(), None) == "-"

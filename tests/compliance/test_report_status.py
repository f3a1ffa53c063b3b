"""The status of a control from findings and scans, and the report's CSV and HTML forms."""

from __future__ import annotations

import csv
import io
from html.parser import HTMLParser

import pytest

from chalicelib.compliance.csv_report import render_csv
from chalicelib.compliance.html_report import render_html
from chalicelib.compliance.report import MAX_EVIDENCE
from chalicelib.errors import NotFound
from tests.compliance.reports import HOSTILE, finding, hostile_report, report


def _status(result: dict, control: str) -> str:
    return next(c["status"] for c in result["controls"] if c["control"] == control)


@pytest.mark.parametrize("status", ["new", "open", "reopened"])
def test_a_counted_finding_fails_its_control(status: str) -> None:
    assert _status(report("cis-docker-1.6", [finding("DF-USER-001", 1, status)]), "4.1") == "fail"


@pytest.mark.parametrize("status", ["waived", "suppressed"])
def test_accepted_findings_do_not_fail_but_are_evidence(status: str) -> None:
    result = report("cis-docker-1.6", [finding("DF-USER-001", 1, status)])
    control = next(c for c in result["controls"] if c["control"] == "4.1")
    assert control["status"] == "pass"
    assert [(e["status"], e["counted"]) for e in control["evidence"]] == [(status, False)]
    assert control["failing_count"] == 0 and control["evidence_count"] == 1
    assert result["totals"]["failing_findings"] == 0


def test_not_assessed_without_a_scan_of_the_rules_types_or_a_rule() -> None:
    nothing_scanned = report("cis-docker-1.6", [], evaluated=())
    assert {c["status"] for c in nothing_scanned["controls"]} == {"not_assessed"}
    images_only = report("cis-docker-1.6", [], evaluated=("image",))
    assert _status(images_only, "4.1") == "pass"  # IMG-USER-001 judged the image
    assert _status(images_only, "4.7") == "not_assessed"  # only a Dockerfile rule checks it
    assert _status(images_only, "4.2") == "not_assessed"  # no rule checks it


def test_rules_the_policy_disables_do_not_assess() -> None:
    result = report("cis-docker-1.6", [], disabled=("DF-PKG-015",))
    assert _status(result, "4.7") == "not_assessed"
    rules = next(c["rules"] for c in result["controls"] if c["control"] == "4.7")
    assert rules == [
        {
            "rule_id": "DF-PKG-015",
            "title": rules[0]["title"],
            "artifact_type": "dockerfile",
            "enabled": False,
        }
    ]


def test_evidence_is_bounded_most_severe_and_counted_first() -> None:
    many = [finding("DF-USER-001", n, severity="low") for n in range(MAX_EVIDENCE + 5)]
    many += [finding("DF-USER-001", 999, "waived", severity="critical")]
    many += [finding("IMG-USER-001", 1000, severity="critical")]
    control = next(c for c in report("cis-docker-1.6", many)["controls"] if c["control"] == "4.1")
    assert control["evidence_count"] == MAX_EVIDENCE + 7
    assert control["failing_count"] == MAX_EVIDENCE + 6
    assert len(control["evidence"]) == MAX_EVIDENCE
    assert control["evidence"][0]["rule_id"] == "IMG-USER-001"
    assert all(e["counted"] for e in control["evidence"])


def test_totals_add_up() -> None:
    result = report("nist-800-53-r5", [finding("DF-SECRET-001", 1)])
    totals = result["totals"]
    assert totals["controls"] == len(result["controls"])
    assert totals["pass"] + totals["fail"] + totals["not_assessed"] == totals["controls"]
    assert _status(result, "IA-5(7)") == "fail" and totals["failing_findings"] == 1


def test_an_unknown_framework_is_a_404_naming_the_known_ones() -> None:
    with pytest.raises(NotFound, match="no compliance framework 'iso-27001': use one of cis-aws"):
        report("iso-27001", [])


def test_csv_neutralises_formulas_and_keeps_two_tables() -> None:
    text = render_csv(hostile_report())
    rows = list(csv.reader(io.StringIO(text)))
    blank = rows.index([])
    evidence = rows[blank + 1 :]
    cells = [cell for row in rows for cell in row]
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)
    paths = {row[3] for row in evidence[1:]}
    assert "'-cmd|' /C calc'!A0" in paths and "'@SUM(1+1)" in paths
    messages = {row[9] for row in evidence[1:]}
    assert any(m.startswith("'=HYPERLINK(") for m in messages)
    assert len(rows[1:blank]) == 9  # a row per control


class _Markup(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[str] = []
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += [name for name, _ in attrs]

    def handle_data(self, data: str) -> None:
        self.text += data


def test_html_escapes_every_value_and_runs_nothing() -> None:
    page = render_html([hostile_report()], tenant_id='acme"><script>alert(3)</script>')
    markup = _Markup()
    markup.feed(page)
    assert set(markup.tags) <= {
        "html", "head", "meta", "title", "style", "body", "section", "h1", "h2", "p", "span",
        "table", "thead", "tbody", "tr", "th", "td",
    }  # fmt: skip
    assert set(markup.attributes) <= {"lang", "charset", "class", "colspan"}
    assert f"{HOSTILE}/Dockerfile" in markup.text
    assert "<script>alert(2)</script>" in markup.text


def test_html_starts_each_framework_on_a_new_page_and_repeats_headers() -> None:
    page = render_html([hostile_report(), hostile_report("nist-800-53-r5")], "acme")
    assert page.count('<section class="framework">') == 2
    assert "section.framework + section.framework { break-before: page; }" in page
    assert "thead { display: table-header-group; }" in page
    assert page.count("<thead>") == 2 * 3

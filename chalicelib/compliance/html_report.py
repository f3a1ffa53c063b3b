"""A compliance report as a printable HTML page (an auditor saves it as PDF from the browser).

The page is self-contained (one inline style sheet, no scripts, no external resources) and
every value from the API is HTML-escaped: pipeline names, paths, resources and messages come
from the scanned artifacts. Print styles start each framework on a new page and repeat table
headers on every page.
"""

from __future__ import annotations

from html import escape
from typing import Any

__all__ = ["CONTENT_SECURITY_POLICY", "render_html"]

CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'"
"""Sent with the page: even markup that slipped through could neither run nor load anything."""

_STATUS_LABELS = {"pass": "Pass", "fail": "Fail", "not_assessed": "Not assessed"}
_STYLE = """
@page { size: A4 landscape; margin: 12mm; }
* { box-sizing: border-box; }
body { font: 10pt/1.35 system-ui, "DejaVu Sans", Arial, sans-serif; color: #111; margin: 0 1em; }
h1 { font-size: 16pt; margin: 0.6em 0 0.2em; }
h2 { font-size: 13pt; margin: 1.2em 0 0.4em; }
h3 { font-size: 11pt; margin: 1em 0 0.3em; }
p.meta { color: #444; margin: 0.2em 0; }
table { border-collapse: collapse; width: 100%; margin: 0.4em 0 1em; }
th, td { border: 1px solid #bbb; padding: 3px 5px; text-align: left; vertical-align: top; }
th { background: #eee; }
.code { font-family: "DejaVu Sans Mono", monospace; font-size: 8.5pt; overflow-wrap: anywhere; }
.id { white-space: nowrap; }
.status { font-weight: 600; white-space: nowrap; padding: 1px 5px; border-radius: 3px; }
.status-pass { background: #d8f0dc; color: #14532d; }
.status-fail { background: #f9d6d5; color: #7f1d1d; }
.status-not_assessed { background: #ececec; color: #374151; }
.muted { color: #666; }
table.totals { width: auto; }
section.framework + section.framework { break-before: page; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
h2, h3 { break-after: avoid; }
@media print {
  body { margin: 0; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""


def render_html(reports: list[dict[str, Any]], tenant_id: str) -> str:
    """One page with a section per framework report."""
    names = ", ".join(r["framework"]["name"] for r in reports)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Pipeguard compliance report: {_e(names)}</title>",
        f"<style>{_STYLE}</style></head><body>",
    ]
    parts += [_section(report, tenant_id) for report in reports]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _section(report: dict[str, Any], tenant_id: str) -> str:
    framework = report["framework"]
    totals = report["totals"]
    scope = report["pipeline"]
    rows = []
    for control in report["controls"]:
        rules = ", ".join(
            r["rule_id"] + ("" if r["enabled"] else " (disabled)") for r in control["rules"]
        )
        rows.append(
            "<tr>"
            f'<td class="code">{_e(control["control"])}</td>'
            f"<td>{_e(control['title'])}</td>"
            f"<td>{_status(control['status'])}</td>"
            f'<td class="code">{_e(rules) or "<span class=muted>none</span>"}</td>'
            f"<td>{_e(control['failing_count'])} / {_e(control['evidence_count'])}</td>"
            "</tr>"
        )
    evidence = []
    for control in report["controls"]:
        for item in control["evidence"]:
            evidence.append(
                "<tr>"
                f'<td class="code">{_e(control["control"])}</td>'
                f"<td>{_e(item['status'])}</td>"
                f"<td>{_e(item['severity'])}</td>"
                f'<td class="code">{_e(item["pipeline"])}</td>'
                f'<td class="code">{_e(item["path"])}</td>'
                f'<td class="code">{_e(item["resource"])}</td>'
                f'<td class="code id">{_e(item["rule_id"])}</td>'
                f'<td class="code">{_e(item["finding_id"])}</td>'
                f"<td>{_e(item['message'])}</td>"
                "</tr>"
            )
    truncated = any(c["evidence_count"] > len(c["evidence"]) for c in report["controls"])
    return "\n".join(
        [
            '<section class="framework">',
            f"<h1>{_e(framework['name'])} {_e(framework['version'])}</h1>",
            f'<p class="meta">Framework <span class="code">{_e(framework["id"])}</span> · '
            f'tenant <span class="code">{_e(tenant_id)}</span> · '
            + (
                f'pipeline <span class="code">{_e(scope)}</span>'
                if scope is not None
                else "all pipelines"
            )
            + f" · generated {_e(report['generated_at'])}</p>",
            '<table class="totals"><thead><tr><th>Controls</th><th>Pass</th><th>Fail</th>'
            "<th>Not assessed</th><th>Failing findings</th></tr></thead><tbody><tr>"
            + "".join(
                f"<td>{_e(totals[k])}</td>"
                for k in ("controls", "pass", "fail", "not_assessed", "failing_findings")
            )
            + "</tr></tbody></table>",
            "<h2>Controls</h2>",
            "<table><thead><tr><th>Control</th><th>Title</th><th>Status</th><th>Rules</th>"
            "<th>Failing / evidence</th></tr></thead><tbody>",
            *rows,
            "</tbody></table>",
            "<h2>Evidence</h2>",
            (
                '<p class="meta">Only the first findings of each control are listed; '
                "the API's JSON gives their number.</p>"
                if truncated
                else ""
            ),
            "<table><thead><tr><th>Control</th><th>Status</th><th>Severity</th>"
            "<th>Pipeline</th><th>Path</th><th>Resource</th><th>Rule</th><th>Finding</th>"
            "<th>Message</th></tr></thead><tbody>",
            *(evidence or ['<tr><td colspan="9" class="muted">No findings.</td></tr>']),
            "</tbody></table>",
            '<p class="meta">A control fails when a current finding of one of its rules counts '
            "against the verdict (new, open, reopened); waived and suppressed findings are "
            "listed but do not fail it. It passes when nothing fails and one of its rules judged "
            "an artifact type of the latest scans; otherwise it is not assessed.</p>",
            "</section>",
        ]
    )


def _status(status: str) -> str:
    return f'<span class="status status-{_e(status)}">{_e(_STATUS_LABELS[status])}</span>'


def _e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)

"""A compliance report as CSV: a row per control, then the evidence as a second table.

The two tables are separated by an empty row and each starts with its header row. A cell
that a spreadsheet would read as a formula (starting with `=`, `+`, `-`, `@`, tab or CR) is
prefixed with `'`, since paths, resources and messages come from the scanned artifacts.
"""

from __future__ import annotations

import csv
import io
from typing import Any

__all__ = ["CONTROL_COLUMNS", "EVIDENCE_COLUMNS", "render_csv"]

CONTROL_COLUMNS = (
    "framework",
    "control",
    "title",
    "status",
    "rules",
    "failing_findings",
    "evidence_count",
)
EVIDENCE_COLUMNS = (
    "framework",
    "control",
    "pipeline",
    "path",
    "resource",
    "rule_id",
    "finding_id",
    "severity",
    "status",
    "message",
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def render_csv(report: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    framework = report["framework"]["id"]
    writer.writerow(CONTROL_COLUMNS)
    for control in report["controls"]:
        writer.writerow(
            _cells(
                framework,
                control["control"],
                control["title"],
                control["status"],
                " ".join(r["rule_id"] for r in control["rules"]),
                control["failing_count"],
                control["evidence_count"],
            )
        )
    writer.writerow(())
    writer.writerow(EVIDENCE_COLUMNS)
    for control in report["controls"]:
        for item in control["evidence"]:
            writer.writerow(
                _cells(framework, control["control"], *(item[c] for c in EVIDENCE_COLUMNS[2:]))
            )
    return out.getvalue()


def _cells(*values: Any) -> list[str]:
    return [_cell(v) for v in values]


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text

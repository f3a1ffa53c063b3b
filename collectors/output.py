"""Human-readable output: findings as a table, a one-line verdict."""

from __future__ import annotations

from typing import Any

from chalicelib.kinds import Severity

_COLUMNS = (
    ("severity", "SEVERITY"),
    ("rule_id", "RULE"),
    ("location", "WHERE"),
    ("message", "MESSAGE"),
)


def _location(finding: dict[str, Any]) -> str:
    where = finding.get("path") or finding.get("file") or ""
    if finding.get("line"):
        where += f":{finding['line']}"
    if finding.get("resource"):
        where += f" ({finding['resource']})"
    return where


def sort_findings(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(
        findings,
        key=lambda f: (
            -Severity(f["severity"]).rank,
            f.get("path") or f.get("file") or "",
            f.get("line") or 0,
            f["rule_id"],
        ),
    )


def table(findings: list[dict[str, Any]], width: int = 160) -> str:
    """A plain-text table, most severe first; long messages are cut to fit `width`."""
    if not findings:
        return "No findings."
    rows = [
        {
            "severity": f["severity"].upper(),
            "rule_id": f["rule_id"],
            "location": _location(f),
            "message": f.get("message") or f.get("title") or "",
        }
        for f in sort_findings(findings)
    ]
    widths = {key: max(len(title), *(len(r[key]) for r in rows)) for key, title in _COLUMNS[:3]}
    room = max(20, width - sum(widths.values()) - 6)
    lines = ["  ".join(title.ljust(widths.get(key, 0)) for key, title in _COLUMNS).rstrip()]
    for r in rows:
        message = r["message"] if len(r["message"]) <= room else r["message"][: room - 1] + "…"
        lines.append(
            "  ".join(
                [r["severity"].ljust(widths["severity"]), r["rule_id"].ljust(widths["rule_id"])]
                + [r["location"].ljust(widths["location"]), message]
            )
        )
    return "\n".join(lines)


def counts_line(counts: dict[str, int]) -> str:
    order = ("critical", "high", "medium", "low", "info")
    return ", ".join(f"{counts.get(s, 0)} {s}" for s in order)

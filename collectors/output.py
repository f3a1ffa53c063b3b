"""Human-readable output: findings as a table, a one-line verdict, capped listings, and
writing to stdout that survives a reader who stops early (`| head`)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import Any

from chalicelib.kinds import Severity

_COLUMNS = (
    ("severity", "SEVERITY"),
    ("rule_id", "RULE"),
    ("location", "WHERE"),
    ("message", "MESSAGE"),
)


def _location(finding: dict[str, Any]) -> str:
    return where(finding)


def where(finding: dict[str, Any]) -> str:
    """`path:line (resource)`; for a result imported from a SARIF log, whose line is in the
    file the scanner reported, `file:line (log path)`."""
    path = finding.get("path") or finding.get("file") or ""
    line = f":{finding['line']}" if finding.get("line") else ""
    if finding.get("artifact_type") == "sarif" and finding.get("resource"):
        return f"{finding['resource']}{line} ({path})"
    return path + line + (f" ({finding['resource']})" if finding.get("resource") else "")


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


LISTED = 20
"""Skipped files named one per line in the table and on stderr; the rest are counted."""


def capped(lines: Iterable[str], total: int, more: str, limit: int = LISTED) -> list[str]:
    """The first `limit` lines, then one line saying how many more there are."""
    shown = list(lines)[:limit]
    if total > len(shown):
        shown.append(more.format(count=total - len(shown)))
    return shown


def skipped_lines(skipped: list[dict[str, str]], prefix: str) -> list[str]:
    """`{prefix}{file}: {reason}` per skipped file, capped at LISTED."""
    return capped(
        (f"{prefix}{s['file']}: {s['reason']}" for s in skipped[:LISTED]),
        len(skipped),
        "… and {count} more skipped files (--format json lists every one)",
    )


_stdout_closed = False


def write_stdout(text: str) -> bool:
    """Write and flush `text` to stdout; False once the reader has gone (a closed pipe).

    The rest of the output is then dropped quietly, as `head` expects, and the run goes on:
    its exit code still says what the policy said.
    """
    global _stdout_closed
    if _stdout_closed:
        return False
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        _stdout_closed = True
        # what is still buffered goes nowhere instead of failing again at exit
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return False
    return True

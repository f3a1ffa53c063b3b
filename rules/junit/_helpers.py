"""Helpers shared by the JUnit rules."""

from __future__ import annotations

from chalicelib.parsers.junit import TestReport


def report_resource(report: TestReport) -> str | None:
    """The name findings about the whole report use: its own name, or its only suite's."""
    if report.name:
        return report.name
    tops = report.top_suites
    if len(tops) == 1 and tops[0].name:
        return tops[0].name
    return None


def shorten(text: str | None, limit: int = 160) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 3] + "..."

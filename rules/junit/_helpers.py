"""Helpers shared by the JUnit rules."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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


def number_param(params: Mapping[str, Any], name: str, default: float) -> float:
    """A numeric rule parameter; a missing or unusable override falls back to `default`."""
    value = params.get(name, default)
    if isinstance(value, bool):
        return default
    try:
        number = float(value)
    except (TypeError, ValueError):
        return default
    return number if number == number else default  # NaN is not a threshold

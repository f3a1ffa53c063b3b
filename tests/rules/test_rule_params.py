"""Rule parameters: defaults keep the former thresholds, and overrides change the outcome."""

from __future__ import annotations

from pathlib import Path

import pytest

from chalicelib.engine.registry import get_rule
from chalicelib.engine.runner import evaluate
from chalicelib.models import ArtifactType

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _lines(rule_id: str, fixture: str, params: dict | None = None) -> list[int | None]:
    path = FIXTURES / rule_id / fixture
    overrides = {rule_id: params} if params is not None else None
    report = evaluate(ArtifactType.JUNIT, path.read_text(encoding="utf-8"), str(path), overrides)
    assert report.error is None, report.error
    return sorted(f.line or 0 for f in report.findings if f.rule_id == rule_id)


@pytest.mark.parametrize(
    ("rule_id", "params"),
    [
        ("JU-TIME-001", {"max_test_seconds": 60.0}),
        ("JU-TIME-002", {"max_suite_seconds": 600.0}),
        ("JU-SKIP-001", {"max_skipped_ratio": 0.5}),
        ("JU-FLAKY-001", {"max_flaky_tests": 0}),
        ("JU-SUITE-004", {"min_cases": 2}),
    ],
)
def test_defaults(rule_id: str, params: dict) -> None:
    rule = get_rule(rule_id)
    assert rule is not None and rule.takes_params
    assert dict(rule.meta.params) == params


def test_slow_test_budget_can_be_raised_or_lowered() -> None:
    assert _lines("JU-TIME-001", "fail.xml") == [3, 4]
    assert _lines("JU-TIME-001", "fail.xml", {"max_test_seconds": 120}) == [3]
    assert _lines("JU-TIME-001", "pass.xml", {"max_test_seconds": 30}) == [3]


def test_suite_budget_can_be_tuned() -> None:
    assert _lines("JU-TIME-002", "fail.xml", {"max_suite_seconds": 700}) == [3]
    assert _lines("JU-TIME-002", "pass.xml", {"max_suite_seconds": 500}) == [12]


def test_skipped_ratio_can_be_tuned() -> None:
    assert _lines("JU-SKIP-001", "fail.xml", {"max_skipped_ratio": 0.8}) == []
    assert _lines("JU-SKIP-001", "pass.xml", {"max_skipped_ratio": 0.4}) == [2]


def test_flaky_allowance() -> None:
    assert _lines("JU-FLAKY-001", "fail.xml") == [3, 8]
    assert _lines("JU-FLAKY-001", "fail.xml", {"max_flaky_tests": 1}) == [3, 8]
    assert _lines("JU-FLAKY-001", "fail.xml", {"max_flaky_tests": 2}) == []


def test_errored_suite_minimum() -> None:
    assert _lines("JU-SUITE-004", "pass.xml", {"min_cases": 1}) == [3]


def test_unusable_override_falls_back_to_the_default() -> None:
    assert _lines("JU-TIME-001", "fail.xml", {"max_test_seconds": "soon"}) == [3, 4]

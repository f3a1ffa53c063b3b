"""Metrics: with POWERTOOLS_METRICS_DISABLED nothing reaches stdout, however much is counted."""

from __future__ import annotations

import pytest

from chalicelib import observability


@pytest.fixture
def fresh_metrics(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(observability, "_metrics", None)


def _invocations(count: int) -> None:
    for _ in range(count):
        observability.count("ArtifactsEvaluated")
        observability.milliseconds("EvaluationTime", 3.0)
        observability.flush()


def test_disabled_metrics_print_nothing_over_many_invocations(
    fresh_metrics: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    _invocations(250)
    assert capsys.readouterr().out == ""


def test_enabled_metrics_print_one_document_per_invocation(
    fresh_metrics: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    _invocations(3)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and all('"ArtifactsEvaluated"' in line for line in lines)

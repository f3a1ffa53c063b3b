"""Image rule parameters: defaults, tenant overrides, and the clock the age rule reads."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from chalicelib.engine.registry import get_rule
from chalicelib.engine.runner import evaluate
from chalicelib.models import ArtifactType
from rules.image import _helpers

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _lines(rule_id: str, fixture: str, params: dict | None = None) -> list[int | None]:
    path = FIXTURES / rule_id / fixture
    overrides = {rule_id: params} if params is not None else None
    report = evaluate(ArtifactType.IMAGE, path.read_text(encoding="utf-8"), str(path), overrides)
    assert report.error is None, report.error
    return sorted(f.line or 0 for f in report.findings if f.rule_id == rule_id)


@pytest.mark.parametrize(
    ("rule_id", "params"),
    [
        ("IMG-AGE-001", {"max_age_days": 180}),
        ("IMG-SIZE-001", {"max_size_mb": 1024}),
        (
            "IMG-LABEL-001",
            {
                "required_labels": [
                    "org.opencontainers.image.source",
                    "org.opencontainers.image.revision",
                    "org.opencontainers.image.licenses",
                ]
            },
        ),
    ],
)
def test_defaults(rule_id: str, params: dict) -> None:
    rule = get_rule(rule_id)
    assert rule is not None and rule.takes_params
    assert dict(rule.meta.params) == params


def test_age_is_measured_from_the_oldest_layer(monkeypatch: pytest.MonkeyPatch) -> None:
    # fail-history: the base layer is of 2022-11-15, the image of 2025-06-02
    monkeypatch.setattr(_helpers, "now", lambda: datetime(2023, 1, 1, tzinfo=UTC))
    assert _lines("IMG-AGE-001", "fail-history.image.json") == []
    monkeypatch.setattr(_helpers, "now", lambda: datetime(2023, 6, 1, tzinfo=UTC))
    assert _lines("IMG-AGE-001", "fail-history.image.json") == [43]
    assert _lines("IMG-AGE-001", "fail-history.image.json", {"max_age_days": 200}) == []


def test_age_limit_is_a_tenant_parameter() -> None:
    assert _lines("IMG-AGE-001", "fail.image.json") == [12]
    assert _lines("IMG-AGE-001", "fail.image.json", {"max_age_days": 100_000}) == []
    assert _lines("IMG-AGE-001", "fail.image.json", {"max_age_days": "old"}) == [12]


def test_placeholder_dates_are_not_judged(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_helpers, "now", lambda: datetime(2100, 1, 1, tzinfo=UTC))
    assert _lines("IMG-AGE-001", "pass-reproducible.image.json", {"max_age_days": 0}) == []


def test_size_limit_can_be_raised_or_lowered() -> None:
    assert _lines("IMG-SIZE-001", "fail.image.json") == [54]
    assert _lines("IMG-SIZE-001", "fail.image.json", {"max_size_mb": 2000}) == []
    assert _lines("IMG-SIZE-001", "pass.image.json", {"max_size_mb": 10}) == [54]


def test_required_labels_can_be_changed() -> None:
    assert _lines("IMG-LABEL-001", "fail.image.json") == [46]
    only_source = {"required_labels": ["org.opencontainers.image.source"]}
    assert _lines("IMG-LABEL-001", "fail.image.json", only_source) == []
    team = {"required_labels": ["com.acme.team"]}
    assert _lines("IMG-LABEL-001", "pass.image.json", team) == [46]
    assert _lines("IMG-LABEL-001", "fail.image.json", {"required_labels": "x"}) == [46]

"""Tenant custom rules on image metadata: the image is the item, paths point at its lines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from chalicelib.engine.custom import parse_custom_rules
from chalicelib.engine.runner import evaluate
from chalicelib.models import ArtifactType

IMAGE = ArtifactType.IMAGE
FIXTURES = Path(__file__).resolve().parents[1] / "rules" / "fixtures"
HARDENED = (FIXTURES / "IMG-USER-001" / "pass.image.json").read_text()  # User 10001:10001
ROOT = (FIXTURES / "IMG-USER-001" / "fail.image.json").read_text()  # User ""
SECRETS = (FIXTURES / "IMG-SECRET-001" / "fail.image.json").read_text()


def rule(assertion: dict[str, Any], rule_id: str = "X-ACME-001", **match: Any) -> dict[str, Any]:
    return {
        "id": rule_id,
        "title": "Images follow the platform's conventions",
        "severity": "medium",
        "artifact_type": "image",
        "description": "What the platform team requires of every image.",
        "match": match,
        "assert": assertion,
    }


def hits(rules: list[dict[str, Any]], text: str) -> list[tuple[str, int | None, str]]:
    report = evaluate(IMAGE, text, "api.image.json", custom_rules=parse_custom_rules(rules))
    assert report.error is None and report.notes == []
    return [(f.rule_id, f.line, f.message) for f in report.findings if f.rule_id.startswith("X-")]


NUMERIC_USER = {"path": "Config.User", "op": "regex", "value": "^[1-9][0-9]*(:[0-9]+)?$"}


def test_numeric_non_root_user() -> None:
    assert hits([rule(NUMERIC_USER)], HARDENED) == []
    [(rule_id, line, message)] = hits([rule(NUMERIC_USER)], ROOT)
    assert rule_id == "X-ACME-001" and line == 16 and "Config.User" in message


def test_team_label_and_environment() -> None:
    team = rule({"path": "Config.Labels", "op": "has_tag", "value": "com.acme.team"})
    assert [line for _, line, _ in hits([team], HARDENED)] == [46]
    no_debug = rule({"path": "Env.DB_PASSWORD", "op": "exists", "value": False}, "X-ACME-002")
    assert hits([no_debug], HARDENED) == []
    [(_, line, _)] = hits([no_debug], SECRETS)
    assert line == 24


def test_registry_and_size() -> None:
    registry = rule(
        {
            "all": [
                {"path": "RepoTags[0]", "op": "regex", "value": "^registry\\.example\\.com/"},
                {"path": "Size", "op": "lt", "value": 100_000_000},
            ]
        }
    )
    assert hits([registry], HARDENED) == []
    elsewhere = SECRETS.replace("registry.example.com/shop", "docker.io/shop")
    assert [line for _, line, _ in hits([registry], elsewhere)] == [5]


def test_unknown_field_and_target_are_refused_with_the_field() -> None:
    with pytest.raises(ValidationError, match="'Labels' is not a field of the image"):
        parse_custom_rules([rule({"path": "Labels.team", "op": "exists"})])
    with pytest.raises(ValidationError, match="target does not apply to image rules"):
        parse_custom_rules([rule(NUMERIC_USER, target="instructions")])
    with pytest.raises(ValidationError, match="resource_types only applies"):
        parse_custom_rules([rule(NUMERIC_USER, resource_types=["AWS::S3::Bucket"])])

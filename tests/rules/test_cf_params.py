"""Tenant-tunable CloudFormation rules: defaults, and overrides through `rule_params`."""

from __future__ import annotations

from chalicelib.engine.registry import get_rule
from chalicelib.engine.runner import evaluate
from chalicelib.models import ArtifactType

INSTANCE_TYPES = "CF-EC2-010"

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Small:
    Type: AWS::EC2::Instance
    Properties:
      ImageId: ami-0abcdef1234567890
      InstanceType: t3.small
  Medium:
    Type: AWS::EC2::Instance
    Properties:
      ImageId: ami-0abcdef1234567890
      InstanceType: t3.medium
  Big:
    Type: AWS::EC2::Instance
    Properties:
      ImageId: ami-0abcdef1234567890
      InstanceType: c5.18xlarge
  Template:
    Type: AWS::EC2::LaunchTemplate
    Properties:
      LaunchTemplateData:
        InstanceType: M6I.LARGE
"""


def _flagged(rule_id: str, text: str, params: dict | None = None) -> list[str]:
    overrides = {rule_id: params} if params is not None else None
    report = evaluate(ArtifactType.CLOUDFORMATION, text, "template.yaml", rule_params=overrides)
    assert report.error is None, report.error
    return sorted(f.resource for f in report.findings if f.rule_id == rule_id)


def test_instance_type_rule_declares_its_default_allow_list() -> None:
    rule = get_rule(INSTANCE_TYPES)
    assert rule is not None and rule.takes_params
    allowed = rule.meta.params["allowed_instance_types"]
    assert "t3.*" in allowed and "m6i.large" in allowed
    assert rule.meta.as_dict()["params"]["allowed_instance_types"] == list(allowed)


def test_default_allow_list_flags_only_large_types() -> None:
    assert _flagged(INSTANCE_TYPES, TEMPLATE) == ["Big"]


def test_tenant_override_replaces_the_allow_list() -> None:
    flagged = _flagged(INSTANCE_TYPES, TEMPLATE, {"allowed_instance_types": ["t3.small"]})
    assert flagged == ["Big", "Medium", "Template"]


def test_override_accepts_patterns_and_ignores_case() -> None:
    params = {"allowed_instance_types": ["T3.*", "m6i.*", "c5.*"]}
    assert _flagged(INSTANCE_TYPES, TEMPLATE, params) == []


def test_empty_allow_list_turns_the_check_off() -> None:
    assert _flagged(INSTANCE_TYPES, TEMPLATE, {"allowed_instance_types": []}) == []


def test_override_of_another_rule_leaves_the_default() -> None:
    report = evaluate(
        ArtifactType.CLOUDFORMATION,
        TEMPLATE,
        "template.yaml",
        rule_params={"CF-RDS-003": {"min_retention_days": 30}},
    )
    assert sorted(f.resource for f in report.findings if f.rule_id == INSTANCE_TYPES) == ["Big"]


RETENTION = """\
Resources:
  Database:
    Type: AWS::RDS::DBInstance
    Properties:
      Engine: postgres
      DBInstanceClass: db.t4g.medium
      BackupRetentionPeriod: 14
"""


def test_backup_retention_minimum_is_tunable() -> None:
    assert _flagged("CF-RDS-003", RETENTION) == []
    assert _flagged("CF-RDS-003", RETENTION, {"min_retention_days": 30}) == ["Database"]


KEY = """\
Resources:
  Key:
    Type: AWS::KMS::Key
    Properties:
      EnableKeyRotation: true
      PendingWindowInDays: 10
"""


def test_key_deletion_window_minimum_is_tunable() -> None:
    assert _flagged("CF-KMS-003", KEY) == ["Key"]
    assert _flagged("CF-KMS-003", KEY, {"min_pending_window_days": 7}) == []

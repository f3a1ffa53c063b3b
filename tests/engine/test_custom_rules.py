"""Tenant custom rules: the three motivating examples, every operator, fail-closed intrinsics,
validation errors at the exact field, and hostile rules refused or bounded."""

from __future__ import annotations

import time
from typing import Any

import pytest
from pydantic import ValidationError

from chalicelib.engine import custom
from chalicelib.engine.custom import (
    MAX_DEPTH,
    MAX_LEAVES,
    MAX_LIST_ITEMS,
    MAX_RULES,
    CustomRule,
    evaluate_custom,
    parse_custom_rules,
)
from chalicelib.models import ArtifactType
from chalicelib.parsers import parse

CFN = ArtifactType.CLOUDFORMATION
DOCKER = ArtifactType.DOCKERFILE
JUNIT = ArtifactType.JUNIT
GENEROUS_MS = 30_000.0  # functional tests must not depend on the machine's speed


def make_rule(rule_id: str = "X-ACME-001", **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": rule_id,
        "title": "Custom check",
        "severity": "high",
        "artifact_type": "cloudformation",
        "description": "What the tenant requires.",
        "match": {"resource_types": ["AWS::S3::Bucket"]},
        "assert": {"path": "Properties.BucketName", "op": "exists"},
    }
    base.update(fields)
    return base


def run(
    rules: list[dict[str, Any]] | list[CustomRule],
    kind: ArtifactType,
    text: str,
    budget_ms: float = GENEROUS_MS,
) -> tuple[list[tuple[str, str | None, int | None, str]], list[str]]:
    parsed = [r if isinstance(r, CustomRule) else parse_custom_rules([r])[0] for r in rules]
    hits, notes = evaluate_custom(parsed, kind, parse(kind, text), budget_ms=budget_ms)
    return [(r.id, h.resource, h.line, h.message) for r, h in hits], notes


def fired(rules: list[dict[str, Any]], kind: ArtifactType, text: str) -> set[tuple]:
    hits, notes = run(rules, kind, text)
    assert notes == []
    return {(resource, line) for _, resource, line, _ in hits}


def error_locs(document: Any) -> list[str]:
    with pytest.raises(ValidationError) as info:
        parse_custom_rules(document)
    return [".".join(map(str, err["loc"])) for err in info.value.errors()]


def error_text(document: Any) -> str:
    with pytest.raises(ValidationError) as info:
        parse_custom_rules(document)
    return str(info.value)


# -- the three examples of the issue ---------------------------------------------------------

COST_CENTER = make_rule(
    title="Every S3 bucket has a CostCenter tag",
    match={"resource_types": ["AWS::S3::*"]},
    **{"assert": {"path": "Properties.Tags", "op": "has_tag", "value": "CostCenter"}},
)

BUCKETS = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Tagged:
    Type: AWS::S3::Bucket
    Properties:
      Tags:
        - Key: Team
          Value: data
        - Key: CostCenter
          Value: "4711"
  WrongTags:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: logs
      Tags:
        - Key: Team
          Value: data
  NoTags:
    Type: AWS::S3::Bucket
  Policy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref Tagged
      PolicyDocument: {}
  Queue:
    Type: AWS::SQS::Queue
"""


def test_every_bucket_has_a_cost_center_tag() -> None:
    hits, notes = run([COST_CENTER], CFN, BUCKETS)
    assert notes == []
    assert [(rid, res, line) for rid, res, line, _ in hits] == [
        ("X-ACME-001", "WrongTags", 15),  # the Tags key
        ("X-ACME-001", "NoTags", 18),  # the resource: nothing to point at below it
        ("X-ACME-001", "Policy", 20),  # AWS::S3::* matches the bucket policy too
    ]
    assert hits[0][3] == "Properties.Tags has no tag 'CostCenter'"
    assert "Properties.Tags is not set" in hits[1][3]


def test_cost_center_silent_on_good_template_and_sees_sam_tag_maps() -> None:
    good = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Data:
    Type: AWS::S3::Bucket
    Properties:
      Tags: [{Key: CostCenter, Value: "1"}]
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: src/
      Tags:
        CostCenter: "1"
  Other:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: src/
      Tags:
        Team: x
"""
    assert fired([COST_CENTER], CFN, good) == set()
    lambdas = make_rule(
        match={"resource_types": ["AWS::Lambda::Function"]},
        **{"assert": {"path": "Properties.Tags", "op": "has_tag", "value": "CostCenter"}},
    )
    # SAM functions are seen as the Lambda functions they become; a tag map counts as tags
    assert fired([lambdas], CFN, good) == {("Other", 21)}  # its Tags


def test_tag_that_depends_on_a_condition_fires_and_disabled_resources_are_skipped() -> None:
    template = """\
Parameters:
  Stage:
    Type: String
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
  Never: !Equals [a, b]
Resources:
  Maybe:
    Type: AWS::S3::Bucket
    Properties:
      Tags:
        - !If [IsProd, {Key: CostCenter, Value: x}, !Ref AWS::NoValue]
  Skipped:
    Type: AWS::S3::Bucket
    Condition: Never
"""
    hits, _ = run([COST_CENTER], CFN, template)
    assert [(res, line, msg) for _, res, line, msg in hits] == [
        (
            "Maybe",
            12,
            "Properties.Tags[0].Key is not set but must be equal to 'CostCenter' "
            "(when condition IsProd is false)",
        )
    ]


RDS_CLASSES = make_rule(
    "X-ACME-002",
    title="RDS instance classes from the approved list",
    match={"resource_types": ["AWS::RDS::DBInstance"]},
    **{
        "assert": {
            "path": "Properties.DBInstanceClass",
            "op": "in",
            "value": ["db.t3.micro", "db.t3.small", "db.m6g.large"],
        }
    },
)

DATABASES = """\
Parameters:
  Size:
    Type: String
    Default: db.t3.small
  Anything:
    Type: String
  Choice:
    Type: String
    AllowedValues: [db.t3.micro, db.r5.24xlarge]
Conditions:
  IsProd: !Equals [!Ref "AWS::StackName", prod]
Resources:
  Good:
    Type: AWS::RDS::DBInstance
    Properties:
      DBInstanceClass: db.t3.micro
  FromDefault:
    Type: AWS::RDS::DBInstance
    Properties:
      DBInstanceClass: !Ref Size
  Huge:
    Type: AWS::RDS::DBInstance
    Properties:
      Engine: postgres
      DBInstanceClass: db.r5.24xlarge
  Unknown:
    Type: AWS::RDS::DBInstance
    Properties:
      DBInstanceClass: !Ref Anything
  Allowed:
    Type: AWS::RDS::DBInstance
    Properties:
      DBInstanceClass: !Ref Choice
  Branches:
    Type: AWS::RDS::DBInstance
    Properties:
      DBInstanceClass: !If [IsProd, db.m6g.large, db.x2g.16xlarge]
  Missing:
    Type: AWS::RDS::DBInstance
    Properties:
      Engine: mysql
"""


def test_rds_instance_class_must_be_approved() -> None:
    hits, notes = run([RDS_CLASSES], CFN, DATABASES)
    assert notes == []
    by_resource = {res: (line, message) for _, res, line, message in hits}
    assert set(by_resource) == {"Huge", "Unknown", "Allowed", "Branches", "Missing"}
    assert by_resource["Huge"] == (
        25,
        "Properties.DBInstanceClass is 'db.r5.24xlarge' but must be one of "
        "['db.t3.micro', 'db.t3.small', 'db.m6g.large']",
    )
    line, message = by_resource["Unknown"]  # a parameter without any value: fail closed
    assert line == 29 and "parameter Anything" in message and "could not be resolved" in message
    assert "'db.r5.24xlarge'" in by_resource["Allowed"][1]  # one allowed value is not approved
    assert "when condition IsProd is false" in by_resource["Branches"][1]
    assert by_resource["Missing"] == (
        38,
        "Properties.DBInstanceClass is not set but must be one of "
        "['db.t3.micro', 'db.t3.small', 'db.m6g.large']",
    )


def test_rds_rule_silent_when_deploy_parameters_are_known() -> None:
    template = DATABASES.replace("  Anything:\n    Type: String\n", "")
    template = template.split("  Unknown:")[0] + "\n"
    assert fired([RDS_CLASSES], CFN, template) == {("Huge", 23)}


OUR_REGISTRY = make_rule(
    "X-ACME-003",
    title="Base images come from our registry",
    artifact_type="dockerfile",
    match={"target": "base_images"},
    **{"assert": {"path": "registry", "op": "equals", "value": "registry.acme.io"}},
)


def test_base_images_must_come_from_our_registry() -> None:
    dockerfile = """\
ARG PY=3.12
FROM python:${PY}-slim AS build
RUN pip wheel -w /w .
FROM build AS test
RUN pytest
FROM registry.acme.io/base/python:3.12@sha256:abc AS final
COPY --from=build /w /w
"""
    hits, notes = run([OUR_REGISTRY], DOCKER, dockerfile)
    assert notes == []
    assert hits == [
        ("X-ACME-003", None, 2, "registry is 'docker.io' but must be equal to 'registry.acme.io'")
    ]
    final_only = {**OUR_REGISTRY, "match": {"target": "final_stage_base_image"}}
    assert fired([final_only], DOCKER, dockerfile) == set()
    assert fired([final_only], DOCKER, "FROM scratch\nCOPY app /app\n") == set()
    # the final stage builds on a stage: its base image is the one that stage names
    assert fired([final_only], DOCKER, "FROM node:20 AS b\nFROM b\nUSER node\n") == {(None, 1)}
    good = "FROM registry.acme.io/python:3.12\nFROM registry.acme.io/nginx:1.27\n"
    assert fired([OUR_REGISTRY], DOCKER, good) == set()


def test_base_image_from_an_unknown_build_argument_fails_closed() -> None:
    hits, _ = run([OUR_REGISTRY], DOCKER, "ARG BASE\nFROM $BASE\n")
    assert [(line, message) for _, _, line, message in hits] == [
        (
            2,
            "registry comes from build argument BASE, which has no default in the Dockerfile: "
            "it could not be resolved, so the rule fails closed",
        )
    ]
    regex = {
        **OUR_REGISTRY,
        "assert": {"path": "image", "op": "regex", "value": r"^registry\.acme\.io/"},
    }
    assert fired([regex], DOCKER, "ARG BASE=registry.acme.io/python:3\nFROM ${BASE}\n") == set()
    assert fired([regex], DOCKER, "ARG BASE=python:3\nFROM ${BASE}\n") == {(None, 2)}


REPORT = """\
<?xml version="1.0" encoding="UTF-8"?>
<testsuites>
  <testsuite name="unit" tests="3">
    <testcase classname="pkg.test_a" name="test_fast" time="0.2"/>
    <testcase classname="pkg.test_a" name="test_slow" time="42.5"/>
    <testcase classname="pkg.test_b" name="test_untimed"/>
  </testsuite>
  <testsuite name="integration" tests="1">
    <testcase classname="it.test_api" name="test_get" time="3"/>
  </testsuite>
</testsuites>
"""


def test_no_test_may_take_more_than_thirty_seconds() -> None:
    slow = make_rule(
        "X-ACME-004",
        artifact_type="junit",
        match={"target": "cases"},
        **{"assert": {"path": "time", "op": "lte", "value": 30}},
    )
    hits, notes = run([slow], JUNIT, REPORT)
    assert notes == []
    assert [(res, line, msg) for _, res, line, msg in hits] == [
        ("pkg.test_a::test_slow", 5, "time is 42.5 but must be at most 30"),
        ("pkg.test_b::test_untimed", 6, "time is not set but must be at most 30"),
    ]
    lenient = {
        **slow,
        "assert": {
            "any": [
                {"path": "time", "op": "exists", "value": False},
                {"path": "time", "op": "lte", "value": 30},
            ]
        },
    }
    assert fired([lenient], JUNIT, REPORT) == {("pkg.test_a::test_slow", 5)}
    assert fired([lenient], JUNIT, REPORT.replace("42.5", "29.9")) == set()


def test_suite_must_have_at_least_n_tests() -> None:
    rule = make_rule(
        "X-ACME-005",
        artifact_type="junit",
        match={"target": "suites", "suites": ["integration*"], "required": True},
        **{"assert": {"path": "tests", "op": "gte", "value": 2}},
    )
    hits, _ = run([rule], JUNIT, REPORT)
    assert [(res, line, msg) for _, res, line, msg in hits] == [
        ("integration", 8, "tests is 1 but must be at least 2")
    ]
    more = REPORT.replace(
        '<testcase classname="it.test_api" name="test_get" time="3"/>',
        '<testcase classname="it.t" name="a"/><testcase classname="it.t" name="b"/>',
    )
    assert fired([rule], JUNIT, more) == set()
    absent = REPORT.replace('name="integration"', 'name="e2e"')
    hits, _ = run([rule], JUNIT, absent)
    assert [(res, line, msg) for _, res, line, msg in hits] == [
        (None, None, "no suite matching integration* in the report")
    ]


# -- every operator ---------------------------------------------------------------------------

OPS_TEMPLATE = """\
Resources:
  Thing:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupName: web-frontend
      Port: 443
      PortText: "8080"
      Enabled: "true"
      Empty: []
      Ingress:
        - CidrIp: 10.0.0.0/8
          FromPort: 443
        - CidrIp: 0.0.0.0/0
          FromPort: 80
      Labels: [a, b]
      Tags:
        - Key: Team
          Value: web
      Settings:
        mode: strict
"""

OPERATOR_CASES = [
    # (condition, holds)
    ({"path": "Properties.GroupName", "op": "exists"}, True),
    ({"path": "Properties.Nope", "op": "exists"}, False),
    ({"path": "Properties.Nope", "op": "exists", "value": False}, True),
    ({"path": "Properties.GroupName", "op": "exists", "value": False}, False),
    ({"path": "Properties.GroupName", "op": "equals", "value": "web-frontend"}, True),
    ({"path": "Properties.GroupName", "op": "equals", "value": "web"}, False),
    ({"path": "Properties.Port", "op": "equals", "value": "443"}, True),
    ({"path": "Properties.PortText", "op": "equals", "value": 8080}, True),
    ({"path": "Properties.Enabled", "op": "equals", "value": True}, True),
    ({"path": "Properties.Nope", "op": "equals", "value": "x"}, False),
    ({"path": "Properties.GroupName", "op": "not_equals", "value": "web"}, True),
    ({"path": "Properties.Port", "op": "not_equals", "value": 443}, False),
    ({"path": "Properties.Nope", "op": "not_equals", "value": "x"}, True),
    ({"path": "Properties.Port", "op": "in", "value": [80, 443]}, True),
    ({"path": "Properties.Port", "op": "in", "value": ["80", "443"]}, True),
    ({"path": "Properties.Port", "op": "in", "value": [80, 8443]}, False),
    ({"path": "Properties.Port", "op": "not_in", "value": [22, 3389]}, True),
    ({"path": "Properties.Port", "op": "not_in", "value": [443]}, False),
    ({"path": "Properties.GroupName", "op": "regex", "value": "^web-"}, True),
    ({"path": "Properties.GroupName", "op": "regex", "value": "(?i)^WEB-FRONT"}, True),
    ({"path": "Properties.GroupName", "op": "regex", "value": "^api-"}, False),
    ({"path": "Properties.Port", "op": "regex", "value": r"^\d{3}$"}, True),
    ({"path": "Properties.Ingress", "op": "regex", "value": "."}, False),  # not text
    ({"path": "Properties.Port", "op": "gt", "value": 442}, True),
    ({"path": "Properties.Port", "op": "gt", "value": 443}, False),
    ({"path": "Properties.Port", "op": "gte", "value": 443}, True),
    ({"path": "Properties.PortText", "op": "gte", "value": 8081}, False),
    ({"path": "Properties.PortText", "op": "lt", "value": 8081.5}, True),
    ({"path": "Properties.Port", "op": "lt", "value": 443}, False),
    ({"path": "Properties.Port", "op": "lte", "value": 443}, True),
    ({"path": "Properties.GroupName", "op": "lte", "value": 1}, False),  # not a number
    ({"path": "Properties.GroupName", "op": "contains", "value": "front"}, True),
    ({"path": "Properties.Labels", "op": "contains", "value": "b"}, True),
    ({"path": "Properties.Labels", "op": "contains", "value": "c"}, False),
    ({"path": "Properties.Settings", "op": "contains", "value": "mode"}, True),
    ({"path": "Properties.Tags", "op": "has_tag", "value": "Team"}, True),
    ({"path": "Properties.Tags", "op": "has_tag", "value": "Owner"}, False),
    (
        {
            "path": "Properties.Ingress",
            "op": "any",
            "where": {"path": "CidrIp", "op": "equals", "value": "0.0.0.0/0"},
        },
        True,
    ),
    (
        {
            "path": "Properties.Ingress",
            "op": "all",
            "where": {"path": "CidrIp", "op": "not_equals", "value": "0.0.0.0/0"},
        },
        False,
    ),
    (
        {
            "path": "Properties.Ingress",
            "op": "all",
            "where": {"path": "FromPort", "op": "in", "value": [80, 443]},
        },
        True,
    ),
    ({"path": "Properties.Labels", "op": "all", "where": {"op": "regex", "value": "^[ab]$"}}, True),
    ({"path": "Properties.Empty", "op": "any", "where": {"op": "exists"}}, False),
    ({"path": "Properties.Empty", "op": "all", "where": {"op": "exists", "value": False}}, True),
    ({"path": "Properties.Nope", "op": "all", "where": {"op": "exists", "value": False}}, True),
    (
        {
            "path": "Properties.Settings",  # a mapping is a list of {Key, Value}
            "op": "any",
            "where": {"path": "Value", "op": "equals", "value": "strict"},
        },
        True,
    ),
    ({"path": "Properties.Ingress[1].CidrIp", "op": "equals", "value": "0.0.0.0/0"}, True),
    ({"path": "Properties.Ingress.0.FromPort", "op": "equals", "value": 443}, True),
    ({"path": "Properties.Ingress[5].FromPort", "op": "exists"}, False),
    ({"path": "Type", "op": "equals", "value": "AWS::EC2::SecurityGroup"}, True),
    ({"path": "LogicalId", "op": "regex", "value": "^[A-Z]"}, True),
    ({"not": {"path": "Properties.Port", "op": "equals", "value": 22}}, True),
    ({"not": {"path": "Properties.Port", "op": "equals", "value": 443}}, False),
    (
        {
            "all": [
                {"path": "Properties.Port", "op": "equals", "value": 443},
                {"path": "Properties.GroupName", "op": "exists"},
            ]
        },
        True,
    ),
    (
        {
            "all": [
                {"path": "Properties.Port", "op": "equals", "value": 443},
                {"path": "Properties.Nope", "op": "exists"},
            ]
        },
        False,
    ),
    (
        {
            "any": [
                {"path": "Properties.Port", "op": "equals", "value": 22},
                {"path": "Properties.Nope", "op": "exists"},
            ]
        },
        False,
    ),
    (
        {
            "any": [
                {"path": "Properties.Port", "op": "equals", "value": 22},
                {"path": "Properties.GroupName", "op": "exists"},
            ]
        },
        True,
    ),
]


@pytest.mark.parametrize(("condition", "holds"), OPERATOR_CASES)
def test_operator(condition: dict[str, Any], holds: bool) -> None:
    rule = make_rule(match={"resource_types": ["AWS::EC2::*"]}, **{"assert": condition})
    hits, notes = run([rule], CFN, OPS_TEMPLATE)
    assert notes == []
    assert (not hits) is holds, hits
    for _, resource, line, message in hits:
        assert resource == "Thing" and line is not None and message


def test_every_operator_is_exercised() -> None:
    def ops(node: dict[str, Any]) -> set[str]:
        found = {node["op"]} if "op" in node else set()
        for child in [*node.get("all", []), *node.get("any", [])]:
            found |= ops(child)
        for key in ("not", "where"):
            if key in node:
                found |= ops(node[key])
        return found

    seen = set().union(*(ops(condition) for condition, _ in OPERATOR_CASES))
    assert seen == set(custom.Op.__args__)


def test_messages_name_the_failing_item_and_line() -> None:
    rule = make_rule(
        match={"resource_types": ["AWS::EC2::SecurityGroup"]},
        **{
            "assert": {
                "path": "Properties.Ingress",
                "op": "all",
                "where": {"path": "CidrIp", "op": "not_equals", "value": "0.0.0.0/0"},
            }
        },
    )
    hits, _ = run([rule], CFN, OPS_TEMPLATE)
    assert [(line, message) for _, _, line, message in hits] == [
        (13, "Properties.Ingress[1].CidrIp is '0.0.0.0/0' but must be different from '0.0.0.0/0'")
    ]
    negated = {**rule, "assert": {"not": {"path": "Properties.Port", "op": "in", "value": [443]}}}
    hits, _ = run([negated], CFN, OPS_TEMPLATE)
    assert hits[0][2:] == (6, "Properties.Port is 443 but must not be one of [443]")


# -- intrinsics that cannot be resolved fail closed ----------------------------------------------

INTRINSICS = """\
Parameters:
  Stage:
    Type: String
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
Resources:
  Key:
    Type: AWS::KMS::Key
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !GetAtt Key.Arn
      Logging: !GetAtt Key.Arn
      Tags:
        - Key: !Ref Stage
          Value: x
      Public: !If [IsProd, false, true]
"""


@pytest.mark.parametrize(
    "condition",
    [
        {"path": "Properties.BucketName", "op": "regex", "value": "^acme-"},
        {"path": "Properties.BucketName", "op": "not_equals", "value": "public"},
        {"not": {"path": "Properties.BucketName", "op": "equals", "value": "public"}},
        {"path": "Properties.Logging.DestinationBucketName", "op": "exists"},
        {"path": "Properties.Logging.DestinationBucketName", "op": "exists", "value": False},
        {"path": "Properties.Tags", "op": "has_tag", "value": "CostCenter"},
        {"path": "Properties.Public", "op": "equals", "value": False},
        {"not": {"path": "Properties.Public", "op": "equals", "value": True}},
    ],
)
def test_unresolvable_values_fail_closed(condition: dict[str, Any]) -> None:
    rule = make_rule(**{"assert": condition})
    hits, _ = run([rule], CFN, INTRINSICS)
    assert len(hits) == 1, hits
    _, resource, line, message = hits[0]
    assert resource == "Bucket" and line is not None
    assert "could not be resolved" in message or "when condition IsProd" in message


def test_unresolved_value_is_still_present() -> None:
    rule = make_rule(**{"assert": {"path": "Properties.BucketName", "op": "exists"}})
    assert fired([rule], CFN, INTRINSICS) == set()
    regex = make_rule(**{"assert": {"path": "Properties.BucketName", "op": "regex", "value": "x"}})
    hits, _ = run([regex], CFN, INTRINSICS)
    assert hits[0][2:] == (
        12,
        "Properties.BucketName comes from Fn::GetAtt Key.Arn, known only at deploy time: "
        "it could not be resolved, so the rule fails closed",
    )


# -- validation on upload --------------------------------------------------------------------


def test_valid_rules_round_trip() -> None:
    rules = parse_custom_rules({"rules": [COST_CENTER, RDS_CLASSES, OUR_REGISTRY]})
    assert [r.id for r in rules] == ["X-ACME-001", "X-ACME-002", "X-ACME-003"]
    dumped = [r.model_dump(mode="json", by_alias=True) for r in rules]
    assert "kind" not in str(dumped) and "for_type" not in str(dumped)
    again = parse_custom_rules(dumped)
    assert [r.model_dump(mode="json", by_alias=True) for r in again] == dumped
    assert dumped[0]["assert"] == {
        "all": None,
        "any": None,
        "not": None,
        "path": "Properties.Tags",
        "op": "has_tag",
        "value": "CostCenter",
        "where": None,
    }


def test_bad_op_is_located_exactly() -> None:
    rules = [make_rule("X-ACME-001"), make_rule("X-ACME-002")]
    rules.append(
        make_rule(
            "X-ACME-003",
            **{"assert": {"all": [{"path": "Properties.A", "op": "matches", "value": "x"}]}},
        )
    )
    assert error_locs({"rules": rules}) == ["rules.2.assert.all.0.op"]


def on_a(**leaf: Any) -> dict[str, Any]:
    """A rule change: assert a leaf on Properties.A."""
    return {"assert": {"path": "Properties.A", **leaf}}


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"id": "ACME-001"}, "rules.0.id"),
        ({"id": "X-acme-001"}, "rules.0.id"),
        ({"severity": "urgent"}, "rules.0.severity"),
        ({"artifact_type": "terraform"}, "rules.0.artifact_type"),
        ({"title": ""}, "rules.0.title"),
        ({"description": "x" * 1001}, "rules.0.description"),
        ({"owner": "me"}, "rules.0.owner"),
        ({"match": {}}, "rules.0.match.resource_types"),
        ({"match": {"resource_types": ["AWS::S3::*"], "target": "cases"}}, "rules.0.match.target"),
        ({"match": {"resource_types": ["AWS::S3::{B}"]}}, "rules.0.match.resource_types"),
        ({"match": {"resource_types": ["x"] * 51}}, "rules.0.match.resource_types"),
        ({"assert": {"path": "Properties.A"}}, "rules.0.assert.op"),
        ({"assert": {"path": "Properties..A", "op": "exists"}}, "rules.0.assert.path"),
        (on_a(op="exists", extra=1), "rules.0.assert.extra"),
        (on_a(op="equals"), "rules.0.assert.value"),
        (on_a(op="equals", value={"a": 1}), "rules.0.assert.value"),
        (on_a(op="equals", value="x" * 1001), "rules.0.assert.value"),
        (on_a(op="in", value="a"), "rules.0.assert.value"),
        (on_a(op="in", value=[1, [2]]), "rules.0.assert.value"),
        (on_a(op="gt", value="10"), "rules.0.assert.value"),
        (on_a(op="gt", value=float("inf")), "rules.0.assert.value"),
        (on_a(op="regex", value="("), "rules.0.assert.value"),
        (on_a(op="any"), "rules.0.assert.where"),
        (on_a(op="exists", where={"op": "exists"}), "rules.0.assert.where"),
        (on_a(op="any", where={"op": "nope"}), "rules.0.assert.where.op"),
        ({"assert": {"all": [on_a(op="exists")["assert"]], "op": "exists"}}, "rules.0.assert.op"),
        ({"assert": {"all": []}}, "rules.0.assert.all"),
        ({"assert": {"all": [{"op": "exists"}], "any": [{"op": "exists"}]}}, "rules.0.assert"),
        (
            {"assert": {"not": {"not": on_a(op="regex", value=1)["assert"]}}},
            "rules.0.assert.not.not.value",
        ),
        # a top-level path must name a field of what is matched (location in the message)
        ({"assert": {"path": "Tags", "op": "exists"}}, "rules.0"),
    ],
)
def test_validation_error_points_at_the_field(change: dict[str, Any], loc: str) -> None:
    assert loc in error_locs([make_rule(**change)])


def test_path_must_name_a_field_of_the_match() -> None:
    text = error_text([make_rule(**{"assert": {"any": [{"path": "Tags", "op": "exists"}]}})])
    assert "assert.any.0.path: 'Tags' is not a field of a resource" in text
    docker = make_rule(artifact_type="dockerfile", match={"target": "base_images"})
    docker["assert"] = {"path": "imgae", "op": "exists"}
    assert "'imgae' is not a field of a base image" in error_text([docker])
    junit = make_rule(artifact_type="junit", match={"target": "cases", "suites": ["unit"]})
    junit["assert"] = {"path": "duration", "op": "lte", "value": 1}
    assert "'duration' is not a field of a test case" in error_text([junit])


@pytest.mark.parametrize(
    ("artifact_type", "match", "field"),
    [
        ("dockerfile", {"target": "cases"}, "target"),
        ("dockerfile", {}, "target"),
        ("dockerfile", {"target": "base_images", "instruction": "RUN"}, "instruction"),
        ("dockerfile", {"target": "instructions", "instruction": ["RUN", "BUILD"]}, "instruction"),
        ("dockerfile", {"target": "base_images", "final_stage_only": True}, "final_stage_only"),
        ("dockerfile", {"target": "base_images", "suites": ["x"]}, "suites"),
        ("junit", {"target": "base_images"}, "target"),
        ("junit", {"target": "cases", "resource_types": ["AWS::S3::Bucket"]}, "resource_types"),
    ],
)
def test_match_is_checked_per_artifact_type(
    artifact_type: str, match: dict[str, Any], field: str
) -> None:
    rule = make_rule(artifact_type=artifact_type, match=match)
    rule["assert"] = {"path": "name", "op": "exists"}
    assert f"rules.0.match.{field}" in error_locs([rule])


def test_duplicate_ids_and_too_many_rules_are_refused() -> None:
    text = error_text([make_rule("X-A-001"), make_rule("X-B-001"), make_rule("X-A-001")])
    assert "rule id X-A-001 is used by rules 0 and 2" in text
    many = [make_rule(f"X-A-{i:03d}") for i in range(MAX_RULES + 1)]
    assert error_locs({"rules": many}) == ["rules"]
    assert len(parse_custom_rules(many[:MAX_RULES])) == MAX_RULES


def test_document_must_be_a_rule_set() -> None:
    assert error_locs("rules") == [""]
    assert error_locs({"rules": [make_rule()], "extra": 1}) == ["extra"]


# -- hostile rules -----------------------------------------------------------------------------


def nested(depth: int) -> dict[str, Any]:
    node: dict[str, Any] = {"path": "Properties.Port", "op": "equals", "value": 443}
    for level in range(depth - 1):
        node = {"not": node} if level % 2 else {"all": [node]}
    return node


def test_condition_depth_limit() -> None:
    rule = make_rule(match={"resource_types": ["AWS::EC2::*"]}, **{"assert": nested(MAX_DEPTH)})
    hits, notes = run([rule], CFN, OPS_TEMPLATE)  # at the limit: accepted and evaluated
    assert notes == [] and len(hits) in (0, 1)
    too_deep = make_rule(**{"assert": nested(MAX_DEPTH + 1)})
    assert "nested more than 6 levels" in error_text([too_deep])
    assert error_locs([too_deep]) == ["rules.0.assert"]


def test_a_very_deep_document_is_refused_without_recursing() -> None:
    node: dict[str, Any] = {"path": "Properties.A", "op": "exists"}
    for _ in range(50_000):
        node = {"not": node}
    started = time.perf_counter()
    assert error_locs([make_rule(**{"assert": node})]) == ["rules.0.assert"]
    assert time.perf_counter() - started < 5


def test_leaf_limit() -> None:
    leaf = {"path": "Properties.Port", "op": "gte", "value": 1}
    at_limit = make_rule(
        match={"resource_types": ["AWS::EC2::*"]}, **{"assert": {"all": [leaf] * MAX_LEAVES}}
    )
    assert fired([at_limit], CFN, OPS_TEMPLATE) == set()
    too_many = make_rule(**{"assert": {"all": [leaf] * (MAX_LEAVES + 1)}})
    assert "more than 200 leaf conditions" in error_text([too_many])
    huge = make_rule(**{"assert": {"any": [leaf] * 1_000_000}})
    started = time.perf_counter()
    assert error_locs([huge]) == ["rules.0.assert"]
    assert time.perf_counter() - started < 5


def test_value_list_limit_and_a_full_list_is_fast() -> None:
    classes = [f"db.custom{i}.large" for i in range(MAX_LIST_ITEMS - 1)] + ["db.t3.micro"]
    rule = {**RDS_CLASSES, "assert": {**RDS_CLASSES["assert"], "value": classes}}
    template = "Resources:\n" + "".join(
        f"  Db{i}:\n    Type: AWS::RDS::DBInstance\n"
        f"    Properties:\n      DBInstanceClass: {'db.t3.micro' if i % 2 else 'db.x.y'}\n"
        for i in range(500)
    )
    started = time.perf_counter()
    hits, notes = run([rule], CFN, template)
    assert time.perf_counter() - started < 5
    assert notes == [] and len(hits) == 250
    too_long = {**rule, "assert": {**rule["assert"], "value": [*classes, "one.more"]}}
    assert error_locs([too_long]) == ["rules.0.assert.value"]


@pytest.mark.parametrize(
    "pattern",
    [r"(a)\1", r"(?=a)a", r"(?<!a)b", r"(a{1000}){1000}", r"(.*){1000}", r".{999}$", "a" * 501],
)
def test_regexes_that_cannot_run_in_linear_time_or_are_too_big_are_refused(pattern: str) -> None:
    rule = make_rule(**{"assert": {"path": "Properties.A", "op": "regex", "value": pattern}})
    assert error_locs([rule]) == ["rules.0.assert.value"]


def test_catastrophic_regex_runs_in_linear_time() -> None:
    rule = make_rule(
        match={"resource_types": ["AWS::SSM::Parameter"]},
        **{"assert": {"path": "Properties.Value", "op": "regex", "value": "(a+)+$"}},
    )
    text = "Resources:\n  P:\n    Type: AWS::SSM::Parameter\n    Properties:\n"
    text += f"      Value: {'a' * 200_000}b\n"
    started = time.perf_counter()
    hits, notes = run([rule], CFN, text)
    assert time.perf_counter() - started < 5
    assert notes == [] and [h[1] for h in hits] == ["P"]  # (a+)+$ cannot match before the b
    nested_quantifiers = {**rule, "assert": {**rule["assert"], "value": "^(x+x+)+y$"}}
    started = time.perf_counter()
    run([nested_quantifiers], CFN, text.replace("a" * 200_000, "x" * 200_000))
    assert time.perf_counter() - started < 5


def test_text_too_long_for_the_regex_fails_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    rule = make_rule(
        match={"resource_types": ["AWS::SSM::Parameter"]},
        **{"assert": {"path": "Properties.Value", "op": "regex", "value": "^[a-z]+$"}},
    )
    text = "Resources:\n  P:\n    Type: AWS::SSM::Parameter\n    Properties:\n"
    text += f"      Value: {'a' * 5_000}\n"
    assert fired([rule], CFN, text) == set()
    monkeypatch.setattr(custom, "MAX_REGEX_WORK", 1_000)
    hits, _ = run([rule], CFN, text)
    assert hits == [
        (
            "X-ACME-001",
            "P",
            5,
            "Properties.Value is too long (5000 characters) to be matched against /^[a-z]+$/ "
            "within the limits, so the rule fails closed",
        )
    ]
    negated = {**rule, "assert": {"not": rule["assert"]}}
    assert len(run([negated], CFN, text)[0]) == 1  # unknown under `not` still fires


def big_template(resources: int) -> str:
    parts = ["Resources:\n"]
    for i in range(resources):
        tags = "" if i % 3 == 0 else "      Tags:\n        - Key: CostCenter\n          Value: x\n"
        parts.append(
            f"  Bucket{i}:\n    Type: AWS::S3::Bucket\n    Properties:\n"
            f"      BucketName: acme-{i}\n{tags}"
        )
    return "".join(parts)


def test_hundred_rules_on_a_big_template_finish_within_bounds() -> None:
    rules = [
        make_rule(
            f"X-ACME-{i:03d}",
            **{
                "assert": {
                    "all": [
                        {"path": "Properties.Tags", "op": "has_tag", "value": "CostCenter"},
                        {"path": "Properties.BucketName", "op": "regex", "value": "^acme-\\d+$"},
                    ]
                }
            },
        )
        for i in range(MAX_RULES)
    ]
    parsed = parse_custom_rules(rules)
    template = parse(CFN, big_template(120))
    hits, notes = evaluate_custom(parsed, CFN, template, budget_ms=GENEROUS_MS)
    assert notes == [] and len(hits) == MAX_RULES * 40  # every third bucket is untagged
    started = time.perf_counter()
    hits, notes = evaluate_custom(parsed, CFN, template)  # default budget: finishes or stops
    assert time.perf_counter() - started < 5
    stopped = {note.split()[2] for note in notes}
    assert all(rule.id in stopped or sum(1 for r, _ in hits if r is rule) == 40 for rule in parsed)


def test_budget_exceeded_stops_and_fails_closed() -> None:
    rules = parse_custom_rules([make_rule(f"X-ACME-{i:03d}") for i in range(3)])
    hits, notes = evaluate_custom(rules, CFN, parse(CFN, big_template(50)), budget_ms=0)
    assert notes == [
        "custom rule X-ACME-000 stopped: evaluation budget exceeded (0 ms of CPU time)",
        "custom rule X-ACME-001 not evaluated: evaluation budget exceeded (0 ms of CPU time)",
        "custom rule X-ACME-002 not evaluated: evaluation budget exceeded (0 ms of CPU time)",
    ]
    assert [(r.id, h.resource) for r, h in hits] == [
        ("X-ACME-000", None),
        ("X-ACME-001", None),
        ("X-ACME-002", None),
    ]
    assert all("it is not known to hold" in h.message for _, h in hits)


def test_item_and_step_caps_are_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    template = parse(CFN, big_template(30))
    rules = parse_custom_rules([make_rule("X-ACME-001"), make_rule("X-ACME-002")])
    monkeypatch.setattr(custom, "MAX_ITEMS_PER_CALL", 40)
    hits, notes = evaluate_custom(rules, CFN, template, budget_ms=GENEROUS_MS)
    assert notes == ["custom rule X-ACME-002 stopped: item limit exceeded (40 items)"]
    assert [h.resource for r, h in hits if r.id == "X-ACME-002"] == [None]
    monkeypatch.setattr(custom, "MAX_ITEMS_PER_CALL", 10_000)
    monkeypatch.setattr(custom, "MAX_STEPS_PER_CALL", 1_000)
    # a quantifier over a long list inside a quantifier: bounded by the step cap
    items = ", ".join(["[a, b, c, d, e, f, g, h]"] * 400)
    text = f"Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      L: [{items}]\n"
    rule = make_rule(
        match={"resource_types": ["AWS::SQS::Queue"]},
        **{
            "assert": {
                "path": "Properties.L",
                "op": "all",
                "where": {"op": "all", "where": {"op": "regex", "value": "^[a-h]$"}},
            }
        },
    )
    hits, notes = run([rule], CFN, text)
    assert notes == ["custom rule X-ACME-001 stopped: step limit exceeded (1000 steps)"]
    assert len(hits) == 1 and hits[0][1] is None


def test_rules_of_other_artifact_types_are_ignored() -> None:
    hits, notes = run([OUR_REGISTRY, RDS_CLASSES], DOCKER, "FROM registry.acme.io/x:1\n")
    assert hits == [] and notes == []


def test_instructions_target() -> None:
    no_curl_pipe = make_rule(
        artifact_type="dockerfile",
        match={"target": "instructions", "instruction": "run"},
        **{"assert": {"not": {"path": "args", "op": "regex", "value": r"curl[^|]*\|\s*(ba)?sh"}}},
    )
    nonroot = make_rule(
        "X-ACME-002",
        artifact_type="dockerfile",
        match={"target": "final_stage_base_image"},
        **{"assert": {"path": "user", "op": "not_in", "value": ["root", "0"]}},
    )
    dockerfile = """\
FROM registry.acme.io/base:1 AS b
USER app
RUN curl -fsSL https://x.io/i.sh | sh
FROM b
RUN echo ok
USER root
"""
    hits, _ = run([no_curl_pipe, nonroot], DOCKER, dockerfile)
    assert [(rid, line) for rid, _, line, _ in hits] == [("X-ACME-001", 3), ("X-ACME-002", 1)]
    assert hits[1][3] == "user is 'root' but must be none of ['root', '0']"


def test_inventory_rules_are_written_as_cloudformation_rules() -> None:
    rule = make_rule(artifact_type="aws_inventory", match={"target": "cases"})
    assert "rules.0.artifact_type" in error_locs([rule])
    assert "write a cloudformation rule: it judges live resources too" in error_text([rule])

"""The aws_inventory parser: a valid inventory becomes the model; bad input says what to fix."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.engine.runner import evaluate
from chalicelib.models import ArtifactType
from chalicelib.parsers import ParseError, parse
from chalicelib.parsers.aws_inventory import location
from chalicelib.parsers.detect import detect_type

INV = ArtifactType.AWS_INVENTORY


def inventory(**overrides: Any) -> dict[str, Any]:
    base = {
        "kind": "aws_inventory",
        "version": 1,
        "account_id": "123456789012",
        "regions": ["us-east-1"],
        "collected_at": "2026-01-01T00:00:00+00:00",
        "resources": [
            {
                "arn": "arn:aws:sqs:us-east-1:123456789012:jobs",
                "type": "AWS::SQS::Queue",
                "region": "us-east-1",
                "id": "jobs",
                "configuration": {"Attributes": {}},
            }
        ],
    }
    return {**base, **overrides}


def test_a_valid_inventory_is_parsed() -> None:
    model = parse(INV, json.dumps(inventory()))
    assert model.account_id == "123456789012"
    assert [r.arn for r in model.of_type("AWS::SQS::Queue")] == [
        "arn:aws:sqs:us-east-1:123456789012:jobs"
    ]
    assert model.facts == {} and model.not_assessed == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "a JSON list, not an object"),
        ('{"kind": "something"}', '"kind" must be "aws_inventory"'),
        (json.dumps(inventory(account_id="12")), "account_id: String should match"),
        (json.dumps(inventory(version=2)), "version: Input should be 1"),
        (json.dumps(inventory(regions=[])), "regions: List should have at least 1 item"),
        (
            json.dumps(inventory(resources=[{"arn": "x", "type": "Queue", "region": "r"}])),
            "resources.0.type: String should match pattern",
        ),
        (json.dumps(inventory(extra=1)), "extra: Extra inputs are not permitted"),
        ('{"kind": "aws_inventory", "version": 1, "a": ' + "[" * 5000 + "]" * 5000 + "}", "deep"),
        ('{"kind": "aws_inventory", "n": NaN}', "not valid JSON"),
    ],
)
def test_bad_input_is_a_parse_error_that_names_the_problem(text: str, message: str) -> None:
    with pytest.raises(ParseError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse(INV, text)


def test_many_problems_are_summarised() -> None:
    bad = inventory(resources=[{"arn": ""} for _ in range(10)])
    with pytest.raises(ParseError, match=r"\(and \d+ more\)"):
        parse(INV, json.dumps(bad))


def test_a_bad_inventory_is_an_artifact_error_not_a_crash() -> None:
    report = evaluate(INV, '{"kind": "aws_inventory"}', "aws/123456789012.json")
    assert report.findings == [] and report.error.startswith("the inventory is invalid")


@pytest.mark.parametrize(
    ("path", "text", "expected"),
    [
        ("inventory.json", json.dumps(inventory()), INV),
        ("posture/account", json.dumps(inventory()), INV),  # no suffix: by content
        ("inventory.json", json.dumps({"version": 1, "kind": "aws_inventory"}), INV),
        ("inventory.json", '{"resources": [{"kind": "aws_inventory"}]}', None),  # nested
        (
            "stack.json",
            '{"Resources": {"T": {"Type": "AWS::SNS::Topic"}}}',
            ArtifactType.CLOUDFORMATION,
        ),
    ],
)
def test_inventories_are_detected_by_content(path: str, text: str, expected: Any) -> None:
    assert detect_type(path, text) is expected


def test_findings_are_located_by_account_and_region() -> None:
    model = parse(INV, json.dumps(inventory()))
    assert location(model, "arn:aws:sqs:us-east-1:123456789012:jobs") == (
        "aws://123456789012/us-east-1"
    )
    assert location(model, "arn:aws:iam::123456789012:root") == "aws://123456789012/global"
    assert location(model, "123456789012/eu-west-1") == "aws://123456789012/eu-west-1"
    assert location(model, "123456789012/iam:GetAccountSummary") == "aws://123456789012/global"
    assert location(model, None) == "aws://123456789012/global"

"""A live resource's finding names its account, region and service."""

from __future__ import annotations

import pytest

from chalicelib.posture.place import Place, place

ACCOUNT = "123456789012"


@pytest.mark.parametrize(
    ("location", "resource", "rule_id", "expected"),
    [
        (
            f"aws://{ACCOUNT}/us-east-1",
            f"arn:aws:ec2:us-east-1:{ACCOUNT}:security-group/sg-1",
            "CF-EC2-001",
            Place(ACCOUNT, "us-east-1", "ec2"),
        ),
        (
            f"aws://{ACCOUNT}/eu-west-1",
            "arn:aws:s3:::data",  # no region in a bucket's ARN: the location has it
            "CF-S3-001",
            Place(ACCOUNT, "eu-west-1", "s3"),
        ),
        (
            f"aws://{ACCOUNT}/global",
            ACCOUNT,
            "AWS-TRAIL-001",
            Place(ACCOUNT, "global", "cloudtrail"),
        ),
        (
            f"aws://{ACCOUNT}/us-east-1",
            f"{ACCOUNT}/us-east-1",
            "AWS-GD-001",
            Place(ACCOUNT, "us-east-1", "guardduty"),
        ),
        (
            f"aws://{ACCOUNT}/us-east-1",
            f"{ACCOUNT}/us-east-1/access-analyzer:ListAnalyzers",
            "AWS-ACCESS-001",
            Place(ACCOUNT, "us-east-1", "access-analyzer"),
        ),
        (
            f"aws://{ACCOUNT}/global",
            f"{ACCOUNT}/iam:GetCredentialReport",
            "AWS-ACCESS-001",
            Place(ACCOUNT, "global", "iam"),
        ),
        (f"aws://{ACCOUNT}/global", ACCOUNT, "AWS-ZZZ-001", Place(ACCOUNT, "global", None)),
        (None, None, "CF-EC2-001", Place(None, None, None)),
    ],
)
def test_a_finding_is_placed(
    location: str | None, resource: str | None, rule_id: str, expected: Place
) -> None:
    assert place(location, resource, rule_id) == expected

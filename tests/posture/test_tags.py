"""Tags of regional resources: one paginated Resource Groups Tagging read per region instead of
one tag read per resource, and per-resource reads again when that read is denied."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from chalicelib.posture.aws import Reader
from chalicelib.posture.collect import collect
from tests.posture import seed

SERVICES = ["sns", "sqs", "dynamodb", "lambda", "kms"]
TYPES = {
    "AWS::SNS::Topic",
    "AWS::SQS::Queue",
    "AWS::DynamoDB::Table",
    "AWS::Lambda::Function",
    "AWS::KMS::Key",
}
N = 4  # of each kind; the even ones tagged


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return 'ok'\n")
    return buffer.getvalue()


def _seed(account: Any) -> dict[str, dict[str, str]]:
    """N resources of each kind; the tags each ARN must come out with."""
    expected: dict[str, dict[str, str]] = {}
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role = account.client("iam").create_role(
        RoleName="fn", AssumeRolePolicyDocument=json.dumps(trust)
    )["Role"]["Arn"]
    for i in range(N):
        tags = {"team": f"t{i}", "env": "prod"} if i % 2 == 0 else {}
        pairs = [{"Key": k, "Value": v} for k, v in tags.items()]
        arn = account.client("sns").create_topic(Name=f"topic-{i}", Tags=pairs)["TopicArn"]
        expected[arn] = tags
        account.client("sqs").create_queue(QueueName=f"queue-{i}", tags=tags)
        expected[f"arn:aws:sqs:us-east-1:123456789012:queue-{i}"] = tags
        arn = account.client("dynamodb").create_table(
            TableName=f"table-{i}",
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            **({"Tags": pairs} if pairs else {}),
        )["TableDescription"]["TableArn"]
        expected[arn] = tags
        arn = account.client("lambda").create_function(
            FunctionName=f"fn-{i}",
            Runtime="python3.12",
            Role=role,
            Handler="index.handler",
            Code={"ZipFile": _zip()},
            Tags=tags,
        )["FunctionArn"]
        expected[arn] = tags
        kms_tags = [{"TagKey": k, "TagValue": v} for k, v in tags.items()]
        arn = account.client("kms").create_key(Tags=kms_tags)["KeyMetadata"]["Arn"]
        expected[arn] = tags
    return expected


def _tags(inventory: Any) -> dict[str, dict[str, str]]:
    return {r.arn: r.tags for r in inventory.resources if r.type in TYPES}


def test_tags_come_from_one_tagging_read_per_region(account: Any) -> None:
    expected = _seed(account)
    reader = Reader(account)
    inventory = collect(reader, regions=["us-east-1"], services=SERVICES)
    assert _tags(inventory) == expected
    assert inventory.not_assessed == []
    # one page of tags for the whole region; no tag read per resource
    assert reader.calls["resource-groups-tagging-api"] == 1
    assert reader.calls["sns"] == 1 + N  # list, attributes
    assert reader.calls["sqs"] == 1 + N  # list, attributes
    assert reader.calls["dynamodb"] == 1 + 2 * N  # list, describe, backups
    assert reader.calls["lambda"] == 1 + 3 * N  # list, policy, URL, concurrency
    assert reader.calls["kms"] == 1 + 3 * N  # list, describe, rotation, policy


def test_without_the_tagging_permission_tags_are_read_per_resource(account: Any) -> None:
    from moto.core.authorization import enable_iam_authentication

    expected = _seed(account)
    # moto names the action after the signing name ("tagging"), AWS says "tag"
    auditor = seed.denied(account, ["tag:GetResources", "tagging:GetResources"])
    reader = Reader(auditor)
    services = [s for s in SERVICES if s != "lambda"]  # moto's Lambda refuses signed-in users
    with enable_iam_authentication():
        inventory = collect(reader, regions=["us-east-1"], services=services)
    assert _tags(inventory) == {a: t for a, t in expected.items() if ":lambda:" not in a}
    assert inventory.not_assessed == []  # the tags were still read, one resource at a time
    assert reader.calls["resource-groups-tagging-api"] == 1
    assert reader.calls["sns"] == 1 + 2 * N

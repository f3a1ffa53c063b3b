"""Collecting a moto account: every service, every page, and what cannot be read."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from chalicelib.engine.runner import evaluate
from chalicelib.kinds import ArtifactType
from chalicelib.posture.aws import Reader
from chalicelib.posture.collect import SERVICES, collect
from chalicelib.posture.inventory import Inventory
from tests.posture import seed

# what moto 5 lacks: always reported as not assessed, never guessed
MOTO_GAPS = {
    ("ec2:GetSnapshotBlockPublicAccessState", "not supported by the endpoint"),
    ("access-analyzer:ListAnalyzers", "not supported by the endpoint"),
    ("iam:GetCredentialReport", "incomplete answer"),
}


def _by_type(inventory: Inventory, type_: str) -> dict[str, Any]:
    return {r.id: r for r in inventory.of_type(type_)}


def test_every_service_of_an_insecure_account(account: Any) -> None:
    ids = seed.insecure(account)
    inventory = collect(Reader(account), regions=["us-east-1"])

    assert inventory.account_id == "123456789012" and inventory.regions == ["us-east-1"]
    assert {(n.operation, n.reason) for n in inventory.not_assessed} == MOTO_GAPS
    assert all(r.not_assessed == {} for r in inventory.resources)

    group = _by_type(inventory, "AWS::EC2::SecurityGroup")[ids["group"]]
    assert group.arn == f"arn:aws:ec2:us-east-1:123456789012:security-group/{ids['group']}"
    assert {p["FromPort"] for p in group.configuration["IpPermissions"]} == {22, 3306}
    instance = _by_type(inventory, "AWS::EC2::Instance")[ids["instance"]]
    assert instance.tags == {"team": "web"} and instance.region == "us-east-1"
    assert instance.configuration["MetadataOptions"]["HttpTokens"] == "optional"
    snapshot = _by_type(inventory, "AWS::EC2::Snapshot")[ids["snapshot"]]
    assert snapshot.configuration["Public"] is True
    assert snapshot.arn == f"arn:aws:ec2:us-east-1::snapshot/{ids['snapshot']}"
    assert _by_type(inventory, "AWS::EC2::Image")[ids["image"]].configuration["Public"] is True
    assert ids["eip"] in _by_type(inventory, "AWS::EC2::EIP")
    assert ids["vpc"] in _by_type(inventory, "AWS::EC2::VPC")
    assert _by_type(inventory, "AWS::EC2::NetworkAcl")

    bucket = _by_type(inventory, "AWS::S3::Bucket")["insecure-data"]
    assert bucket.arn == "arn:aws:s3:::insecure-data" and bucket.region == "us-east-1"
    config = bucket.configuration
    assert config["Encryption"] is None and config["PublicAccessBlock"] is None
    assert config["Policy"]["Statement"][0]["Principal"] == "*"  # parsed, not text
    assert config["Logging"] is None and config["Versioning"] == {}

    alice = _by_type(inventory, "AWS::IAM::User")["alice"]
    assert alice.region == "global"
    assert [p["PolicyName"] for p in alice.configuration["AttachedManagedPolicies"]] == [
        "everything"
    ]
    policy = _by_type(inventory, "AWS::IAM::ManagedPolicy")["everything"]
    versions = policy.configuration["PolicyVersionList"]
    assert versions[0]["Document"]["Statement"][0]["Action"] == "*"
    role = _by_type(inventory, "AWS::IAM::Role")["anyone"]
    assert role.configuration["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "AWS": "*"
    }

    keys = {r.arn: r for r in inventory.of_type("AWS::KMS::Key")}
    assert keys[ids["key"]].configuration["KeyRotationEnabled"] is False
    assert keys[ids["key"]].configuration["KeyPolicy"]["Statement"]
    doomed = [r for r in keys.values() if r.id == ids["doomed_key"]]
    assert doomed[0].configuration["KeyState"] == "PendingDeletion"

    database = _by_type(inventory, "AWS::RDS::DBInstance")["open-db"]
    assert database.configuration["PubliclyAccessible"] is True
    db_snapshot = _by_type(inventory, "AWS::RDS::DBSnapshot")["open-db-snap"]
    assert db_snapshot.configuration["RestoreAttributes"] == ["all"]

    function = _by_type(inventory, "AWS::Lambda::Function")["open-fn"]
    assert function.configuration["Url"]["AuthType"] == "NONE"
    assert function.configuration["Policy"]["Statement"][0]["Principal"] == "*"
    table = _by_type(inventory, "AWS::DynamoDB::Table")["orders"]
    assert (
        table.configuration["ContinuousBackups"]["PointInTimeRecoveryDescription"][
            "PointInTimeRecoveryStatus"
        ]
        == "DISABLED"
    )
    topic = _by_type(inventory, "AWS::SNS::Topic")["open-topic"]
    assert topic.configuration["Attributes"]["Policy"]["Statement"][0]["Principal"] == "*"
    queue = _by_type(inventory, "AWS::SQS::Queue")["open-queue"]
    assert queue.arn == "arn:aws:sqs:us-east-1:123456789012:open-queue"
    assert queue.configuration["Attributes"]["Policy"]["Statement"][0]["Principal"] == "*"
    assert "db-password" in _by_type(inventory, "AWS::SecretsManager::Secret")
    trail = _by_type(inventory, "AWS::CloudTrail::Trail")["single-region"]
    assert trail.configuration["Status"]["IsLogging"] is False
    repository = _by_type(inventory, "AWS::ECR::Repository")["open-repo"]
    assert repository.configuration["Policy"]["Statement"][0]["Principal"] == "*"
    assert "/app/forever" in _by_type(inventory, "AWS::Logs::LogGroup")

    assert inventory.fact("us-east-1", "ec2.ebs_encryption_by_default") is False
    assert inventory.fact("us-east-1", "guardduty.detectors") == []
    assert inventory.fact("us-east-1", "securityhub.hub") is None
    assert inventory.fact("us-east-1", "config.recorders") == []
    assert inventory.fact("global", "iam.password_policy") is None  # read: there is none
    assert inventory.fact("global", "iam.account_summary")["Users"] == 1
    assert inventory.fact("global", "s3.account_public_access_block") is None
    [alice_row] = inventory.fact("global", "iam.credential_report")
    assert alice_row["password_enabled"] == "true" and alice_row["mfa_active"] == "false"
    assert not inventory.has_fact("us-east-1", "ec2.snapshot_block_public_access")
    assert inventory.stats["api_calls"] > 0 and inventory.services == list(SERVICES)

    # the artifact round-trips through its JSON
    text = inventory.model_dump_json()
    assert text.startswith('{"kind":"aws_inventory"')
    assert Inventory.model_validate(json.loads(text)).model_dump() == inventory.model_dump()


@pytest.mark.managed_policies
def test_hardened_settings_are_read(account: Any) -> None:
    seed.hardened(account)
    inventory = collect(Reader(account), regions=["us-east-1"])
    bucket = _by_type(inventory, "AWS::S3::Bucket")["hardened-data"].configuration
    assert bucket["Encryption"]["Rules"][0]["ApplyServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": "arn:aws:kms:us-east-1:123456789012:alias/data",
    }
    assert bucket["PublicAccessBlock"]["RestrictPublicBuckets"] is True
    assert bucket["Versioning"]["Status"] == "Enabled"
    assert bucket["Logging"]["TargetBucket"] == "hardened-logs"
    assert inventory.fact("global", "s3.account_public_access_block")["BlockPublicAcls"] is True
    assert inventory.fact("us-east-1", "ec2.ebs_encryption_by_default") is True
    assert inventory.fact("global", "iam.password_policy")["MinimumPasswordLength"] == 16
    [detector] = inventory.fact("us-east-1", "guardduty.detectors")
    assert detector["Status"] == "ENABLED"
    assert inventory.fact("us-east-1", "securityhub.hub")["HubArn"].endswith(":hub/default")


def test_every_page_is_read(account: Any) -> None:
    logs = account.client("logs")
    for i in range(60):  # moto answers 50 log groups a page
        logs.create_log_group(logGroupName=f"/group/{i:02d}")
    ddb = account.client("dynamodb")
    for i in range(105):  # and 100 table names
        ddb.create_table(
            TableName=f"t{i:03d}",
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    reader = Reader(account)
    inventory = collect(reader, regions=["us-east-1"], services=["logs", "dynamodb"])
    assert len(inventory.of_type("AWS::Logs::LogGroup")) == 60
    assert len(inventory.of_type("AWS::DynamoDB::Table")) == 105
    assert reader.calls["cloudwatch-logs"] == 2 + 1  # two pages of groups, one of filters
    # DynamoDB has no batch describe: one list page per 100 names, two reads per table; the
    # tags of all of them come from one Resource Groups Tagging page (none is tagged)
    assert reader.calls["dynamodb"] == 2 + 105 * 2
    assert reader.calls["resource-groups-tagging-api"] == 1


def test_two_regions_and_global_services_once(account: Any) -> None:
    account.client("sqs", region_name="eu-west-1").create_queue(QueueName="eu-queue")
    account.client("sqs", region_name="us-east-1").create_queue(QueueName="us-queue")
    account.client("iam").create_user(UserName="bob")
    inventory = collect(
        Reader(account), regions=["us-east-1", "eu-west-1"], services=["sqs", "iam"]
    )
    assert {(r.id, r.region) for r in inventory.of_type("AWS::SQS::Queue")} == {
        ("eu-queue", "eu-west-1"),
        ("us-queue", "us-east-1"),
    }
    assert [(r.id, r.region) for r in inventory.of_type("AWS::IAM::User")] == [("bob", "global")]


def test_a_missing_permission_is_not_assessed_and_the_rest_is_read(account: Any) -> None:
    from moto.core.authorization import enable_iam_authentication

    seed.insecure(account)
    auditor = seed.denied(account, ["ec2:DescribeSnapshots", "s3:GetBucketPolicy"])
    with enable_iam_authentication():
        inventory = collect(Reader(auditor), regions=["us-east-1"], services=["ec2", "s3"])

    denied = {
        (n.operation, n.resource, tuple(n.feeds))
        for n in inventory.not_assessed
        if n.reason == "missing permission"
    }
    assert denied == {
        ("ec2:DescribeSnapshots", None, ("AWS::EC2::Snapshot",)),
        ("s3:GetBucketPolicy", "arn:aws:s3:::insecure-data", ()),
        ("s3:GetBucketPolicy", "arn:aws:s3:::trail-logs-insecure", ()),
    }
    assert inventory.of_type("AWS::EC2::Snapshot") == []  # not read, so not judged
    bucket = _by_type(inventory, "AWS::S3::Bucket")["insecure-data"]
    assert bucket.not_assessed == {"Policy": "s3:GetBucketPolicy"}
    assert "Policy" not in bucket.configuration and "Encryption" in bucket.configuration
    assert _by_type(inventory, "AWS::EC2::SecurityGroup")  # the rest was read

    # judged: the bucket's policy rules are not assessed (not failed), and the report says so
    report = evaluate(ArtifactType.AWS_INVENTORY, inventory.model_dump_json(), "aws")
    on_bucket = {f.rule_id for f in report.findings if f.resource == bucket.arn}
    assert {"CF-S3-001", "CF-S3-002"} <= on_bucket
    assert not on_bucket & {"CF-S3-006", "CF-S3-007"}
    blind = {f.resource: f.message for f in report.findings if f.rule_id == "AWS-ACCESS-001"}
    policy = blind["123456789012/s3:GetBucketPolicy"]
    assert policy.startswith("not assessed: missing permission s3:GetBucketPolicy on arn:aws:s3:::")
    assert "and 1 more; not assessed: checks CF-S3-006, CF-S3-007" in policy
    snapshots = blind["123456789012/us-east-1/ec2:DescribeSnapshots"]
    assert snapshots.startswith(
        "not assessed: missing permission ec2:DescribeSnapshots; "
        "not assessed: checks AWS-EC2-003, AWS-EC2-005 ("
    )


def test_requests_in_flight_stay_within_the_bound_per_region(account: Any) -> None:
    for i in range(12):
        account.client("sqs").create_queue(QueueName=f"q{i}")
        account.client("sns").create_topic(Name=f"t{i}")
    reader = Reader(account)
    lock = threading.Lock()
    state = {"now": 0, "peak": 0}

    def started(**_: Any) -> None:
        with lock:
            state["now"] += 1
            state["peak"] = max(state["peak"], state["now"])

    def finished(**_: Any) -> None:
        with lock:
            state["now"] -= 1

    original = reader.client

    def client(service: str, region: str | None = None) -> Any:
        made = original(service, region)
        if not getattr(made, "_watched", False):
            made.meta.events.register("before-call", started)
            made.meta.events.register("after-call", finished)
            made.meta.events.register("after-call-error", finished)
            made._watched = True
        return made

    reader.client = client  # type: ignore[method-assign]
    collect(reader, regions=["us-east-1"], services=["sqs", "sns"], workers=8, per_region=2)
    assert 1 <= state["peak"] <= 2


def test_clients_retry_adaptively(account: Any) -> None:
    client = Reader(account).client("ec2")
    assert client.meta.config.retries["mode"] == "adaptive"
    assert client.meta.config.retries["total_max_attempts"] == 8


def test_an_unknown_service_is_refused(account: Any) -> None:
    with pytest.raises(ValueError, match="unknown service"):
        collect(Reader(account), services=["ec3"])


def test_a_service_read_in_every_region_lets_its_clients_go(account: Any) -> None:
    account.client("ec2", region_name="eu-west-1").create_security_group(
        GroupName="web", Description="web"
    )
    reader = Reader(account)
    inventory = collect(reader, regions=["us-east-1", "eu-west-1"], services=["ec2", "s3", "kms"])
    assert reader.open_clients <= {"sts"}  # the models of EC2, S3 and KMS are not kept
    assert "eu-west-1" in {
        r.region for r in inventory.resources if r.type == "AWS::EC2::SecurityGroup"
    }
    again = reader.client("ec2", "eu-west-1")  # a later read makes a new client
    assert again.describe_security_groups(GroupNames=["web"])["SecurityGroups"]

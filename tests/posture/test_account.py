"""Seeded moto accounts judged end to end: the exact findings of an insecure account and of a
hardened one (where only what moto cannot show remains)."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.engine.runner import evaluate
from chalicelib.kinds import ArtifactType
from chalicelib.posture.aws import Reader
from chalicelib.posture.collect import collect
from tests.posture import seed

ACCOUNT = seed.ACCOUNT
REGION = seed.REGION
HERE = f"{ACCOUNT}/{REGION}"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
# what moto cannot answer: reported as not assessed in every account
MOTO_GAPS = {
    ("AWS-ACCESS-001", f"{ACCOUNT}/iam:GetCredentialReport"),
    ("AWS-ACCESS-001", f"{HERE}/access-analyzer:ListAnalyzers"),
    ("AWS-ACCESS-001", f"{HERE}/ec2:GetSnapshotBlockPublicAccessState"),
    ("AWS-IAM-002", ROOT),  # moto has no way to give the root user an MFA device
}


def _judge(session: Any) -> set[tuple[str, str | None]]:
    inventory = collect(Reader(session), regions=[REGION])
    report = evaluate(ArtifactType.AWS_INVENTORY, inventory.model_dump_json(), "aws")
    assert report.error is None
    assert {f.location for f in report.findings} <= {
        f"aws://{ACCOUNT}/{REGION}",
        f"aws://{ACCOUNT}/global",
    }
    return {(f.rule_id, f.resource) for f in report.findings}


def _arn(resource: str, service: str = "ec2") -> str:
    return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{resource}"


@pytest.mark.managed_policies
def test_a_hardened_account_has_only_what_moto_cannot_show(account: Any) -> None:
    seed.hardened(account)
    assert _judge(account) == MOTO_GAPS


def test_an_insecure_account_has_exactly_its_problems(account: Any) -> None:
    ids = seed.insecure(account)
    ec2 = account.client("ec2")
    defaults = {g["VpcId"]: g["GroupId"] for g in ec2.describe_security_groups(
        Filters=[{"Name": "group-name", "Values": ["default"]}])["SecurityGroups"]}  # fmt: skip
    vpcs = [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]]
    public_subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]
                      if s["MapPublicIpOnLaunch"]]  # fmt: skip
    acls = [a["NetworkAclId"] for a in ec2.describe_network_acls()["NetworkAcls"]]
    image = ec2.describe_images(ImageIds=[ids["image"]])["Images"][0]
    image_snapshot = image["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"]
    volumes = [v["VolumeId"] for v in ec2.describe_volumes()["Volumes"]]
    keys = [account.client("kms").describe_key(KeyId=k["KeyId"])["KeyMetadata"]["Arn"]
            for k in account.client("kms").list_keys()["Keys"]]  # fmt: skip
    secret = account.client("secretsmanager").describe_secret(SecretId="db-password")["ARN"]

    group = _arn(f"security-group/{ids['group']}")
    instance = _arn(f"instance/{ids['instance']}")
    snapshots = [f"arn:aws:ec2:{REGION}::snapshot/{s}" for s in (ids["snapshot"], image_snapshot)]
    database = _arn("db:open-db", "rds")
    function = _arn("function:open-fn", "lambda")
    trail = _arn("trail/single-region", "cloudtrail")
    data, trail_bucket = "arn:aws:s3:::insecure-data", "arn:aws:s3:::trail-logs-insecure"
    alice = f"arn:aws:iam::{ACCOUNT}:user/alice"
    expected = MOTO_GAPS | {
        # account-level
        ("AWS-CONFIG-001", HERE),
        ("AWS-EC2-001", HERE),
        ("AWS-GD-001", HERE),
        ("AWS-HUB-001", HERE),
        *{(f"AWS-IAM-{n:03d}", ACCOUNT) for n in (10, 11, 12, 13)},
        ("AWS-IAM-005", alice),
        ("AWS-IAM-009", alice),
        ("AWS-S3-001", ACCOUNT),
        *{(f"AWS-TRAIL-{n:03d}", ACCOUNT) for n in (1, 2, 3)},
        ("AWS-TRAIL-004", trail_bucket),
        ("AWS-TRAIL-005", trail_bucket),
        *{(f"AWS-MON-{n:03d}", ACCOUNT) for n in range(1, 16)},
        # EC2 and VPC
        *{("AWS-EC2-002", _arn(f"security-group/{g}")) for g in defaults.values()},
        *{(rule, s) for s in snapshots for rule in ("AWS-EC2-003", "AWS-EC2-005")},
        ("AWS-EC2-004", f"arn:aws:ec2:{REGION}::image/{ids['image']}"),
        ("AWS-EC2-006", instance),
        ("AWS-EC2-008", _arn(f"elastic-ip/{ids['eip']}")),
        ("CF-EC2-001", group),
        ("CF-EC2-003", group),
        *{
            ("CF-EC2-004", g)
            for g in [group, *(_arn(f"security-group/{d}") for d in defaults.values())]
        },
        *{
            ("CF-EC2-011", g)  # rules without a description
            for g in [group, *(_arn(f"security-group/{d}") for d in defaults.values())]
        },
        *{(f"CF-EC2-{n:03d}", instance) for n in (6, 7, 8, 12, 13)},
        *{("CF-NACL-002", _arn(f"network-acl/{a}")) for a in acls},  # the defaults allow all
        *{("CF-EBS-001", _arn(f"volume/{v}")) for v in volumes},
        *{("CF-VPC-001", _arn(f"vpc/{v}")) for v in vpcs},
        *{("CF-VPC-002", _arn(f"subnet/{s}")) for s in public_subnets},
        *{("CF-VPC-003", _arn(f"network-acl/{a}")) for a in acls},
        # S3
        *{(f"CF-S3-00{n}", b) for b in (data, trail_bucket) for n in (1, 2, 4, 5, 6)},
        ("CF-S3-007", data),
        ("CF-S3-003", trail_bucket),
        ("CF-S3-008", trail_bucket),
        # IAM, KMS, secrets
        ("CF-IAM-001", f"arn:aws:iam::{ACCOUNT}:policy/everything"),
        ("CF-IAM-003", alice),
        ("CF-IAM-008", alice),
        ("CF-IAM-014", alice),  # in no group
        ("CF-IAM-005", f"arn:aws:iam::{ACCOUNT}:role/anyone"),
        ("AWS-KMS-001", _arn(f"key/{ids['doomed_key']}", "kms")),
        *{("CF-KMS-001", k) for k in keys},
        ("CF-SM-001", secret),
        ("CF-SM-002", secret),
        # databases, tables, functions, messaging, logs, trails, containers
        ("AWS-RDS-001", database),
        *{(r, _arn("snapshot:open-db-snap", "rds")) for r in ("AWS-RDS-002", "AWS-RDS-003")},
        ("CF-EC2-005", database),  # moto gives the instance no subnet group
        *{(f"CF-RDS-{n:03d}", database) for n in (1, 2, 3, 4, 5, 6, 8, 9, 10, 14)},
        *{(f"CF-DDB-00{n}", _arn("table/orders", "dynamodb")) for n in (1, 2, 3)},
        *{(f"CF-LAMBDA-{n:03d}", function) for n in (1, 2, 3, 5, 6, 7, 10, 11)},
        *{(f"CF-SNS-00{n}", ids["topic"]) for n in (1, 2)},
        *{(f"CF-SQS-00{n}", _arn("open-queue", "sqs")) for n in (1, 2)},
        *{(f"CF-LOGS-00{n}", _arn("log-group:/app/forever", "logs")) for n in (1, 2)},
        *{(f"CF-TRAIL-00{n}", trail) for n in (1, 2, 3, 4, 5)},
        *{(f"CF-ECR-00{n}", _arn("repository/open-repo", "ecr")) for n in (1, 2, 3, 4)},
    }
    assert _judge(account) == expected


def _inventory(**fields: Any) -> str:
    import json

    base = {
        "kind": "aws_inventory",
        "version": 1,
        "account_id": ACCOUNT,
        "regions": [REGION],
        "collected_at": "2026-01-01T00:00:00+00:00",
    }
    return json.dumps({**base, **fields})


def _rules(text: str) -> set[str]:
    return {f.rule_id for f in evaluate(ArtifactType.AWS_INVENTORY, text, "aws").findings}


def test_a_service_left_out_is_not_judged() -> None:
    everything = _rules(_inventory())  # nothing read, every service said to be read
    assert {"AWS-TRAIL-001", "AWS-IAM-013", "AWS-MON-001"} <= everything
    only_sqs = _rules(_inventory(services=["sqs"]))
    assert only_sqs == set()  # no trail, role or alarm was looked for: nothing is claimed


def test_a_listing_that_failed_makes_its_rules_not_assessed() -> None:
    denied = {
        "service": "iam",
        "region": "global",
        "operation": "iam:GetAccountAuthorizationDetails",
        "reason": "missing permission",
        "feeds": ["AWS::IAM::Group", "AWS::IAM::ManagedPolicy", "AWS::IAM::Role", "AWS::IAM::User"],
    }
    found = _rules(_inventory(not_assessed=[denied]))
    assert "AWS-IAM-013" not in found and "AWS-IAM-016" not in found  # not "no support role"
    assert "AWS-ACCESS-001" in found and "AWS-TRAIL-001" in found

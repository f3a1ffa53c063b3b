"""`python -m collectors posture --offline --stack NAME` against a moto server: drift findings
in the JSON report, unmanaged resources, a stack that does not exist."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.posture import seed
from tests.posture.test_cli import posture
from tests.posture.test_drift import deploy, group_arn

ACCOUNT = seed.ACCOUNT
HERE = f"aws://{ACCOUNT}/us-east-1"


def test_offline_drift_report(endpoint: str, tenant: Any, tmp_path: Path) -> None:
    physical = deploy(tenant)
    group = physical["WebGroup"]
    tenant.client("ec2").authorize_security_group_ingress(
        GroupId=group,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 22,
                "ToPort": 22,
                "IpRanges": [{"CidrIp": seed.WORLD}],
            }
        ],
    )
    tenant.client("s3").delete_public_access_block(Bucket=physical["Data"])
    by_hand = tenant.client("ec2").create_security_group(GroupName="by-hand", Description="x")
    out = tmp_path / "posture.json"
    result = posture(
        endpoint,
        "--offline", "--service", "ec2", "--service", "s3", "--service", "sqs",
        "--stack", "web", "--stack", "gone",
        "--inventory-output", str(tmp_path / "inventory.json"),
        "--format", "json", "--output", str(out),
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr  # high drift fails the gate
    assert "Traceback" not in result.stderr
    document = json.loads(out.read_text())
    found = {
        (f["rule_id"], f["resource"], f["file"]): f["message"]
        for f in document["findings"]
        if f["rule_id"].startswith("AWS-DRIFT") or "cloudformation" in (f["resource"] or "")
    }
    bucket = f"arn:aws:s3:::{physical['Data']}"
    assert set(found) == {
        ("AWS-DRIFT-001", group_arn(group), HERE),
        ("AWS-DRIFT-004", bucket, f"aws://{ACCOUNT}/us-east-1"),
        ("AWS-DRIFT-009", group_arn(by_hand["GroupId"]), HERE),
        ("AWS-ACCESS-001", f"{ACCOUNT}/us-east-1/cloudformation:DescribeStacks", HERE),
    }
    assert (
        "tcp 22 from 0.0.0.0/0 added outside the template"
        in found[("AWS-DRIFT-001", group_arn(group), HERE)]
    )
    assert (
        "'gone'"
        in found[("AWS-ACCESS-001", f"{ACCOUNT}/us-east-1/cloudformation:DescribeStacks", HERE)]
    )
    inventory = json.loads((tmp_path / "inventory.json").read_text())
    assert [s["name"] for s in inventory["stacks"]] == ["web"]


def test_without_stacks_there_is_no_drift_section(
    endpoint: str, tenant: Any, tmp_path: Path
) -> None:
    deploy(tenant)
    result = posture(
        endpoint, "--offline", "--service", "sqs",
        "--inventory-output", str(tmp_path / "inventory.json"), "--format", "json",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads((tmp_path / "inventory.json").read_text())["stacks"] is None
    assert "AWS-DRIFT" not in result.stdout

"""`python -m collectors posture` against a moto server standing in for the account: offline
reports and exit codes, usage and setup errors."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from tests.collectors.helpers import clean_env
from tests.conftest import REPO_ROOT
from tests.posture import seed, server

ACCOUNT = seed.ACCOUNT


def posture(endpoint: str, *args: str, env: dict[str, str] | None = None) -> Any:
    base = {k: v for k, v in clean_env().items() if not k.startswith("AWS_")}
    base.update(server.CREDENTIALS, AWS_ENDPOINT_URL=endpoint, PYTHONPATH=str(REPO_ROOT))
    return subprocess.run(
        [sys.executable, "-m", "collectors", "posture", *args],
        cwd=REPO_ROOT,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_offline_reports_name_the_arn_the_account_and_the_region(
    endpoint: str, tenant: Any, tmp_path: Path
) -> None:
    ids = seed.insecure(tenant)
    out = tmp_path / "reports"
    result = posture(
        endpoint,
        "--offline", "--region", "us-east-1",
        "--inventory-output", str(out / "inventory.json"),
        "--format", "json", "--output", str(out / "posture.json"),
        "--format", "sarif", "--output", str(out / "posture.sarif"),
        "--format", "junit", "--output", str(out / "junit.xml"),
        "--format", "markdown", "--output", str(out / "summary.md"),
        "--format", "table", "--output", "-",
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr  # high findings: the gate fails
    assert "FAIL" in result.stdout and "Traceback" not in result.stderr
    assert f"pipeguard: account {ACCOUNT}: " in result.stderr

    document = json.loads((out / "posture.json").read_text())
    assert document["errors"] == [] and document["scanned"] == 1
    found = {(f["rule_id"], f["resource"], f["file"]) for f in document["findings"]}
    here, everywhere = f"aws://{ACCOUNT}/us-east-1", f"aws://{ACCOUNT}/global"
    group = f"arn:aws:ec2:us-east-1:{ACCOUNT}:security-group/{ids['group']}"
    assert ("CF-EC2-001", group, here) in found
    assert ("AWS-IAM-005", f"arn:aws:iam::{ACCOUNT}:user/alice", everywhere) in found
    assert ("AWS-S3-001", ACCOUNT, everywhere) in found
    assert ("AWS-GD-001", f"{ACCOUNT}/us-east-1", here) in found
    # the S3 Control host (account id in front of 127.0.0.1) reached the server
    blind = {f["resource"] for f in document["findings"] if f["rule_id"] == "AWS-ACCESS-001"}
    assert blind == {
        f"{ACCOUNT}/iam:GetCredentialReport",
        f"{ACCOUNT}/us-east-1/access-analyzer:ListAnalyzers",
        f"{ACCOUNT}/us-east-1/ec2:GetSnapshotBlockPublicAccessState",
    }

    sarif = json.loads((out / "posture.sarif").read_text())
    result_uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in sarif["runs"][0]["results"]
    }
    assert result_uris == {here, everywhere}
    suites = {s.get("name"): s for s in ET.parse(out / "junit.xml").getroot()}
    assert set(suites) == {everywhere, here}  # one per place, as the findings are filed
    failing = {
        c.get("name", "").split(":")[0]
        for name, suite in suites.items()
        for c in suite
        if c.find("failure") is not None and name == everywhere
    }
    assert {"AWS-IAM-005", "AWS-S3-001"} <= failing and "AWS-GD-001" not in failing
    assert "AWS-IAM-005" in (out / "summary.md").read_text()

    # the saved inventory is an artifact of its own: `scan` judges it the same way
    inventory = json.loads((out / "inventory.json").read_text())
    assert inventory["kind"] == "aws_inventory" and inventory["account_id"] == ACCOUNT
    scan = [sys.executable, "-m", "collectors", "scan", "--format", "json"]
    again = subprocess.run(
        [*scan, str(out / "inventory.json")], cwd=REPO_ROOT, capture_output=True, text=True,
        env=clean_env({"PYTHONPATH": str(REPO_ROOT)}), timeout=120,
    )  # fmt: skip
    rescanned = {
        (f["rule_id"], f["resource"], f["file"]) for f in json.loads(again.stdout)["findings"]
    }
    assert rescanned == found and again.returncode == 1


def test_a_clean_selection_passes(endpoint: str, tenant: Any) -> None:
    tenant.client("sqs").create_queue(QueueName="quiet", Attributes={"KmsMasterKeyId": "alias/q"})
    result = posture(endpoint, "--offline", "--service", "sqs", "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["findings"] == []


def test_soft_fail_and_fail_on(endpoint: str, tenant: Any) -> None:
    tenant.client("sqs").create_queue(
        QueueName="plain", Attributes={"SqsManagedSseEnabled": "false"}
    )  # CF-SQS-001 (medium)
    assert posture(endpoint, "--offline", "--service", "sqs").returncode == 0  # under high
    assert posture(endpoint, "--offline", "--service", "sqs", "--fail-on", "medium").returncode == 1
    soft = posture(endpoint, "--offline", "--service", "sqs", "--fail-on", "low", "--soft-fail")
    assert soft.returncode == 0 and "FAIL" in soft.stdout


@pytest.mark.parametrize(
    ("args", "env", "code", "message"),
    [
        (("--offline", "--service", "ec3"), {}, 2, "unknown --service ec3"),
        ((), {}, 2, "no --api-url given"),
        (("--offline", "--profile", "nope"), {}, 2, "nope"),
        (
            ("--offline",),
            {
                "AWS_ACCESS_KEY_ID": "",
                "AWS_SECRET_ACCESS_KEY": "",
                "AWS_CONFIG_FILE": "/nonexistent",
                "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
                "AWS_EC2_METADATA_DISABLED": "true",
            },
            2,
            "no AWS credentials found",
        ),
        (("--offline",), {"AWS_ENDPOINT_URL": "http://127.0.0.1:9"}, 3, "cannot reach AWS"),
    ],
)
def test_usage_and_setup_errors(
    endpoint: str, args: tuple[str, ...], env: dict[str, str], code: int, message: str
) -> None:
    result = posture(endpoint, *args, env=env)
    assert result.returncode == code, result.stdout + result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr

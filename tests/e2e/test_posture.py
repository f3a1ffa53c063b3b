"""`collectors posture` end to end: a tenant's account (a moto server of its own) read, its
inventory (over the inline limit, so uploaded through S3) submitted to the embedded stack over
HTTP, judged, and a problem fixed in the account reported fixed by the next run."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.collectors.helpers import clean_env
from tests.conftest import REPO_ROOT
from tests.posture import seed, server

pytestmark = pytest.mark.e2e

ACCOUNT = seed.ACCOUNT
PATH = f"aws/{ACCOUNT}.json"


def posture(stack: dict[str, Any], endpoint: str, out: Path, run_id: str) -> Any:
    env = {k: v for k, v in clean_env().items() if not k.startswith("AWS_")}
    env.update(server.CREDENTIALS, AWS_ENDPOINT_URL=endpoint, PYTHONPATH=str(REPO_ROOT))
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "collectors",
            "posture",
            "--region",
            "us-east-1",
            "--api-url",
            stack["api_url"],
            "--api-key",
            stack["api_keys"]["alpha"],
            "--pipeline",
            "e2e-posture",
            "--run-id",
            run_id,
            "--format",
            "json",
            "--output",
            str(out),
        ],  # fmt: skip
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_an_account_is_submitted_judged_and_its_fixes_seen(
    stack: dict[str, Any], tmp_path: Path
) -> None:
    with server.moto_server(tmp_path / "tenant-moto.log") as endpoint:
        tenant = server.session(endpoint)
        ids = seed.insecure(tenant)
        logs = tenant.client("logs")
        key = tenant.client("kms").create_key()["KeyMetadata"]["Arn"]
        for i in range(600):  # long names: an inventory over 1 MiB; kept, encrypted: no finding
            name = f"/app/{'service-' * 60}{i:04d}"
            logs.create_log_group(logGroupName=name, kmsKeyId=key)
            logs.put_retention_policy(logGroupName=name, retentionInDays=365)

        first = posture(stack, endpoint, tmp_path / "first.json", "deploy-1")
        assert first.returncode == 1, first.stdout + first.stderr  # the tenant's verdict fails
        assert f"uploading {PATH} (" in first.stderr  # over 1 MiB: through a presigned upload
        document = json.loads((tmp_path / "first.json").read_text())
        scan = document["scan"]
        assert scan["status"] == "complete" and scan["verdict"] == "fail"
        assert scan["run_id"] == "deploy-1" and scan["pipeline"] == "e2e-posture"
        [artifact] = scan["artifacts"]
        assert (artifact["type"], artifact["path"], artifact["error"]) == (
            "aws_inventory", PATH, None,
        )  # fmt: skip
        assert artifact["size"] > 1024 * 1024
        group = f"arn:aws:ec2:us-east-1:{ACCOUNT}:security-group/{ids['group']}"
        found = {(f["rule_id"], f["resource"]) for f in document["findings"]}
        assert ("CF-EC2-001", group) in found
        assert ("AWS-IAM-005", f"arn:aws:iam::{ACCOUNT}:user/alice") in found
        assert (
            "AWS-EC2-006",
            f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/{ids['instance']}",
        ) in found
        assert all(f["path"] == PATH and f["artifact_type"] == "aws_inventory"
                   for f in document["findings"])  # fmt: skip
        placed = {f["resource"]: (f["account"], f["region"], f["service"])
                  for f in document["findings"]}  # fmt: skip
        assert placed[group] == (ACCOUNT, "us-east-1", "ec2")
        assert placed[f"arn:aws:iam::{ACCOUNT}:user/alice"] == (ACCOUNT, "global", "iam")

        # the tenant filters its findings by account, region and service
        api = requests.Session()
        api.headers["Authorization"] = f"Bearer {stack['api_keys']['alpha']}"
        deadline = time.monotonic() + 30  # the verdict comes first; the index follows the stream
        while True:
            listed = api.get(
                f"{stack['api_url']}/v1/findings",
                params={"account": ACCOUNT, "service": "iam", "limit": "500"},
                timeout=30,
            )
            assert listed.status_code == 200, listed.text
            iam = listed.json()["findings"]
            if {"AWS-IAM-005", "CF-IAM-003"} <= {f["rule_id"] for f in iam}:
                break
            assert time.monotonic() < deadline, f"not searchable after 30 s: {iam}"
            time.sleep(0.2)
        assert iam and {(f["account"], f["service"]) for f in iam} == {(ACCOUNT, "iam")}
        assert {f["rule_id"] for f in iam} >= {"AWS-IAM-005", "CF-IAM-003"}
        other = api.get(f"{stack['api_url']}/v1/findings", params={"account": "999999999999"},
                        timeout=30)  # fmt: skip
        assert other.status_code == 200 and other.json()["findings"] == []

        # the SSH rule is removed outside any template: the next run sees it fixed
        tenant.client("ec2").revoke_security_group_ingress(
            GroupId=ids["group"],
            IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                            "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
        )  # fmt: skip
        second = posture(stack, endpoint, tmp_path / "second.json", "deploy-2")
        assert second.returncode == 1, second.stdout + second.stderr
        report = json.loads((tmp_path / "second.json").read_text())
        now = {(f["rule_id"], f["resource"]) for f in report["findings"]}
        assert ("CF-EC2-001", group) not in now and ("CF-EC2-003", group) in now
        fixed = {(f["rule_id"], f["resource"], f["lifecycle"]) for f in report["scan"]["fixed"]}
        assert ("CF-EC2-001", group, "fixed") in fixed
        assert ("AWS-EC2-006", f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/{ids['instance']}",
                "fixed") in fixed  # fmt: skip

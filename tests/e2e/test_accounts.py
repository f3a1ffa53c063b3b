"""The embedded stack scans a registered account by itself: its timer runs the due-account
sweep, a moto server plays the tenant's account (a second account id, reached by AssumeRole),
and the findings arrive through the stack's stream, evaluation and index."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.conftest import Api
from tests.e2e.conftest import running_stack, tenant_aws_environment

pytestmark = pytest.mark.e2e

ACCOUNT = "555566667777"


def _tenant_session(endpoint: str, account: str = ACCOUNT) -> boto3.Session:
    sts = boto3.client(
        "sts", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )  # fmt: skip
    credentials = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/seed", RoleSessionName="seed"
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name="us-east-1",
    )


def test_the_stack_sweeps_due_accounts_on_its_timer(tmp_path: Path, tenant_aws: str) -> None:
    state = tmp_path / "state"
    env = {**tenant_aws_environment(tenant_aws), "PIPEGUARD_SWEEP_SECONDS": "1"}
    with running_stack(state, tmp_path / "stack.log", env=env) as (info, _):
        ec2 = _tenant_session(info["aws_endpoint"]).client("ec2", endpoint_url=info["aws_endpoint"])
        vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
        group = ec2.create_security_group(GroupName="ssh", Description="ssh", VpcId=vpc)["GroupId"]
        ec2.authorize_security_group_ingress(
            GroupId=group,
            IpPermissions=[{"IpProtocol": "tcp", "FromPort": 3389, "ToPort": 3389,
                            "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
        )  # fmt: skip
        alpha = Api(info["api_url"], info["api_keys"]["alpha"])
        role = f"arn:aws:iam::{ACCOUNT}:role/pipeguard-posture"
        created = alpha.post("/v1/accounts", json={"account_id": ACCOUNT, "role_arn": role})
        assert created.status_code == 201, created.text

        deadline = time.monotonic() + 120
        account: dict[str, Any] = {}
        while account.get("status") != "ok":
            assert time.monotonic() < deadline, f"the sweep did not scan the account: {account}"
            time.sleep(0.5)
            account = alpha.get(f"/v1/accounts/{ACCOUNT}").json()
        scan_id = account["last_scan_id"]
        arn = f"arn:aws:ec2:us-east-1:{ACCOUNT}:security-group/{group}"
        found: set[tuple[str, str]] = set()
        while ("CF-EC2-001", arn) not in found:
            assert time.monotonic() < deadline, f"no CF-EC2-001 on {arn}: {found}"
            time.sleep(0.5)
            page = alpha.get("/v1/findings", params={"scan_id": scan_id, "limit": "200"}).json()
            found = {(f["rule_id"], f["resource"]) for f in page["findings"]}
        scan = alpha.get(f"/v1/scans/{scan_id}").json()
        assert scan["pipeline"] == f"aws/{ACCOUNT}" and scan["status"] == "complete"
        # scanned once per interval (6 h), not once per tick
        time.sleep(3)
        assert alpha.get(f"/v1/accounts/{ACCOUNT}").json()["last_scan_id"] == scan_id


def test_a_scan_started_over_http_answers_at_once_and_completes_in_the_stack(
    stack: dict[str, Any],
) -> None:
    account = "555566668888"
    endpoint = stack["aws_endpoint"]
    ec2 = _tenant_session(endpoint, account).client("ec2", endpoint_url=endpoint)
    vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    group = ec2.create_security_group(GroupName="ssh", Description="ssh", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=group,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                        "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )  # fmt: skip
    alpha = Api(stack["api_url"], stack["api_keys"]["alpha"])
    role = f"arn:aws:iam::{account}:role/pipeguard-posture"
    assert alpha.post("/v1/accounts", json={"account_id": account, "role_arn": role}).ok

    started = alpha.post(
        f"/v1/accounts/{account}/scans", headers={"Content-Type": "application/json"}
    )
    assert started.status_code == 202, started.text
    assert started.json()["status"] == "collecting"
    scan_id = started.json()["scan_id"]
    assert alpha.get(f"/v1/accounts/{account}").json()["last_scan_id"] == scan_id
    beta = Api(stack["api_url"], stack["api_keys"]["beta"])
    assert beta.post(
        f"/v1/accounts/{account}/scans", headers={"Content-Type": "application/json"}
    ).status_code == 404  # fmt: skip
    assert beta.get(f"/v1/scans/{scan_id}").status_code == 404

    seen: list[str] = []
    deadline = time.monotonic() + 120
    scan: dict[str, Any] = {}
    while scan.get("status") not in ("complete", "failed"):
        assert time.monotonic() < deadline, f"the scan did not finish: {scan}"
        scan = alpha.get(f"/v1/scans/{scan_id}").json()
        seen.append(scan["status"])
        time.sleep(0.2)
    assert scan["status"] == "complete", scan
    assert seen[0] in ("collecting", "queued", "running", "complete")
    arn = f"arn:aws:ec2:us-east-1:{account}:security-group/{group}"
    found: set[tuple[str, str]] = set()
    while ("CF-EC2-001", arn) not in found:  # the index follows the findings table
        assert time.monotonic() < deadline, f"no CF-EC2-001 on {arn}: {found}"
        page = alpha.get("/v1/findings", params={"scan_id": scan_id, "limit": "200"}).json()
        found = {(f["rule_id"], f["resource"]) for f in page["findings"]}
        time.sleep(0.2)
    assert alpha.get(f"/v1/accounts/{account}").json()["status"] == "ok"
    assert beta.get("/v1/findings", params={"scan_id": scan_id}).json()["findings"] == []

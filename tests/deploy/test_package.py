"""`make lint-infra`: the packaged template lints clean, and the zip runs on its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from tests.infra_venv import infra_python

pytestmark = pytest.mark.deploy

SAMPLE = """
import json, sys
import app
from chalicelib.engine.runner import evaluate
from chalicelib.models import ArtifactType as T
reports = [
    evaluate(T.DOCKERFILE, "FROM ubuntu:latest\\nRUN apt-get update\\n", "Dockerfile"),
    evaluate(T.CLOUDFORMATION, "Resources:\\n  B:\\n    Type: AWS::S3::Bucket\\n", "t.yaml"),
    evaluate(T.JUNIT, '<testsuite><testcase name="t"><failure/></testcase></testsuite>', "r"),
    evaluate(T.SARIF, '{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "Trivy"}}, '
             '"invocations": [{"executionSuccessful": false}], "results": [{"ruleId": "CVE-1", '
             '"message": {"text": "m"}}]}]}', "trivy.sarif"),
]
handlers = ("evaluate_artifacts", "index_findings", "collect_account_scans", "tenant_key")
print(json.dumps({
    "rules": sorted({f.rule_id for r in reports for f in r.findings}),
    "errors": [r.error for r in reports],
    "boto3": "boto3" in sys.modules,
    "handlers": [n for n in handlers if hasattr(app, n)],
}))
"""


@pytest.fixture(scope="module")
def packaged() -> Path:
    """Build the package and lint the template once (cfn-lint, then our own rules)."""
    infra_python()  # installed under a lock: other tests use this venv too
    result = subprocess.run(
        ["make", "--no-print-directory", "lint-infra"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return REPO_ROOT / "dist"


def test_template_passes_cfn_lint_and_our_rules(packaged: Path) -> None:
    template = json.loads((packaged / "template.json").read_text())
    types = {r["Type"] for r in template["Resources"].values()}
    assert {
        "AWS::Kinesis::Stream",
        "AWS::DynamoDB::Table",
        "AWS::S3::Bucket",
        "AWS::OpenSearchService::Domain",
        "AWS::SNS::Topic",
        "AWS::SQS::Queue",
        "AWS::SES::EmailIdentity",
        "AWS::CloudWatch::Alarm",
        "AWS::ApiGateway::UsagePlan",
        "AWS::Lambda::EventSourceMapping",
    } <= types
    mappings = [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Lambda::EventSourceMapping"
    ]
    streams = [m for m in mappings if "StartingPosition" in m]
    assert len(mappings) == 3 and len(streams) == 2
    for mapping in streams:
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert mapping["BisectBatchOnFunctionError"] is True
        assert mapping["MaximumRetryAttempts"] >= 1
        assert mapping["MaximumRecordAgeInSeconds"] > 0
        assert "OnFailure" in mapping["DestinationConfig"]

    report = _scan(packaged / "template.json")
    assert report["errors"] == []
    serious = [f for f in report["findings"] if f["severity"] in ("high", "critical")]
    assert serious == []


def test_account_scan_jobs_are_retried_then_dead_lettered_with_an_alarm(packaged: Path) -> None:
    from chalicelib.config import Settings

    resources = json.loads((packaged / "template.json").read_text())["Resources"]
    [jobs] = [
        r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::Lambda::EventSourceMapping"
        and "StartingPosition" not in r["Properties"]
    ]
    assert jobs["EventSourceArn"] == {"Fn::Sub": "${AccountScanQueue.Arn}"}
    assert jobs["BatchSize"] == 1
    assert jobs["ScalingConfig"] == {"MaximumConcurrency": 10}
    assert jobs["FunctionName"] == {"Ref": "CollectAccountScans"}
    worker = resources["CollectAccountScans"]["Properties"]
    assert "ReservedConcurrentExecutions" not in worker  # throttled deliveries would count
    queue = resources["AccountScanQueue"]["Properties"]
    assert queue["VisibilityTimeout"] > worker["Timeout"] == 900
    redrive = queue["RedrivePolicy"]
    assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": ["AccountScanDeadLetterQueue", "Arn"]}
    # the worker fails a scan on the delivery after which the queue gives the job up
    assert redrive["maxReceiveCount"] == Settings.from_env().account_scan_attempts
    alarm = resources["AccountScanDeadLetterDepthAlarm"]["Properties"]
    assert alarm["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": ["AccountScanDeadLetterQueue", "QueueName"]}}
    ]
    assert alarm["AlarmActions"] == [{"Ref": "OpsTopic"}] and alarm["Threshold"] == 0

    # only the worker assumes tenants' roles; the API and the sweep only queue jobs
    def actions(role: str) -> set[str]:
        statements = resources[role]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        return {a for s in statements for a in s["Action"]}

    assert "sts:AssumeRole" in actions("CollectAccountScansRole")
    for role in ("ApiHandlerRole", "ScanDueAccountsRole"):
        assert "sts:AssumeRole" not in actions(role) and "sqs:SendMessage" in actions(role)
    sweep = resources["ScanDueAccountsRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    [tables] = [s for s in sweep["Statement"] if s["Sid"] == "Tables"]
    assert {"Fn::Sub": "${ScansTable.Arn}/index/*"} in tables["Resource"]  # recent scans


ACCESS_LOG_FIELDS = {
    "requestId", "extendedRequestId", "ip", "caller", "principal", "tenant", "status", "latencyMs"
}  # fmt: skip


def _scan(template: Path) -> dict:
    """Our own rules on a template, as `make lint-infra` runs them."""
    scan = subprocess.run(
        [sys.executable, "-m", "collectors", "scan", "--offline", "--format", "json",
         str(template)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    return json.loads(scan.stdout)


def test_the_api_stage_writes_json_access_logs_through_the_accounts_role(packaged: Path) -> None:
    template = json.loads((packaged / "template.json").read_text())
    resources = template["Resources"]

    def of_type(kind: str) -> dict[str, dict]:
        return {k: r for k, r in resources.items() if r["Type"] == kind}

    # One stage, the configured one: SAM's extra "Stage" stage (no logs, no usage plan) is gone.
    stages = of_type("AWS::ApiGateway::Stage")
    assert [s["Properties"]["StageName"] for s in stages.values()] == ["dev"]
    deployments = of_type("AWS::ApiGateway::Deployment").values()
    assert not any("StageName" in d["Properties"] for d in deployments)
    setting = next(iter(stages.values()))["Properties"]["AccessLogSetting"]
    group = setting["DestinationArn"]["Fn::GetAtt"][0]
    assert resources[group]["Type"] == "AWS::Logs::LogGroup"
    assert resources[group]["Properties"]["RetentionInDays"] >= 30
    assert resources[group]["Properties"]["KmsKeyId"] == {"Fn::GetAtt": ["DataKey", "Arn"]}
    # One JSON object per line; a missing value is written as "-", so every value is quoted.
    line = setting["Format"]
    assert "\n" not in line
    fields = json.loads(line)
    assert set(fields) >= ACCESS_LOG_FIELDS
    assert fields["tenant"] == "$context.authorizer.tenant_id"
    assert fields["principal"] == "$context.authorizer.principalId"
    assert all(v.startswith("$context.") and " " not in v for v in fields.values())

    # API Gateway writes to CloudWatch Logs with the account's role, set before the API exists.
    (account,) = of_type("AWS::ApiGateway::Account").items()
    assert account[0] in resources["RestAPI"].get("DependsOn", [])
    role = resources[account[1]["Properties"]["CloudWatchRoleArn"]["Fn::GetAtt"][0]]
    assert role["DeletionPolicy"] == "Retain"  # the account setting outlives the stack
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "apigateway.amazonaws.com"}
    assert role["Properties"]["ManagedPolicyArns"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/"
                    "AmazonAPIGatewayPushToCloudWatchLogs"}
    ]  # fmt: skip
    # The encrypted log groups can use the key.
    key_policy = resources["DataKey"]["Properties"]["KeyPolicy"]["Statement"]
    assert any(
        s["Principal"].get("Service") == {"Fn::Sub": "logs.${AWS::Region}.amazonaws.com"}
        for s in key_policy
    )

    findings = _scan(packaged / "template.json")["findings"]
    assert [f for f in findings if f["rule_id"] == "CF-APIGW-001"] == []


def test_deployment_zip_runs_on_its_own(packaged: Path, tmp_path: Path) -> None:
    archive = packaged / "deployment.zip"
    assert archive.stat().st_size <= 10 * 1024 * 1024
    with zipfile.ZipFile(archive) as zipped:
        names = zipped.namelist()
        zipped.extractall(tmp_path)
    assert "app.py" in names and "rules/dockerfile/user.py" in names
    assert not any(n.startswith(("tests/", "collectors/", "moto/", "boto3/")) for n in names)
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(tmp_path),
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    result = subprocess.run(
        [sys.executable, "-S", "-c", SAMPLE],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert outcome["errors"] == [None, None, None, None]
    assert {"DF-USER-001", "CF-S3-001", "JU-TEST-001", "SA-RUN-001", "sarif:trivy/CVE-1"} <= set(
        outcome["rules"]
    )
    assert outcome["boto3"] is False
    assert outcome["handlers"] == [
        "evaluate_artifacts", "index_findings", "collect_account_scans", "tenant_key",
    ]  # fmt: skip

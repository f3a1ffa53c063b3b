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
]
handlers = ("evaluate_artifacts", "index_findings", "tenant_key")
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
    assert len(mappings) == 2
    for mapping in mappings:
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert mapping["BisectBatchOnFunctionError"] is True
        assert mapping["MaximumRetryAttempts"] >= 1
        assert mapping["MaximumRecordAgeInSeconds"] > 0
        assert "OnFailure" in mapping["DestinationConfig"]

    scan = subprocess.run(
        [sys.executable, "-m", "collectors", "scan", "--offline", "--format", "json",
         str(packaged / "template.json")],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    report = json.loads(scan.stdout)
    assert report["errors"] == []
    serious = [f for f in report["findings"] if f["severity"] in ("high", "critical")]
    assert serious == []


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
    assert outcome["errors"] == [None, None, None]
    assert {"DF-USER-001", "CF-S3-001", "JU-TEST-001"} <= set(outcome["rules"])
    assert outcome["boto3"] is False
    assert outcome["handlers"] == ["evaluate_artifacts", "index_findings", "tenant_key"]

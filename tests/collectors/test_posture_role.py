"""collectors/posture-role.yaml, the tenant's read-only role for service-side scans, passes
our own rules (and they do judge it: the same role trusting anyone, with admin rights, fails)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from tests.collectors.helpers import clean_env
from tests.conftest import REPO_ROOT

TEMPLATE = REPO_ROOT / "collectors" / "posture-role.yaml"


def _scan(path: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "collectors", "scan", "--offline", *options, str(path)],
        cwd=REPO_ROOT, env=clean_env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_the_role_template_has_no_findings_at_the_default_fail_level() -> None:
    default = _scan(TEMPLATE)
    assert default.returncode == 0, default.stdout + default.stderr
    assert "Verdict: PASS" in default.stdout
    every = _scan(TEMPLATE, "--fail-on", "info", "--format", "json")
    report = json.loads(every.stdout)
    assert report["errors"] == [] and report["scanned"] == 1
    assert report["findings"] == [], report["findings"]


def test_the_rules_judge_that_role(tmp_path: Path) -> None:
    template = yaml.load(TEMPLATE.read_text(encoding="utf-8"), Loader=_Loader)
    role = template["Resources"]["PostureRole"]["Properties"]
    [statement] = role["AssumeRolePolicyDocument"]["Statement"]
    statement["Principal"] = {"AWS": "*"}
    del statement["Condition"]
    role["ManagedPolicyArns"] = ["arn:aws:iam::aws:policy/AdministratorAccess"]
    weakened = tmp_path / "weakened.json"
    weakened.write_text(json.dumps(template), encoding="utf-8")
    result = _scan(weakened, "--format", "json")
    assert result.returncode == 1, result.stdout + result.stderr
    found = {(f["rule_id"], f["resource"]) for f in json.loads(result.stdout)["findings"]}
    assert {("CF-IAM-005", "PostureRole"), ("CF-IAM-007", "PostureRole")} <= found


def test_the_role_trusts_only_the_principal_with_the_external_id() -> None:
    template = yaml.load(TEMPLATE.read_text(encoding="utf-8"), Loader=_Loader)
    role = template["Resources"]["PostureRole"]["Properties"]
    [statement] = role["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"AWS": {"Ref": "PipeguardPrincipal"}}
    assert statement["Condition"] == {"StringEquals": {"sts:ExternalId": {"Ref": "ExternalId"}}}
    assert role["MaxSessionDuration"] == 3600
    assert {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/SecurityAudit"} in role[
        "ManagedPolicyArns"
    ]


class _Loader(yaml.SafeLoader):
    """YAML with CloudFormation's short intrinsics (`!Ref`, `!Sub`, `!GetAtt`) as mappings."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> object:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: object = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = str(value).split(".", 1)
    else:
        value = loader.construct_sequence(node)  # type: ignore[arg-type]
    return {name: value}


_Loader.add_multi_constructor("!", _intrinsic)

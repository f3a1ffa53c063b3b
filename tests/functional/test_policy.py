"""Tenant policy, waivers, suppressions and the findings lifecycle across runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.stores import dynamo
from chalicelib.stores.clients import client
from tests.conftest import Api

ROOT = "FROM ubuntu:latest\nRUN apt-get update\n"
FIXED = "FROM ubuntu:latest\nRUN useradd app\nUSER app\n"
REGISTRY_RULE = {
    "id": "X-ACME-001",
    "title": "Base images come from our registry",
    "severity": "high",
    "artifact_type": "dockerfile",
    "description": "Only images we scanned and mirrored may be used.",
    "match": {"target": "base_images"},
    "assert": {"path": "registry", "op": "equals", "value": "registry.acme.io"},
}


def _run(api: Api, pipeline: Any, run_id: str, content: str, name: str = "web") -> dict:
    body = {
        "pipeline": name,
        "run_id": run_id,
        "artifacts": [{"type": "dockerfile", "path": "Dockerfile", "content": content}],
    }
    accepted = api.post("/v1/scans", json=body)
    assert accepted.status_code == 202, accepted.text
    pipeline.drain()
    scan = api.get(accepted.json()["status_url"]).json()
    assert scan["status"] == "complete"
    return scan


def _by_rule(api: Api, scan: dict) -> dict[str, dict]:
    report = api.get(f"/v1/scans/{scan['scan_id']}/report").json()
    return {f["rule_id"]: f for f in report["findings"]}


def _put_policy(api: Api, policy: dict) -> Any:
    return api.session.put(api.base + "/v1/policy", json=policy, timeout=10)


def test_policy_is_validated_with_the_field_at_fault(api_url: str, keys: dict) -> None:
    api = Api(api_url, keys["acme"])
    cases = [
        ({"disabled_rules": ["NOPE-1"]}, "disabled_rules"),
        ({"severity_overrides": {"DF-USER-001": "urgent"}}, "severity_overrides.DF-USER-001"),
        ({"rule_params": {"JU-SKIP-001": {"max_skipped_ratio": "half"}}}, "rule_params"),
        ({"rule_params": {"JU-SKIP-001": {"nope": 1}}}, "rule_params"),
        ({"fail_on": "sometimes"}, "fail_on"),
        ({"unknown": True}, "unknown"),
        ({"custom_rules": [{**REGISTRY_RULE, "assert": {"path": "registry", "op": "??"}}]}, "op"),
    ]
    for policy, field in cases:
        refused = _put_policy(api, policy)
        assert refused.status_code == 422, (policy, refused.text)
        fields = [d["field"] for d in refused.json()["error"]["details"]]
        assert any(f.startswith(field) or f.endswith(field) for f in fields), (field, fields)
    assert api.get("/v1/policy").json()["version"] == 0


def test_policy_changes_what_runs_and_is_versioned_and_audited(
    api_url: str, keys: dict, pipeline: Any
) -> None:
    api = Api(api_url, keys["acme"])
    default = _run(api, pipeline, "r1", ROOT)
    assert default["policy_version"] == 0
    assert {"DF-BASE-001", "DF-USER-001"} <= set(_by_rule(api, default))

    policy = {
        "disabled_rules": ["DF-BASE-001", "DF-HEALTH"],
        "severity_overrides": {"DF-USER-001": "critical"},
        "fail_on": "critical",
        "custom_rules": [REGISTRY_RULE],
    }
    saved = _put_policy(api, policy)
    assert saved.status_code == 200, saved.text
    assert saved.json()["version"] == 1
    assert api.get("/v1/policy").json()["fail_on"] == "critical"

    judged = _run(api, pipeline, "r2", ROOT)
    assert judged["policy_version"] == 1
    found = _by_rule(api, judged)
    assert "DF-BASE-001" not in found and not any(r.startswith("DF-HEALTH") for r in found)
    assert found["DF-USER-001"]["severity"] == "critical"
    assert found["X-ACME-001"]["severity"] == "high"
    assert judged["verdict"] == "fail" and judged["counts"]["critical"] == 1

    entry = api.get("/v1/audit").json()["entries"][0]
    assert entry["action"] == "policy.update"
    assert entry["before"]["version"] == 0 and entry["after"]["version"] == 1
    assert Api(api_url, keys["globex"]).get("/v1/policy").json()["version"] == 0


def test_required_artifact_types(api_url: str, keys: dict, pipeline: Any) -> None:
    api = Api(api_url, keys["acme"])
    assert _put_policy(api, {"required_artifact_types": ["junit"], "fail_on": "critical"}).ok
    scan = _run(api, pipeline, "r1", FIXED)
    assert scan["missing_artifact_types"] == ["junit"]
    assert scan["verdict"] == "fail"


def test_lifecycle_new_open_fixed_reopened_and_pipeline_view(
    api_url: str, keys: dict, pipeline: Any
) -> None:
    api = Api(api_url, keys["acme"])
    first = _by_rule(api, _run(api, pipeline, "r1", ROOT))
    assert first["DF-USER-001"]["status"] == "new"
    second = _by_rule(api, _run(api, pipeline, "r2", ROOT))
    assert second["DF-USER-001"]["status"] == "open"
    third_scan = _run(api, pipeline, "r3", FIXED)
    report = api.get(f"/v1/scans/{third_scan['scan_id']}/report").json()
    assert "DF-USER-001" in {f["rule_id"] for f in report["fixed"]}
    fixed_id = first["DF-USER-001"]["finding_id"]
    assert api.get(f"/v1/findings/{fixed_id}").json()["status"] == "fixed"
    fourth = _by_rule(api, _run(api, pipeline, "r4", ROOT))
    assert fourth["DF-USER-001"]["status"] == "reopened"
    assert fourth["DF-USER-001"]["finding_id"] == fixed_id

    view = api.get("/v1/pipelines/web").json()
    assert view["verdict"] == "fail"
    assert [h["run_id"] for h in view["history"]] == ["r4", "r3", "r2", "r1"]
    assert "DF-USER-001" in {f["rule_id"] for f in view["open_findings"]}
    searched = api.get("/v1/findings", params={"status": "reopened"}).json()["findings"]
    assert fixed_id in {f["finding_id"] for f in searched}
    assert {f["status"] for f in searched} == {"reopened"}
    assert Api(api_url, keys["globex"]).get("/v1/pipelines/web").status_code == 404


def test_waivers_accept_findings_until_they_expire(api_url: str, keys: dict, pipeline: Any) -> None:
    api = Api(api_url, keys["acme"])
    assert _put_policy(api, {"fail_on": "high", "disabled_rules": ["DF-HEALTH"]}).ok
    expires = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    waiver = {
        "rule_id": "DF-USER-001",
        "pipeline": "web",
        "justification": "root needed until the base image migration lands",
        "approver": "ciso@acme.example",
        "expires_at": expires,
    }
    refused = api.post("/v1/waivers", json={**waiver, "justification": "ok"})
    assert refused.status_code == 422
    past = api.post("/v1/waivers", json={**waiver, "expires_at": "2020-01-01T00:00:00Z"})
    assert past.status_code == 422 and past.json()["error"]["details"][0]["field"] == "expires_at"
    created = api.post("/v1/waivers", json=waiver)
    assert created.status_code == 201, created.text
    waiver_id = created.json()["waiver_id"]

    waived = _run(api, pipeline, "r1", ROOT)
    finding = _by_rule(api, waived)["DF-USER-001"]
    assert finding["status"] == "waived" and finding["waiver_id"] == waiver_id
    assert waived["counts"]["high"] == 0
    other = _run(api, pipeline, "r1", ROOT, name="api")
    assert _by_rule(api, other)["DF-USER-001"]["status"] == "new"

    # time passes: the waiver expires, and the finding counts again
    client("dynamodb").update_item(
        TableName="pipeguard-tenants",
        Key=dynamo.serialize({"pk": "TENANT#acme", "sk": f"WAIVER#{waiver_id}"}),
        UpdateExpression="SET expires_at = :past",
        ExpressionAttributeValues={":past": dynamo.value("2021-01-01T00:00:00Z")},
    )
    listed = api.get("/v1/waivers").json()["waivers"]
    assert listed[0]["status"] == "expired"
    again = _run(api, pipeline, "r2", ROOT)
    assert _by_rule(api, again)["DF-USER-001"]["status"] == "open"
    assert again["counts"]["high"] >= 1 and again["verdict"] == "fail"

    revoked = api.session.delete(api_url + f"/v1/waivers/{waiver_id}", timeout=10)
    assert revoked.json()["status"] == "revoked"
    assert (
        Api(api_url, keys["globex"])
        .session.delete(api_url + f"/v1/waivers/{waiver_id}", timeout=10)
        .status_code
        == 404
    )
    actions = [e["action"] for e in api.get("/v1/audit").json()["entries"]]
    assert actions[:2] == ["waiver.revoke", "waiver.create"]


def test_inline_suppressions_stay_visible_and_do_not_count(
    api_url: str, keys: dict, pipeline: Any
) -> None:
    api = Api(api_url, keys["acme"])
    content = (
        "# pipeguard:suppress DF-USER-001 reason: this build image never runs in production\n"
        + ROOT
    )
    scan = _run(api, pipeline, "r1", content)
    finding = _by_rule(api, scan)["DF-USER-001"]
    assert finding["status"] == "suppressed"
    assert "never runs in production" in finding["suppression"]
    assert scan["counts"]["high"] == 0


def test_template_parameters_supplied_with_the_scan(
    api_url: str, keys: dict, pipeline: Any
) -> None:
    api = Api(api_url, keys["acme"])
    template = """\
Parameters:
  Encrypt:
    Type: String
Resources:
  Data:
    Type: AWS::EC2::Volume
    Properties:
      AvailabilityZone: us-east-1a
      Size: 10
      Encrypted: !Ref Encrypt
"""

    def ebs(params: dict | None, run_id: str) -> set[str]:
        artifact = {"type": "cloudformation", "path": "t.yaml", "content": template}
        if params is not None:
            artifact["parameters"] = params
        body = {"pipeline": "infra", "run_id": run_id, "artifacts": [artifact]}
        status_url = api.post("/v1/scans", json=body).json()["status_url"]
        pipeline.drain()
        report = api.get(status_url + "/report").json()
        return {f["rule_id"] for f in report["findings"]}

    assert "CF-EBS-001" in ebs(None, "r1")
    assert "CF-EBS-001" not in ebs({"Encrypt": "true"}, "r2")
    assert "CF-EBS-001" in ebs({"Encrypt": "false"}, "r3")

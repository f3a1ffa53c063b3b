"""Tenant policy, waivers, suppressions and the findings lifecycle across runs."""

from __future__ import annotations

import hashlib
import json
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


# --- size: a policy is one bounded DynamoDB item, its audit entry another ----------------------


def _long_rule(i: int, values: int = 1) -> dict:
    """A valid custom rule with every text at its longest (about 3.3 KB + 1 KB per value)."""
    return {
        "id": f"X-BIG-{i:03d}",
        "title": "T" * 200,
        "severity": "high",
        "artifact_type": "dockerfile",
        "description": "d" * 1000,
        "remediation": "r" * 1000,
        "match": {"target": "base_images"},
        "assert": {"path": "registry", "op": "in", "value": [f"{v}" * 1000 for v in range(values)]},
    }


def _policy_of_size(target: int) -> dict:
    """A valid policy whose compact JSON is exactly `target` bytes."""
    policy = {"custom_rules": [_long_rule(i) for i in range(target // 3400 - 2)]}
    values = policy["custom_rules"][-1]["assert"]["value"]
    while _size(policy) < target:
        values.append("x" * 1000)
    values[-1] = values[-1][: len(values[-1]) - (_size(policy) - target)]
    assert _size(policy) == target
    return policy


def _size(document: dict) -> int:
    return len(json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode())


def _sha256(state: dict) -> str:
    canonical = json.dumps(state, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def test_a_policy_too_large_to_store_is_refused_naming_the_limit(api_url: str, keys: dict) -> None:
    api = Api(api_url, keys["acme"])
    largest = {"custom_rules": [_long_rule(i, values=2) for i in range(100)]}
    assert 430_000 < _size(largest) < 460_000  # 100 rules with long texts: valid, ~440 KB
    refused = _put_policy(api, largest)
    assert refused.status_code == 422, refused.text[:300]
    error = refused.json()["error"]
    assert "262144" in error["message"] and "256 KiB" in error["message"]
    assert error["details"][0]["field"] == "custom_rules"
    assert api.get("/v1/policy").json()["version"] == 0
    assert api.get("/v1/audit").json()["entries"][0]["action"] == "tenant.create"

    # the limit is the document's compact JSON: at the limit it is stored, a byte over it not
    assert _put_policy(api, _policy_of_size(262_144)).status_code == 200
    assert _put_policy(api, _policy_of_size(262_145)).status_code == 422
    assert api.get("/v1/policy").json()["version"] == 1


def test_large_policies_replace_each_other_and_stay_audited(api_url: str, keys: dict) -> None:
    """Two policies of ~200 KB each: the version and its audit entry are both written; the
    entry keeps the small fields in full and the rest as their size and SHA-256."""
    api = Api(api_url, keys["acme"])
    first = {"custom_rules": [_long_rule(i) for i in range(60)], "fail_on": "low"}
    second = {**first, "fail_on": "critical"}
    assert 200_000 < _size(first) < 262_144
    assert _put_policy(api, first).status_code == 200
    replaced = _put_policy(api, second)
    assert replaced.status_code == 200, replaced.text[:300]
    current = api.get("/v1/policy").json()
    assert current["version"] == 2 and current["fail_on"] == "critical"

    entries = api.get("/v1/audit").json()["entries"]
    assert [e["action"] for e in entries[:2]] == ["policy.update", "policy.update"]
    before, after = entries[0]["before"], entries[0]["after"]
    assert (before["version"], before["fail_on"]) == (1, "low")
    assert (after["version"], after["fail_on"]) == (2, "critical")
    assert after["truncated"]["fields"] == ["custom_rules"]
    assert after["truncated"]["sha256"] == _sha256(current)
    assert after["truncated"]["bytes"] == _size(current)
    # the full earlier version is one request away
    earlier = api.get("/v1/policy", params={"version": "1"}).json()
    assert earlier["custom_rules"] == first["custom_rules"] and earlier["fail_on"] == "low"
    assert before["truncated"]["sha256"] == _sha256(earlier)
    # a small policy is audited in full, as before
    assert _put_policy(api, {"fail_on": "medium"}).status_code == 200
    small = api.get("/v1/audit", params={"limit": "1"}).json()["entries"][0]
    assert small["after"] == api.get("/v1/policy").json()
    assert "truncated" in small["before"] and small["before"]["version"] == 2


def test_policy_versions_can_be_read_and_numbers_keep_their_value(api_url: str, keys: dict) -> None:
    api = Api(api_url, keys["acme"])
    exact = 10**99 + 1  # 100 significant digits: more than DynamoDB's numbers keep
    rule = {
        **REGISTRY_RULE,
        "match": {"target": "instructions", "instruction": "EXPOSE"},
        "assert": {"path": "arguments.0", "op": "lt", "value": exact},
    }
    saved = _put_policy(api, {"custom_rules": [rule], "rule_params": {}})
    assert saved.status_code == 200, saved.text[:300]
    assert api.get("/v1/policy").json()["custom_rules"][0]["assert"]["value"] == exact
    ratio = {"rule_params": {"JU-SKIP-001": {"max_skipped_ratio": 10**99}}}
    assert _put_policy(api, ratio).status_code == 200

    assert api.get("/v1/policy", params={"version": "0"}).json()["custom_rules"] == []
    assert api.get("/v1/policy", params={"version": "1"}).json()["custom_rules"] == [rule]
    missing = api.get("/v1/policy", params={"version": "3"})
    assert missing.status_code == 404 and "current one is 2" in missing.json()["error"]["message"]
    for params, field in (({"version": "abc"}, "version"), ({"colour": "red"}, "colour")):
        refused = api.get("/v1/policy", params=params)
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["details"][0]["field"] == field
    assert (
        Api(api_url, keys["globex"]).get("/v1/policy", params={"version": "1"}).status_code == 404
    )


def test_a_stale_policy_change_writes_nothing(api_url: str, keys: dict) -> None:
    """The version, the pointer and the audit entry are one conditional transaction."""
    from chalicelib import audit, policy

    api = Api(api_url, keys["acme"])
    assert _put_policy(api, {"fail_on": "low"}).status_code == 200
    entry = audit.new_entry("acme", "key_x", "policy.update", "policy", {"version": 0}, {})
    stale = policy.Policy.model_validate({"fail_on": "critical"})
    try:
        policy.save("acme", stale, 0, "key_x", "2026-01-01T00:00:00+00:00", entry)
    except policy.PolicyConflict:
        pass
    else:
        raise AssertionError("a change based on version 0 must not replace version 1")
    assert api.get("/v1/policy").json()["fail_on"] == "low"
    actions = [e["action"] for e in api.get("/v1/audit").json()["entries"]]
    assert actions == ["policy.update", "tenant.create"]


def test_the_version_does_not_switch_when_dynamodb_refuses_its_audit_entry(
    api_url: str, keys: dict, monkeypatch: Any
) -> None:
    """The issue's case, in moto's own transaction: an audit entry over DynamoDB's item limit
    (two ~220 KB states kept in full) is refused, and the new version is then not live."""
    from chalicelib import audit

    api = Api(api_url, keys["acme"])
    first = {"custom_rules": [_long_rule(i) for i in range(66)], "fail_on": "low"}
    assert 220_000 < _size(first) < 262_144
    assert _put_policy(api, first).status_code == 200
    log = api.get("/v1/audit").json()["entries"]

    monkeypatch.setattr(audit, "INLINE_BYTES", 10**7, raising=False)  # both states in full
    failed = _put_policy(api, {**first, "fail_on": "critical"})
    assert failed.status_code == 500 and set(failed.json()) == {"error"}, failed.text[:300]
    current = api.get("/v1/policy").json()
    assert (current["version"], current["fail_on"]) == (1, "low")
    assert api.get("/v1/policy", params={"version": "2"}).status_code == 404
    assert api.get("/v1/audit").json()["entries"] == log

    monkeypatch.undo()
    assert _put_policy(api, {**first, "fail_on": "critical"}).status_code == 200
    assert api.get("/v1/policy").json()["version"] == 2
    assert api.get("/v1/audit").json()["entries"][0]["after"]["version"] == 2

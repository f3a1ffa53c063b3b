"""The AWS adapters read the items earlier releases wrote to the tenants table (the embedded
file's counterpart is its schema migrations)."""

from __future__ import annotations

from typing import Any

from .helpers import entry


def test_a_policy_version_stored_as_fields_reads_as_its_document(aws: Any) -> None:
    from chalicelib.stores import dynamo
    from chalicelib.stores.aws import build
    from chalicelib.stores.clients import client

    old = {
        "pk": "TENANT#acme",
        "sk": "SETTING#policy#v000001",
        "tenant_id": "acme",
        "version": 1,
        "updated_at": "2026-01-01T00:00:00+00:00",
        "updated_by": "key_x",
        "fail_on": "low",
        "disabled_rules": ["CF-S3-001"],
    }
    pointer = {"pk": "TENANT#acme", "sk": "SETTING#policy", "tenant_id": "acme", "version": 1}
    for item in (old, pointer):
        client("dynamodb").put_item(TableName="pipeguard-tenants", Item=dynamo.serialize(item))
    stores = build()
    assert stores.policies.current_version("acme") == 1
    assert stores.policies.version("acme", 1) == {"fail_on": "low", "disabled_rules": ["CF-S3-001"]}


def test_an_audit_cursor_of_an_earlier_release_continues_the_log(aws: Any) -> None:
    import base64

    from chalicelib import audit
    from chalicelib.stores.aws import build

    stores = build()
    for n in range(3):
        stores.settings.put("acme", "notifications", {"n": n}, entry("acme", f"change.{n}"))
    newest = stores.audit.page("acme", 1)[0][0]
    # earlier releases encoded the DynamoDB sort key itself
    cursor = base64.urlsafe_b64encode(f"AUDIT#{newest.position}".encode()).decode().rstrip("=")
    assert [e["action"] for e in audit.entries("acme", 10, cursor)["entries"]] == [
        "change.1",
        "change.0",
    ]


def test_scans_findings_and_blobs_keep_the_tables_and_keys_of_earlier_releases(aws: Any) -> None:
    from chalicelib import ids
    from chalicelib.config import settings
    from chalicelib.stores import dynamo
    from chalicelib.stores.aws import build
    from chalicelib.stores.clients import client

    ddb, config = client("dynamodb"), settings()
    pipeline_key = ids.pipeline_key("acme", "web")
    scan = {
        "tenant_id": "acme",
        "scan_id": "scn_1",
        "status": "queued",
        "received_at": "2026-01-01T00:00:00+00:00",
        "pipeline_key": pipeline_key,
        "results": {},
        "artifacts_done": 0,
    }
    finding = {
        "tenant_id": "acme",
        "finding_id": "fnd_1",
        "artifact_key": ids.artifact_key("acme", "web", "Dockerfile"),
        "pipeline_key": pipeline_key,
        "severity": "high",
    }
    ddb.put_item(TableName=config.scans_table, Item=dynamo.serialize(scan))
    ddb.put_item(TableName=config.findings_table, Item=dynamo.serialize(finding))
    key = "tenants/acme/artifacts/" + "0" * 64
    client("s3").put_object(Bucket=config.artifact_bucket, Key=key, Body=b"FROM x\n")
    stores = build()
    assert stores.scans.get("acme", "scn_1") == scan
    assert stores.scans.of_pipeline("acme", pipeline_key, 5) == ([scan], None)
    assert stores.findings.of_pipeline("acme", pipeline_key) == [finding]
    assert stores.findings.of_artifact("acme", finding["artifact_key"]) == {"fnd_1": finding}
    assert stores.blobs.get("acme", key) == b"FROM x\n"
    # and what the adapters write is what earlier releases read: the same items under the same keys
    stores.scans.record_artifacts("acme", "scn_1", {0: {"n": 1}}, "2026-01-01T00:01:00+00:00")
    raw = ddb.get_item(
        TableName=config.scans_table,
        Key=dynamo.serialize({"tenant_id": "acme", "scan_id": "scn_1"}),
    )
    assert dynamo.deserialize(raw["Item"])["results"] == {"0": {"n": 1}}
    stores.findings.put_many("acme", [{**finding, "finding_id": "fnd_2"}])
    raw = ddb.get_item(
        TableName=config.findings_table,
        Key=dynamo.serialize({"tenant_id": "acme", "finding_id": "fnd_2"}),
    )
    assert dynamo.deserialize(raw["Item"]) == {**finding, "finding_id": "fnd_2"}
    stores.blobs.put("acme", "tenants/acme/reports/scn_1.json", b"{}", "application/json")
    obj = client("s3").get_object(
        Bucket=config.artifact_bucket, Key="tenants/acme/reports/scn_1.json"
    )
    assert (obj["Body"].read(), obj["ContentType"]) == (b"{}", "application/json")


def test_a_registered_account_of_an_earlier_release_is_read_due_and_scanned(aws: Any) -> None:
    from chalicelib.stores import dynamo
    from chalicelib.stores.aws import build
    from chalicelib.stores.clients import client

    old = {  # as earlier releases wrote it: before accounts named stacks
        "pk": "TENANT#acme",
        "sk": "ACCOUNT#111122223333",
        "tenant_id": "acme",
        "account_id": "111122223333",
        "role_arn": "arn:aws:iam::111122223333:role/audit",
        "regions": ["eu-west-1"],
        "schedule": "6h",
        "external_id": "ext",
        "status": "ok",
        "status_message": None,
        "created_at": "2026-01-01T00:00:00+00:00",
        "created_by": "key_x",
        "last_scan_at": "2026-01-01T00:00:00+00:00",
        "last_scan_id": "scn_old",
        "next_scan_at": "2026-01-01T06:00:00+00:00",
    }
    client("dynamodb").put_item(TableName="pipeguard-tenants", Item=dynamo.serialize(old))
    accounts = build().accounts
    record = {k: v for k, v in old.items() if k not in ("pk", "sk")}
    assert accounts.get("acme", "111122223333") == record
    assert accounts.page("acme", 10) == ([record], None)
    assert accounts.due("2026-01-01T06:00:00+00:00") == [record]
    accounts.claim("acme", "111122223333", old["next_scan_at"], "2026-01-01T12:00:00+00:00")
    accounts.record_scan("acme", "111122223333", {"status": "scan_failed"}, "scn_old")
    stored = client("dynamodb").get_item(
        TableName="pipeguard-tenants", Key=dynamo.serialize({"pk": old["pk"], "sk": old["sk"]})
    )["Item"]
    assert dynamo.deserialize(stored) == {
        **old, "status": "scan_failed", "next_scan_at": "2026-01-01T12:00:00+00:00",
    }  # fmt: skip

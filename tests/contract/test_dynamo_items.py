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

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

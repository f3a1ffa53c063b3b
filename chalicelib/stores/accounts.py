"""Registered AWS accounts in the tenants table (`TENANT#<tenant>` / `ACCOUNT#<account id>`)."""

from __future__ import annotations

from typing import Any

from chalicelib.config import settings
from chalicelib.stores import dynamo
from chalicelib.stores.clients import client

PREFIX = "ACCOUNT#"


def _table() -> str:
    return settings().tenants_table


def _key(tenant_id: str, account_id: str) -> dict[str, Any]:
    return {"pk": f"TENANT#{tenant_id}", "sk": PREFIX + account_id}


def _public(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in ("pk", "sk")}


def create(record: dict[str, Any], audit_entry: dict[str, Any]) -> bool:
    """Store a new registration with its audit entry; False (nothing written) when the tenant
    registered this account already."""
    item = {**_key(record["tenant_id"], record["account_id"]), **record}
    try:
        dynamo.transact(
            [dynamo.put_action(_table(), item, "attribute_not_exists(pk)"), audit_entry]
        )
    except dynamo.ConditionFailed as exc:
        if exc.failed == [0]:
            return False
        raise
    return True


def get(tenant_id: str, account_id: str) -> dict[str, Any] | None:
    got = client("dynamodb").get_item(
        TableName=_table(),
        Key=dynamo.serialize(_key(tenant_id, account_id)),
        ConsistentRead=True,
    )
    return _public(dynamo.deserialize(got["Item"])) if "Item" in got else None


def of_tenant(tenant_id: str) -> list[dict[str, Any]]:
    pages = (
        client("dynamodb")
        .get_paginator("query")
        .paginate(
            TableName=_table(),
            KeyConditionExpression="pk = :pk AND begins_with(sk, :a)",
            ExpressionAttributeValues={
                ":pk": dynamo.value(f"TENANT#{tenant_id}"),
                ":a": dynamo.value(PREFIX),
            },
            ConsistentRead=True,
        )
    )
    return [_public(dynamo.deserialize(i)) for p in pages for i in p["Items"]]


def due(now: str) -> list[dict[str, Any]]:
    """Every tenant's registrations whose next scan is at or before `now` (ISO-8601 UTC)."""
    pages = (
        client("dynamodb")
        .get_paginator("scan")
        .paginate(
            TableName=_table(),
            FilterExpression="begins_with(sk, :a) AND next_scan_at <= :now",
            ExpressionAttributeValues={":a": dynamo.value(PREFIX), ":now": dynamo.value(now)},
            ConsistentRead=True,
        )
    )
    return [_public(dynamo.deserialize(i)) for p in pages for i in p["Items"]]


def delete(tenant_id: str, account_id: str, audit_entry: dict[str, Any]) -> bool:
    """Remove a registration with its audit entry; False if the tenant has none for it."""
    change = {
        "Delete": {
            "TableName": _table(),
            "Key": dynamo.serialize(_key(tenant_id, account_id)),
            "ConditionExpression": "attribute_exists(pk)",
        }
    }
    try:
        dynamo.transact([change, audit_entry])
    except dynamo.ConditionFailed as exc:
        if exc.failed == [0]:
            return False
        raise
    return True


def claim(tenant_id: str, account_id: str, seen_next: str, next_scan_at: str) -> bool:
    """Move the next scan on, only if nobody else did since it was read (one sweep scans it)."""
    updated = dynamo.update_if(
        _table(),
        _key(tenant_id, account_id),
        UpdateExpression="SET next_scan_at = :next",
        ConditionExpression="attribute_exists(pk) AND next_scan_at = :seen",
        ExpressionAttributeValues={
            ":next": dynamo.value(next_scan_at),
            ":seen": dynamo.value(seen_next),
        },
    )
    return updated is not None


def record_scan(
    tenant_id: str, account_id: str, changes: dict[str, Any], if_last_scan: str | None = None
) -> bool:
    """Set the outcome of a scan (status, message, last scan) on an existing registration;
    with `if_last_scan`, only while that scan is still its last one. False if nothing was set."""
    names = {f"#f{i}": name for i, name in enumerate(changes)}
    values = {f":v{i}": dynamo.value(value) for i, value in enumerate(changes.values())}
    condition = "attribute_exists(pk)"
    if if_last_scan is not None:
        condition += " AND last_scan_id = :last"
        values[":last"] = dynamo.value(if_last_scan)
    updated = dynamo.update_if(
        _table(),
        _key(tenant_id, account_id),
        UpdateExpression="SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(changes))),
        ConditionExpression=condition,
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
    )
    return updated is not None

"""Tenants and their API keys (stored only as SHA-256 hashes) in the tenants table."""

from __future__ import annotations

from typing import Any

from chalicelib.config import settings
from chalicelib.stores import dynamo
from chalicelib.stores.clients import client


def _table() -> str:
    return settings().tenants_table


def put_tenant(tenant: dict[str, Any]) -> None:
    item = {"pk": f"TENANT#{tenant['tenant_id']}", "sk": "META", **tenant}
    client("dynamodb").put_item(TableName=_table(), Item=dynamo.serialize(item))


def get_tenant(tenant_id: str) -> dict[str, Any] | None:
    got = client("dynamodb").get_item(
        TableName=_table(),
        Key=dynamo.serialize({"pk": f"TENANT#{tenant_id}", "sk": "META"}),
    )
    return dynamo.deserialize(got["Item"]) if "Item" in got else None


def create_tenant(tenant: dict[str, Any]) -> bool:
    """Store a new tenant; False if the id is taken (nothing written)."""
    item = {"pk": f"TENANT#{tenant['tenant_id']}", "sk": "META", **tenant}
    return dynamo.put_if_absent(_table(), item, "pk")


def set_tenant_status(tenant_id: str, status: str) -> dict[str, Any] | None:
    """Set an existing tenant's status; returns the tenant as it was, None if there is none."""
    updated = dynamo.update_if(
        _table(),
        {"pk": f"TENANT#{tenant_id}", "sk": "META"},
        UpdateExpression="SET #s = :s",
        ConditionExpression="attribute_exists(pk)",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": dynamo.value(status)},
        ReturnValues="ALL_OLD",
    )
    return None if updated is None else _public(updated)


def list_tenants() -> list[dict[str, Any]]:
    pages = (
        client("dynamodb")
        .get_paginator("scan")
        .paginate(
            TableName=_table(),
            FilterExpression="sk = :meta",
            ExpressionAttributeValues={":meta": dynamo.value("META")},
        )
    )
    tenants = [_public(dynamo.deserialize(i)) for p in pages for i in p["Items"]]
    return sorted(tenants, key=lambda t: t["tenant_id"])


def put_key(key_hash: str, record: dict[str, Any]) -> None:
    """Store a key under its hash (what the authorizer looks up) and in its tenant's list."""
    ddb = client("dynamodb")
    ddb.put_item(
        TableName=_table(), Item=dynamo.serialize({"pk": f"KEY#{key_hash}", "sk": "KEY", **record})
    )
    listed = {"pk": f"TENANT#{record['tenant_id']}", "sk": f"KEY#{record['key_id']}"}
    ddb.put_item(
        TableName=_table(), Item=dynamo.serialize({**listed, **record, "key_hash": key_hash})
    )


def list_keys(tenant_id: str) -> list[dict[str, Any]]:
    """The tenant's keys (masked; never the hash)."""
    pages = (
        client("dynamodb")
        .get_paginator("query")
        .paginate(
            TableName=_table(),
            KeyConditionExpression="pk = :pk AND begins_with(sk, :key)",
            ExpressionAttributeValues={
                ":pk": dynamo.value(f"TENANT#{tenant_id}"),
                ":key": dynamo.value("KEY#"),
            },
        )
    )
    keys = [dynamo.deserialize(i) for p in pages for i in p["Items"]]
    return [{k: v for k, v in _public(key).items() if k != "key_hash"} for key in keys]


def revoke_key(tenant_id: str, key_id: str, now: str) -> dict[str, Any] | None:
    """Revoke one of the tenant's keys at once; returns it as it was, None if not the tenant's."""
    ddb = client("dynamodb")
    listed = ddb.get_item(
        TableName=_table(),
        Key=dynamo.serialize({"pk": f"TENANT#{tenant_id}", "sk": f"KEY#{key_id}"}),
        ConsistentRead=True,
    ).get("Item")
    if listed is None:
        return None
    before = dynamo.deserialize(listed)
    for key in (
        {"pk": f"KEY#{before['key_hash']}", "sk": "KEY"},
        {"pk": f"TENANT#{tenant_id}", "sk": f"KEY#{key_id}"},
    ):
        ddb.update_item(
            TableName=_table(),
            Key=dynamo.serialize(key),
            UpdateExpression="SET #s = :revoked, revoked_at = :now",
            ConditionExpression="tenant_id = :tenant",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":revoked": dynamo.value("revoked"),
                ":now": dynamo.value(now),
                ":tenant": dynamo.value(tenant_id),
            },
        )
    return {k: v for k, v in _public(before).items() if k != "key_hash"}


def _public(item: dict[str, Any]) -> dict[str, Any]:
    """An item without its storage keys and the tenant's usage plan key (a secret)."""
    return {k: v for k, v in item.items() if k not in ("pk", "sk", "usage_key")}


def get_key(key_hash: str) -> dict[str, Any] | None:
    got = client("dynamodb").get_item(
        TableName=_table(),
        Key=dynamo.serialize({"pk": f"KEY#{key_hash}", "sk": "KEY"}),
        ConsistentRead=True,
    )
    return dynamo.deserialize(got["Item"]) if "Item" in got else None


def put_setting(tenant_id: str, name: str, value: dict[str, Any]) -> None:
    """Store one of the tenant's settings documents (e.g. notifications)."""
    item = {"pk": f"TENANT#{tenant_id}", "sk": f"SETTING#{name}", "tenant_id": tenant_id, **value}
    client("dynamodb").put_item(TableName=_table(), Item=dynamo.serialize(item))


def create_setting(tenant_id: str, name: str, value: dict[str, Any]) -> bool:
    """Store a settings document that must not exist yet; False if it does."""
    item = {"pk": f"TENANT#{tenant_id}", "sk": f"SETTING#{name}", "tenant_id": tenant_id, **value}
    return dynamo.put_if_absent(_table(), item, "pk")


def get_setting(tenant_id: str, name: str) -> dict[str, Any] | None:
    got = client("dynamodb").get_item(
        TableName=_table(),
        Key=dynamo.serialize({"pk": f"TENANT#{tenant_id}", "sk": f"SETTING#{name}"}),
        ConsistentRead=True,
    )
    if "Item" not in got:
        return None
    item = dynamo.deserialize(got["Item"])
    return {k: v for k, v in item.items() if k not in ("pk", "sk", "tenant_id")}


def tenants_with_setting(name: str) -> list[str]:
    """Tenants that stored the named setting (a scan of the small tenants table)."""
    pages = (
        client("dynamodb")
        .get_paginator("scan")
        .paginate(
            TableName=_table(),
            FilterExpression="sk = :sk",
            ExpressionAttributeValues={":sk": dynamo.value(f"SETTING#{name}")},
            ProjectionExpression="tenant_id",
        )
    )
    return sorted({dynamo.deserialize(i)["tenant_id"] for p in pages for i in p["Items"]})

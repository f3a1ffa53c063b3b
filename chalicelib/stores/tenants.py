"""Tenants and their API keys (stored only as SHA-256 hashes) in the tenants table."""

from __future__ import annotations

from typing import Any

from chalicelib.config import settings
from chalicelib.stores import dynamo
from chalicelib.stores.clients import client


def _table() -> str:
    return settings().tenants_table


def tenant_put(tenant: dict[str, Any], new: bool) -> dict[str, Any]:
    """The transaction `Put` of a tenant; when `new`, it fails if the id is taken."""
    item = {"pk": f"TENANT#{tenant['tenant_id']}", "sk": "META", **tenant}
    return dynamo.put_action(_table(), item, "attribute_not_exists(pk)" if new else None)


def get_tenant(tenant_id: str) -> dict[str, Any] | None:
    got = client("dynamodb").get_item(
        TableName=_table(),
        Key=dynamo.serialize({"pk": f"TENANT#{tenant_id}", "sk": "META"}),
    )
    return dynamo.deserialize(got["Item"]) if "Item" in got else None


def tenant_status_update(tenant_id: str, status: str, seen: str) -> dict[str, Any]:
    """The transaction `Update` of an existing tenant's status, if it is still `seen`."""
    return dynamo.update_action(
        _table(),
        {"pk": f"TENANT#{tenant_id}", "sk": "META"},
        UpdateExpression="SET #s = :s",
        ConditionExpression="attribute_exists(pk) AND #s = :seen",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": dynamo.value(status), ":seen": dynamo.value(seen)},
    )


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
    tenants = [public(dynamo.deserialize(i)) for p in pages for i in p["Items"]]
    return sorted(tenants, key=lambda t: t["tenant_id"])


def key_puts(key_hash: str, record: dict[str, Any]) -> list[dict[str, Any]]:
    """The transaction `Put`s of a new key: under its hash (what the authorizer looks up) and
    in its tenant's list."""
    by_hash = {"pk": f"KEY#{key_hash}", "sk": "KEY", **record}
    listed = {
        "pk": f"TENANT#{record['tenant_id']}",
        "sk": f"KEY#{record['key_id']}",
        **record,
        "key_hash": key_hash,
    }
    return [
        dynamo.put_action(_table(), by_hash, "attribute_not_exists(pk)"),
        dynamo.put_action(_table(), listed, "attribute_not_exists(pk)"),
    ]


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
    return [{k: v for k, v in public(key).items() if k != "key_hash"} for key in keys]


def listed_key(tenant_id: str, key_id: str) -> dict[str, Any] | None:
    """One of the tenant's keys as stored in its list (with its hash), None if not its."""
    got = client("dynamodb").get_item(
        TableName=_table(),
        Key=dynamo.serialize({"pk": f"TENANT#{tenant_id}", "sk": f"KEY#{key_id}"}),
        ConsistentRead=True,
    )
    return public(dynamo.deserialize(got["Item"])) if "Item" in got else None


def key_revocation(tenant_id: str, listed: dict[str, Any], now: str) -> list[dict[str, Any]]:
    """The transaction `Update`s that revoke a listed key (both of its items) at once."""
    return [
        dynamo.update_action(
            _table(),
            key,
            UpdateExpression="SET #s = :revoked, revoked_at = :now",
            ConditionExpression="tenant_id = :tenant",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":revoked": dynamo.value("revoked"),
                ":now": dynamo.value(now),
                ":tenant": dynamo.value(tenant_id),
            },
        )
        for key in (
            {"pk": f"KEY#{listed['key_hash']}", "sk": "KEY"},
            {"pk": f"TENANT#{tenant_id}", "sk": f"KEY#{listed['key_id']}"},
        )
    ]


def public(item: dict[str, Any]) -> dict[str, Any]:
    """An item without its storage keys and the tenant's usage plan key (a secret)."""
    return {k: v for k, v in item.items() if k not in ("pk", "sk", "usage_key")}


def get_key(key_hash: str) -> dict[str, Any] | None:
    got = client("dynamodb").get_item(
        TableName=_table(),
        Key=dynamo.serialize({"pk": f"KEY#{key_hash}", "sk": "KEY"}),
        ConsistentRead=True,
    )
    return dynamo.deserialize(got["Item"]) if "Item" in got else None


def setting_put(tenant_id: str, name: str, value: dict[str, Any]) -> dict[str, Any]:
    """The transaction `Put` of one of the tenant's settings documents (e.g. notifications)."""
    item = {"pk": f"TENANT#{tenant_id}", "sk": f"SETTING#{name}", "tenant_id": tenant_id, **value}
    return dynamo.put_action(_table(), item)


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

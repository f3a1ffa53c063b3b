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


def put_key(key_hash: str, record: dict[str, Any]) -> None:
    item = {"pk": f"KEY#{key_hash}", "sk": "KEY", **record}
    client("dynamodb").put_item(TableName=_table(), Item=dynamo.serialize(item))


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


def get_setting(tenant_id: str, name: str) -> dict[str, Any] | None:
    got = client("dynamodb").get_item(
        TableName=_table(),
        Key=dynamo.serialize({"pk": f"TENANT#{tenant_id}", "sk": f"SETTING#{name}"}),
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

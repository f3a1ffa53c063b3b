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

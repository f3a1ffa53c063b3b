"""The tenants table: one DynamoDB table (pk, sk) holding every tenancy item of a tenant."""

from __future__ import annotations

from typing import Any

from chalicelib.config import settings
from chalicelib.stores import dynamo
from chalicelib.stores.clients import client
from chalicelib.stores.ports import NotWritten

STORAGE_KEYS = ("pk", "sk")


def name() -> str:
    return settings().tenants_table


def tenant_pk(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}"


def get(pk: str, sk: str) -> dict[str, Any] | None:
    """One item (consistent read), deserialised; None if absent."""
    got = client("dynamodb").get_item(
        TableName=name(), Key=dynamo.serialize({"pk": pk, "sk": sk}), ConsistentRead=True
    )
    return dynamo.deserialize(got["Item"]) if "Item" in got else None


def query_prefix(pk: str, prefix: str) -> list[dict[str, Any]]:
    """Every item of partition `pk` whose sort key starts with `prefix`, by sort key."""
    pages = (
        client("dynamodb")
        .get_paginator("query")
        .paginate(
            TableName=name(),
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": dynamo.value(pk), ":prefix": dynamo.value(prefix)},
            ConsistentRead=True,
        )
    )
    return [dynamo.deserialize(i) for p in pages for i in p["Items"]]


def scan_sort_key(sk: str, projection: str | None = None) -> list[dict[str, Any]]:
    """Every item (of any tenant) with this sort key: a scan of the small tenants table."""
    request: dict[str, Any] = {
        "TableName": name(),
        "FilterExpression": "sk = :sk",
        "ExpressionAttributeValues": {":sk": dynamo.value(sk)},
        "ConsistentRead": True,
    }
    if projection:
        request["ProjectionExpression"] = projection
    pages = client("dynamodb").get_paginator("scan").paginate(**request)
    return [dynamo.deserialize(i) for p in pages for i in p["Items"]]


def without(item: dict[str, Any], *names: str) -> dict[str, Any]:
    """An item without its storage keys and the named attributes."""
    return {k: v for k, v in item.items() if k not in STORAGE_KEYS and k not in names}


def transact(actions: list[dict[str, Any]]) -> None:
    """Write every action or none; `NotWritten` when a condition did not hold."""
    try:
        dynamo.transact(actions)
    except dynamo.ConditionFailed:
        raise NotWritten() from None

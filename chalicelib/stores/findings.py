"""Findings (table key: tenant_id, finding_id); its stream feeds the search index."""

from __future__ import annotations

import time
from typing import Any

from chalicelib.config import settings
from chalicelib.stores import dynamo
from chalicelib.stores.clients import client

_BATCH = 25


def put_many(findings: list[dict[str, Any]]) -> None:
    """Write findings (idempotent: the same finding id overwrites the same item)."""
    ddb = client("dynamodb")
    table = settings().findings_table
    for start in range(0, len(findings), _BATCH):
        requests = [
            {"PutRequest": {"Item": dynamo.serialize(f)}} for f in findings[start : start + _BATCH]
        ]
        pending: dict[str, Any] = {table: requests}
        for attempt in range(8):
            response = ddb.batch_write_item(RequestItems=pending)
            pending = response.get("UnprocessedItems") or {}
            if not pending:
                break
            time.sleep(min(0.05 * 2**attempt, 2.0))
        else:
            raise RuntimeError("findings could not be written: DynamoDB kept them unprocessed")


def get(tenant_id: str, finding_id: str) -> dict[str, Any] | None:
    got = client("dynamodb").get_item(
        TableName=settings().findings_table,
        Key=dynamo.serialize({"tenant_id": tenant_id, "finding_id": finding_id}),
    )
    return dynamo.deserialize(got["Item"]) if "Item" in got else None


def get_many(tenant_id: str, finding_ids: list[str]) -> dict[str, dict[str, Any]]:
    """This tenant's stored findings among `finding_ids`, by id."""
    ddb = client("dynamodb")
    table = settings().findings_table
    found: dict[str, dict[str, Any]] = {}
    unique = sorted(set(finding_ids))
    for start in range(0, len(unique), 100):
        keys = [
            dynamo.serialize({"tenant_id": tenant_id, "finding_id": fid})
            for fid in unique[start : start + 100]
        ]
        pending: dict[str, Any] = {table: {"Keys": keys}}
        for attempt in range(8):
            response = ddb.batch_get_item(RequestItems=pending)
            for item in response.get("Responses", {}).get(table, []):
                doc = dynamo.deserialize(item)
                found[doc["finding_id"]] = doc
            pending = response.get("UnprocessedKeys") or {}
            if not pending:
                break
            time.sleep(min(0.05 * 2**attempt, 2.0))
    return found


def _query_index(index: str, key_name: str, key: str) -> list[dict[str, Any]]:
    pages = (
        client("dynamodb")
        .get_paginator("query")
        .paginate(
            TableName=settings().findings_table,
            IndexName=index,
            KeyConditionExpression=f"{key_name} = :k",
            ExpressionAttributeValues={":k": dynamo.value(key)},
        )
    )
    return [dynamo.deserialize(item) for page in pages for item in page["Items"]]


def of_artifact(artifact_key: str) -> dict[str, dict[str, Any]]:
    """Every stored finding of one file of one pipeline, by id."""
    return {f["finding_id"]: f for f in _query_index("by_artifact", "artifact_key", artifact_key)}


def of_pipeline(pipeline_key: str) -> list[dict[str, Any]]:
    """Every stored finding of one pipeline."""
    return _query_index("by_pipeline", "pipeline_key", pipeline_key)

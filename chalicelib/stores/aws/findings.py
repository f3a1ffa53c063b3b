"""Findings on DynamoDB: the findings table (key tenant_id, finding_id; indexes `by_artifact`
and `by_pipeline`); its stream feeds the search index."""

from __future__ import annotations

import time
from typing import Any

from chalicelib.config import settings
from chalicelib.stores import dynamo, keys
from chalicelib.stores.clients import client

_BATCH = 25


def _table() -> str:
    return settings().findings_table


class DynamoFindings:
    """`FindingStore` on the findings table."""

    def put_many(self, tenant_id: str, findings: list[dict[str, Any]]) -> None:
        if any(f.get("tenant_id") != tenant_id for f in findings):
            raise ValueError(f"every finding written for {tenant_id!r} must be its own")
        ddb, table = client("dynamodb"), _table()
        for start in range(0, len(findings), _BATCH):
            chunk = findings[start : start + _BATCH]
            requests = [{"PutRequest": {"Item": dynamo.serialize(f)}} for f in chunk]
            pending: dict[str, Any] = {table: requests}
            for attempt in range(8):
                response = ddb.batch_write_item(RequestItems=pending)
                pending = response.get("UnprocessedItems") or {}
                if not pending:
                    break
                time.sleep(min(0.05 * 2**attempt, 2.0))
            else:
                raise RuntimeError("findings could not be written: DynamoDB kept them unprocessed")

    def get(self, tenant_id: str, finding_id: str) -> dict[str, Any] | None:
        got = client("dynamodb").get_item(
            TableName=_table(),
            Key=dynamo.serialize({"tenant_id": tenant_id, "finding_id": finding_id}),
        )
        return dynamo.deserialize(got["Item"]) if "Item" in got else None

    def get_many(self, tenant_id: str, finding_ids: list[str]) -> dict[str, dict[str, Any]]:
        ddb, table = client("dynamodb"), _table()
        found: dict[str, dict[str, Any]] = {}
        unique = sorted(set(finding_ids))
        for start in range(0, len(unique), 100):
            ids = [
                dynamo.serialize({"tenant_id": tenant_id, "finding_id": fid})
                for fid in unique[start : start + 100]
            ]
            pending: dict[str, Any] = {table: {"Keys": ids}}
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

    def of_artifact(self, tenant_id: str, artifact_key: str) -> dict[str, dict[str, Any]]:
        found = _query_index(tenant_id, "by_artifact", "artifact_key", artifact_key)
        return {f["finding_id"]: f for f in sorted(found, key=lambda f: f["finding_id"])}

    def of_pipeline(self, tenant_id: str, pipeline_key: str) -> list[dict[str, Any]]:
        found = _query_index(tenant_id, "by_pipeline", "pipeline_key", pipeline_key)
        return sorted(found, key=lambda f: f["finding_id"])

    def page(
        self, tenant_id: str, limit: int, after: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        query: dict[str, Any] = {
            "TableName": _table(),
            "KeyConditionExpression": "tenant_id = :t",
            "ExpressionAttributeValues": {":t": dynamo.value(tenant_id)},
            "ConsistentRead": True,
        }
        start = {"tenant_id": tenant_id, "finding_id": after} if after else None
        items = dynamo.query_items(query, limit + 1, start)  # one more: a next page?
        listed = items[:limit]
        more = len(items) > limit and bool(listed)
        return listed, listed[-1]["finding_id"] if more else None

    def tenants(self) -> list[str]:
        pages = (
            client("dynamodb")
            .get_paginator("scan")
            .paginate(TableName=_table(), ProjectionExpression="tenant_id")
        )
        return sorted({i["tenant_id"]["S"] for page in pages for i in page["Items"]})


def _query_index(tenant_id: str, index: str, key_name: str, key: str) -> list[dict[str, Any]]:
    if not keys.owns(tenant_id, key):
        return []
    pages = (
        client("dynamodb")
        .get_paginator("query")
        .paginate(
            TableName=_table(),
            IndexName=index,
            KeyConditionExpression=f"{key_name} = :k",
            ExpressionAttributeValues={":k": dynamo.value(key)},
        )
    )
    found = (dynamo.deserialize(item) for page in pages for item in page["Items"])
    return [f for f in found if f.get("tenant_id") == tenant_id]

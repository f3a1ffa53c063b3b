"""Scans on DynamoDB: the scans table (key tenant_id, scan_id; index `by_pipeline` on
pipeline_key, received_at)."""

from __future__ import annotations

from typing import Any

from chalicelib.config import settings
from chalicelib.stores import dynamo, keys
from chalicelib.stores.clients import client
from chalicelib.stores.ports import NotWritten


def _table() -> str:
    return settings().scans_table


def _update(tenant_id: str, scan_id: str, **request: Any) -> dict[str, Any]:
    updated = dynamo.update_if(_table(), {"tenant_id": tenant_id, "scan_id": scan_id}, **request)
    if updated is None:
        raise NotWritten()
    return updated


class DynamoScans:
    """`ScanStore` on the scans table."""

    def create(self, scan: dict[str, Any]) -> None:
        if not dynamo.put_if_absent(_table(), scan, "scan_id"):
            raise NotWritten()

    def get(self, tenant_id: str, scan_id: str) -> dict[str, Any] | None:
        got = client("dynamodb").get_item(
            TableName=_table(),
            Key=dynamo.serialize({"tenant_id": tenant_id, "scan_id": scan_id}),
            ConsistentRead=True,
        )
        return dynamo.deserialize(got["Item"]) if "Item" in got else None

    def record_artifacts(
        self, tenant_id: str, scan_id: str, results: dict[int, dict[str, Any]], now: str
    ) -> dict[str, Any]:
        names = {"#results": "results", "#status": "status"}
        values = {
            ":running": dynamo.value("running"),
            ":queued": dynamo.value("queued"),
            ":now": dynamo.value(now),
            ":n": dynamo.value(len(results)),
        }
        sets, absent = [], []
        for i, (index, result) in enumerate(sorted(results.items())):
            names[f"#i{i}"] = str(index)
            values[f":r{i}"] = dynamo.value(result)
            sets.append(f"#results.#i{i} = :r{i}")
            absent.append(f"attribute_not_exists(#results.#i{i})")
        return _update(
            tenant_id,
            scan_id,
            UpdateExpression=(
                f"SET {', '.join(sets)}, #status = :running, updated_at = :now "
                "ADD artifacts_done :n"
            ),
            ConditionExpression=" AND ".join(
                ["attribute_exists(scan_id)", "#status IN (:queued, :running)", *absent]
            ),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
        )

    def complete(self, tenant_id: str, scan_id: str, fields: dict[str, Any]) -> None:
        names = {f"#f{i}": name for i, name in enumerate(fields)}
        values = {f":v{i}": dynamo.value(v) for i, v in enumerate(fields.values())}
        assignments = ", ".join(f"#f{i} = :v{i}" for i in range(len(fields)))
        _update(
            tenant_id,
            scan_id,
            UpdateExpression=f"SET {assignments}, #status = :complete",
            ConditionExpression="attribute_exists(scan_id) AND #status <> :complete",
            ExpressionAttributeNames={**names, "#status": "status"},
            ExpressionAttributeValues={**values, ":complete": dynamo.value("complete")},
        )

    def mark_failed(self, tenant_id: str, scan_id: str, reason: str, now: str) -> None:
        _update(
            tenant_id,
            scan_id,
            UpdateExpression="SET #status = :failed, failure = :reason, updated_at = :now",
            ConditionExpression="attribute_exists(scan_id)",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":failed": dynamo.value("failed"),
                ":reason": dynamo.value(reason),
                ":now": dynamo.value(now),
            },
        )

    def collected(
        self, tenant_id: str, scan_id: str, artifacts: list[dict[str, Any]], now: str
    ) -> dict[str, Any]:
        return _update(
            tenant_id,
            scan_id,
            UpdateExpression=(
                "SET artifacts = :artifacts, artifacts_total = :total, #status = :queued, "
                "updated_at = :now"
            ),
            ConditionExpression="#status = :collecting",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":artifacts": dynamo.value(artifacts),
                ":total": dynamo.value(len(artifacts)),
                ":queued": dynamo.value("queued"),
                ":collecting": dynamo.value("collecting"),
                ":now": dynamo.value(now),
            },
            ReturnValues="ALL_NEW",
        )

    def mark_streamed(self, tenant_id: str, scan_id: str) -> None:
        _update(
            tenant_id,
            scan_id,
            UpdateExpression="SET streamed = :yes",
            ConditionExpression="attribute_exists(scan_id)",
            ExpressionAttributeValues={":yes": dynamo.value(True)},
        )

    def fail_unstreamed(self, tenant_id: str, scan_id: str, reason: str, now: str) -> None:
        _update(
            tenant_id,
            scan_id,
            UpdateExpression="SET #status = :failed, failure = :reason, updated_at = :now",
            ConditionExpression=(
                "#status = :collecting OR (#status = :queued AND attribute_not_exists(streamed))"
            ),
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":failed": dynamo.value("failed"),
                ":collecting": dynamo.value("collecting"),
                ":queued": dynamo.value("queued"),
                ":reason": dynamo.value(reason),
                ":now": dynamo.value(now),
            },
        )

    def requeue(self, tenant_id: str, scan_id: str, now: str) -> None:
        _update(
            tenant_id,
            scan_id,
            UpdateExpression="SET #status = :queued, updated_at = :now REMOVE failure",
            ConditionExpression="#status = :failed",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":queued": dynamo.value("queued"),
                ":failed": dynamo.value("failed"),
                ":now": dynamo.value(now),
            },
        )

    def received_since(self, tenant_id: str, since: str) -> list[dict[str, Any]]:
        pages = (
            client("dynamodb")
            .get_paginator("query")
            .paginate(
                TableName=_table(),
                KeyConditionExpression="tenant_id = :t",
                FilterExpression="received_at >= :since",
                ExpressionAttributeValues={
                    ":t": dynamo.value(tenant_id),
                    ":since": dynamo.value(since),
                },
            )
        )
        return [dynamo.deserialize(item) for page in pages for item in page["Items"]]

    def of_pipeline(
        self, tenant_id: str, pipeline_key: str, limit: int, after: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        if not keys.owns(tenant_id, pipeline_key):
            return [], None
        query: dict[str, Any] = {
            "TableName": _table(),
            "IndexName": "by_pipeline",
            "KeyConditionExpression": "pipeline_key = :k",
            "ExpressionAttributeValues": {":k": dynamo.value(pipeline_key)},
            "ScanIndexForward": False,
        }
        start = _start_key(tenant_id, pipeline_key, after) if after else None
        items = dynamo.query_items(  # one more: a next page?
            query, limit + 1, start, keep=lambda i: i.get("tenant_id") == tenant_id
        )
        listed = items[:limit]
        more = len(items) > limit and bool(listed)
        return listed, keys.scan_cursor(listed[-1]) if more else None


def _start_key(tenant_id: str, pipeline_key: str, after: str) -> dict[str, Any]:
    received_at, scan_id = keys.scan_position(after)
    return {
        "pipeline_key": pipeline_key,
        "received_at": received_at,
        "tenant_id": tenant_id,
        "scan_id": scan_id,
    }

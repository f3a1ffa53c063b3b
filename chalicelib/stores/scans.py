"""Scan records (table key: tenant_id, scan_id) and their per-artifact progress."""

from __future__ import annotations

from typing import Any

from chalicelib.config import settings
from chalicelib.stores import dynamo
from chalicelib.stores.clients import client


def _table() -> str:
    return settings().scans_table


def _key(tenant_id: str, scan_id: str) -> dict[str, Any]:
    return dynamo.serialize({"tenant_id": tenant_id, "scan_id": scan_id})


def create(scan: dict[str, Any]) -> bool:
    """Store a new scan; False when a scan with this id already exists (nothing written)."""
    return dynamo.put_if_absent(_table(), scan, "scan_id")


def get(tenant_id: str, scan_id: str) -> dict[str, Any] | None:
    got = client("dynamodb").get_item(
        TableName=_table(), Key=_key(tenant_id, scan_id), ConsistentRead=True
    )
    return dynamo.deserialize(got["Item"]) if "Item" in got else None


def record_artifact(
    tenant_id: str, scan_id: str, index: int, result: dict[str, Any], now: str
) -> dict[str, Any] | None:
    """Record one artifact's result once; returns the updated scan, None if already recorded."""
    updated = dynamo.update_if(
        _table(),
        {"tenant_id": tenant_id, "scan_id": scan_id},
        UpdateExpression=(
            "SET #results.#idx = :result, #status = :running, updated_at = :now "
            "ADD artifacts_done :one"
        ),
        ConditionExpression=(
            "attribute_exists(scan_id) AND attribute_not_exists(#results.#idx) "
            "AND #status IN (:queued, :running)"
        ),
        ExpressionAttributeNames={
            "#results": "results",
            "#idx": str(index),
            "#status": "status",
        },
        ExpressionAttributeValues={
            ":result": dynamo.value(result),
            ":running": dynamo.value("running"),
            ":queued": dynamo.value("queued"),
            ":now": dynamo.value(now),
            ":one": dynamo.value(1),
        },
        ReturnValues="ALL_NEW",
    )
    return updated or None


MAX_RESULTS_PER_UPDATE = 25  # keeps the update and condition expressions well under 4 KB


def record_artifacts(
    tenant_id: str, scan_id: str, results: dict[int, dict[str, Any]], now: str
) -> dict[str, Any] | None:
    """Record several artifacts' results in one write, only if none of them is recorded yet;
    returns the updated scan, None if any was already recorded (nothing written)."""
    if not 0 < len(results) <= MAX_RESULTS_PER_UPDATE:
        raise ValueError(f"record 1 to {MAX_RESULTS_PER_UPDATE} results per update")
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
    updated = dynamo.update_if(
        _table(),
        {"tenant_id": tenant_id, "scan_id": scan_id},
        UpdateExpression=(
            f"SET {', '.join(sets)}, #status = :running, updated_at = :now ADD artifacts_done :n"
        ),
        ConditionExpression=" AND ".join(
            ["attribute_exists(scan_id)", "#status IN (:queued, :running)", *absent]
        ),
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
        ReturnValues="ALL_NEW",
    )
    return updated or None


def complete(tenant_id: str, scan_id: str, fields: dict[str, Any]) -> bool:
    """Mark the scan complete with its verdict; False if it was already complete."""
    names = {f"#f{i}": name for i, name in enumerate(fields)}
    values = {f":v{i}": dynamo.value(v) for i, v in enumerate(fields.values())}
    assignments = ", ".join(f"#f{i} = :v{i}" for i in range(len(fields)))
    updated = dynamo.update_if(
        _table(),
        {"tenant_id": tenant_id, "scan_id": scan_id},
        UpdateExpression=f"SET {assignments}, #status = :complete",
        ConditionExpression="attribute_exists(scan_id) AND #status <> :complete",
        ExpressionAttributeNames={**names, "#status": "status"},
        ExpressionAttributeValues={**values, ":complete": dynamo.value("complete")},
    )
    return updated is not None


def mark_failed(tenant_id: str, scan_id: str, reason: str, now: str) -> None:
    client("dynamodb").update_item(
        TableName=_table(),
        Key=_key(tenant_id, scan_id),
        UpdateExpression="SET #status = :failed, failure = :reason, updated_at = :now",
        ConditionExpression="attribute_exists(scan_id)",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues={
            ":failed": dynamo.value("failed"),
            ":reason": dynamo.value(reason),
            ":now": dynamo.value(now),
        },
    )


def requeue(tenant_id: str, scan_id: str, now: str) -> bool:
    """Put a scan whose queueing failed back to queued; False if it is not in that state."""
    updated = dynamo.update_if(
        _table(),
        {"tenant_id": tenant_id, "scan_id": scan_id},
        UpdateExpression="SET #status = :queued, updated_at = :now REMOVE failure",
        ConditionExpression="#status = :failed",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues={
            ":queued": dynamo.value("queued"),
            ":failed": dynamo.value("failed"),
            ":now": dynamo.value(now),
        },
    )
    return updated is not None


def received_since(tenant_id: str, since: str) -> list[dict[str, Any]]:
    """This tenant's scans received at or after `since` (ISO-8601)."""
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


def of_pipeline(pipeline_key: str, limit: int = 50) -> list[dict[str, Any]]:
    """The pipeline's most recent scans, newest first."""
    response = client("dynamodb").query(
        TableName=_table(),
        IndexName="by_pipeline",
        KeyConditionExpression="pipeline_key = :k",
        ExpressionAttributeValues={":k": dynamo.value(pipeline_key)},
        ScanIndexForward=False,
        Limit=limit,
    )
    return [dynamo.deserialize(item) for item in response["Items"]]


def collected(
    tenant_id: str, scan_id: str, artifacts: list[dict[str, Any]], now: str
) -> dict[str, Any] | None:
    """A collecting scan gets its artifacts and is queued for evaluation; returns the updated
    scan, None if it was not collecting (another delivery of its job got there first)."""
    updated = dynamo.update_if(
        _table(),
        {"tenant_id": tenant_id, "scan_id": scan_id},
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
    return updated or None


def mark_streamed(tenant_id: str, scan_id: str) -> None:
    """Note that the scan's artifacts are on the stream (a later delivery of the same job
    then has nothing left to do)."""
    dynamo.update_if(
        _table(),
        {"tenant_id": tenant_id, "scan_id": scan_id},
        UpdateExpression="SET streamed = :yes",
        ConditionExpression="attribute_exists(scan_id)",
        ExpressionAttributeValues={":yes": dynamo.value(True)},
    )


def fail_unstreamed(tenant_id: str, scan_id: str, reason: str, now: str) -> bool:
    """Fail a scan whose artifacts never reached the stream (still collecting, or queued but
    not streamed); False if it had moved on."""
    updated = dynamo.update_if(
        _table(),
        {"tenant_id": tenant_id, "scan_id": scan_id},
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
    return updated is not None

"""The audit log: every administrative and policy change, per tenant, newest first."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from chalicelib.config import settings
from chalicelib.errors import BadRequest
from chalicelib.stores import dynamo
from chalicelib.stores.clients import client


def record(
    tenant_id: str,
    actor: str,
    action: str,
    target: str,
    before: Any = None,
    after: Any = None,
) -> None:
    """Append an entry: who (key id), what (action on target), when, state before and after."""
    at = datetime.now(UTC).isoformat(timespec="milliseconds")
    entry = {
        "pk": f"TENANT#{tenant_id}",
        "sk": f"AUDIT#{at}#{uuid.uuid4().hex[:8]}",
        "tenant_id": tenant_id,
        "at": at,
        "actor": actor,
        "action": action,
        "target": target,
        # JSON strings: before/after keep their exact shape whatever DynamoDB types allow
        "before": json.dumps(before, sort_keys=True, default=str),
        "after": json.dumps(after, sort_keys=True, default=str),
    }
    client("dynamodb").put_item(TableName=settings().tenants_table, Item=dynamo.serialize(entry))


def entries(tenant_id: str, limit: int = 50, cursor: str | None = None) -> dict[str, Any]:
    """One page of the tenant's audit log, newest first, with `next_cursor`."""
    query: dict[str, Any] = {
        "TableName": settings().tenants_table,
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :audit)",
        "ExpressionAttributeValues": {
            ":pk": dynamo.value(f"TENANT#{tenant_id}"),
            ":audit": dynamo.value("AUDIT#"),
        },
        "ScanIndexForward": False,
        "Limit": limit,
    }
    if cursor:
        query["ExclusiveStartKey"] = dynamo.serialize(
            {"pk": f"TENANT#{tenant_id}", "sk": _decode(cursor)}
        )
    response = client("dynamodb").query(**query)
    items = [dynamo.deserialize(i) for i in response["Items"]]
    last = response.get("LastEvaluatedKey")
    return {
        "entries": [
            {
                "at": i["at"],
                "actor": i["actor"],
                "action": i["action"],
                "target": i["target"],
                "before": json.loads(i["before"]),
                "after": json.loads(i["after"]),
            }
            for i in items
        ],
        "next_cursor": _encode(dynamo.deserialize(last)["sk"]) if last else None,
    }


def _encode(sort_key: str) -> str:
    return base64.urlsafe_b64encode(sort_key.encode()).decode().rstrip("=")


def _decode(cursor: str) -> str:
    try:
        sort_key = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except ValueError:
        sort_key = ""
    if not sort_key.startswith("AUDIT#"):
        raise BadRequest("the cursor is not valid: pass next_cursor from the previous page")
    return sort_key

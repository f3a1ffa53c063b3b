"""The audit log: every administrative and policy change, per tenant, newest first.

An entry is written in the same DynamoDB transaction as the change it records (`entry` gives
the transaction's `Put`), so a change is never live without its entry, nor an entry without
its change. Each entry is bounded: a state whose JSON is over `INLINE_BYTES` is stored as its
small fields plus `truncated` (the fields left out, the state's size and SHA-256).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from chalicelib.config import settings
from chalicelib.errors import BadRequest
from chalicelib.stores import dynamo
from chalicelib.stores.clients import client

INLINE_BYTES = 64 * 1024
"""The most JSON a state (before or after) keeps in full in an entry."""
FIELD_BYTES = 1024
"""A truncated state keeps each of its fields up to this size of JSON."""
PAGE_BYTES = 1024 * 1024
"""A page of `entries` ends early once its states reach this size (DynamoDB reads 1 MB)."""


def entry(
    tenant_id: str,
    actor: str,
    action: str,
    target: str,
    before: Any = None,
    after: Any = None,
) -> dict[str, Any]:
    """The transaction `Put` of an entry: who (key id), what (action on target), when, and the
    state before and after. Write it with the change: `dynamo.transact([change, entry])`."""
    at = datetime.now(UTC).isoformat(timespec="milliseconds")
    item = {
        "pk": f"TENANT#{tenant_id}",
        "sk": f"AUDIT#{at}#{uuid.uuid4().hex[:8]}",
        "tenant_id": tenant_id,
        "at": at,
        "actor": actor,
        "action": action,
        "target": target,
        # JSON strings: before/after keep their exact shape whatever DynamoDB types allow
        "before": bounded(before),
        "after": bounded(after),
    }
    return dynamo.put_action(settings().tenants_table, item, "attribute_not_exists(pk)")


def bounded(state: Any) -> str:
    """`state` as the JSON an entry stores: in full up to `INLINE_BYTES`, else truncated."""
    text = json.dumps(state, sort_keys=True, default=str)
    if len(text) <= INLINE_BYTES:
        return text
    canonical = json.dumps(
        state, sort_keys=True, default=str, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")
    kept: dict[str, Any] = {}
    left_out: list[str] = []
    used = 0
    for name, value in sorted(state.items()) if isinstance(state, dict) else ():
        size = len(json.dumps(value, sort_keys=True, default=str))
        if size <= FIELD_BYTES and used + size <= INLINE_BYTES // 2:
            kept[name] = value
            used += size
        else:
            left_out.append(name)
    kept["truncated"] = {
        "fields": left_out,
        "bytes": len(canonical),
        "sha256": hashlib.sha256(canonical).hexdigest(),
    }
    return json.dumps(kept, sort_keys=True, default=str)


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
    evaluated = response.get("LastEvaluatedKey")
    next_cursor = _encode(dynamo.deserialize(evaluated)["sk"]) if evaluated else None
    page: list[dict[str, Any]] = []
    size = 0
    for item in items:
        if page and size + len(item["before"]) + len(item["after"]) > PAGE_BYTES:
            next_cursor = cursor_of(page[-1])
            break
        size += len(item["before"]) + len(item["after"])
        page.append(item)
    return {
        "entries": [shown(i) for i in page],
        "next_cursor": next_cursor,
    }


def shown(item: dict[str, Any]) -> dict[str, Any]:
    """A stored entry as `GET /v1/audit` shows it."""
    return {
        "at": item["at"],
        "actor": item["actor"],
        "action": item["action"],
        "target": item["target"],
        "before": json.loads(item["before"]),
        "after": json.loads(item["after"]),
    }


def cursor_of(item: dict[str, Any]) -> str:
    """The cursor of the page that follows a stored entry."""
    return _encode(item["sk"])


_SORT_KEY = re.compile(r"AUDIT#[0-9T:.+-]{10,40}#[0-9a-f]{8}")


def _encode(sort_key: str) -> str:
    return base64.urlsafe_b64encode(sort_key.encode()).decode().rstrip("=")


def _decode(cursor: str) -> str:
    try:
        sort_key = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except ValueError:
        sort_key = ""
    if not _SORT_KEY.fullmatch(sort_key):
        raise BadRequest("the cursor is not valid: pass next_cursor from the previous page")
    return sort_key

"""The audit log on DynamoDB: items `AUDIT#<at>#<nonce>` in the tenant's partition."""

from __future__ import annotations

from typing import Any

from chalicelib.stores import dynamo
from chalicelib.stores.aws import table
from chalicelib.stores.ports import AuditEntry

PREFIX = "AUDIT#"


def put_action(entry: AuditEntry) -> dict[str, Any]:
    """The transaction `Put` of an entry (refused if its position is taken)."""
    item = {
        "pk": table.tenant_pk(entry.tenant_id),
        "sk": PREFIX + entry.position,
        "tenant_id": entry.tenant_id,
        "at": entry.at,
        "actor": entry.actor,
        "action": entry.action,
        "target": entry.target,
        "before": entry.before,
        "after": entry.after,
    }
    return dynamo.put_action(table.name(), item, "attribute_not_exists(pk)")


def from_item(item: dict[str, Any]) -> AuditEntry:
    at, _, nonce = item["sk"].removeprefix(PREFIX).rpartition("#")
    return AuditEntry(
        tenant_id=item["tenant_id"],
        at=at,
        nonce=nonce,
        actor=item["actor"],
        action=item["action"],
        target=item["target"],
        before=item["before"],
        after=item["after"],
    )


class DynamoAuditLog:
    """`AuditLog` on the tenants table."""

    def page(
        self, tenant_id: str, limit: int, after: str | None = None
    ) -> tuple[list[AuditEntry], str | None]:
        pk = table.tenant_pk(tenant_id)
        query: dict[str, Any] = {
            "TableName": table.name(),
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :audit)",
            "ExpressionAttributeValues": {
                ":pk": dynamo.value(pk),
                ":audit": dynamo.value(PREFIX),
            },
            "ScanIndexForward": False,
            "ConsistentRead": True,
        }
        start = {"pk": pk, "sk": PREFIX + after} if after else None
        items = dynamo.query_items(query, limit + 1, start)  # one more: a next page?
        entries = [from_item(i) for i in items[:limit]]
        more = len(items) > limit
        return entries, entries[-1].position if more and entries else None

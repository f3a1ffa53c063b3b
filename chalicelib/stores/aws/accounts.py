"""Registered AWS accounts on DynamoDB: `ACCOUNT#<account id>` in the tenant's partition."""

from __future__ import annotations

from typing import Any

from chalicelib.stores import dynamo
from chalicelib.stores.aws import audit, table
from chalicelib.stores.clients import client
from chalicelib.stores.ports import AuditEntry, NotWritten

PREFIX = "ACCOUNT#"


def _key(tenant_id: str, account_id: str) -> dict[str, Any]:
    return {"pk": table.tenant_pk(tenant_id), "sk": PREFIX + account_id}


class DynamoAccounts:
    """`AccountStore` on the tenants table."""

    def create(self, tenant_id: str, record: dict[str, Any], audit_entry: AuditEntry) -> None:
        item = {**record, **_key(tenant_id, record["account_id"]), "tenant_id": tenant_id}
        put = dynamo.put_action(table.name(), item, "attribute_not_exists(pk)")
        table.transact([put, audit.put_action(audit_entry)])

    def get(self, tenant_id: str, account_id: str) -> dict[str, Any] | None:
        item = table.get(table.tenant_pk(tenant_id), PREFIX + account_id)
        return table.without(item) if item else None

    def page(
        self, tenant_id: str, limit: int, after: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        pk = table.tenant_pk(tenant_id)
        query: dict[str, Any] = {
            "TableName": table.name(),
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :a)",
            "ExpressionAttributeValues": {":pk": dynamo.value(pk), ":a": dynamo.value(PREFIX)},
            "ConsistentRead": True,
        }
        start = _key(tenant_id, after) if after is not None else None
        items = dynamo.query_items(query, limit + 1, start)  # one more: a next page?
        records = [table.without(i) for i in items[:limit]]
        more = len(items) > limit
        return records, records[-1]["account_id"] if more and records else None

    def delete(self, tenant_id: str, account_id: str, audit_entry: AuditEntry) -> None:
        change = {
            "Delete": {
                "TableName": table.name(),
                "Key": dynamo.serialize(_key(tenant_id, account_id)),
                "ConditionExpression": "attribute_exists(pk)",
            }
        }
        table.transact([change, audit.put_action(audit_entry)])

    def due(self, now: str) -> list[dict[str, Any]]:
        pages = (
            client("dynamodb")
            .get_paginator("scan")
            .paginate(
                TableName=table.name(),
                FilterExpression="begins_with(sk, :a) AND next_scan_at <= :now",
                ExpressionAttributeValues={":a": dynamo.value(PREFIX), ":now": dynamo.value(now)},
                ConsistentRead=True,
            )
        )
        return [table.without(dynamo.deserialize(i)) for p in pages for i in p["Items"]]

    def claim(self, tenant_id: str, account_id: str, seen_next: str, next_scan_at: str) -> None:
        updated = dynamo.update_if(
            table.name(),
            _key(tenant_id, account_id),
            UpdateExpression="SET next_scan_at = :next",
            ConditionExpression="attribute_exists(pk) AND next_scan_at = :seen",
            ExpressionAttributeValues={
                ":next": dynamo.value(next_scan_at),
                ":seen": dynamo.value(seen_next),
            },
        )
        if updated is None:
            raise NotWritten()

    def record_scan(
        self,
        tenant_id: str,
        account_id: str,
        changes: dict[str, Any],
        if_last_scan: str | None = None,
    ) -> None:
        names = {f"#f{i}": name for i, name in enumerate(changes)}
        values = {f":v{i}": dynamo.value(value) for i, value in enumerate(changes.values())}
        condition = "attribute_exists(pk)"
        if if_last_scan is not None:
            condition += " AND last_scan_id = :last"
            values[":last"] = dynamo.value(if_last_scan)
        updated = dynamo.update_if(
            table.name(),
            _key(tenant_id, account_id),
            UpdateExpression="SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(changes))),
            ConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )
        if updated is None:
            raise NotWritten()

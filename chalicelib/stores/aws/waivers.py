"""Waivers on DynamoDB: `WAIVER#<waiver_id>` in the tenant's partition."""

from __future__ import annotations

from typing import Any

from chalicelib.stores import dynamo
from chalicelib.stores.aws import audit, table
from chalicelib.stores.ports import AuditEntry

PREFIX = "WAIVER#"


class DynamoWaivers:
    """`WaiverStore` on the tenants table."""

    def create(self, tenant_id: str, waiver: dict[str, Any], audit_entry: AuditEntry) -> None:
        item = {"pk": table.tenant_pk(tenant_id), "sk": PREFIX + waiver["waiver_id"], **waiver}
        put = dynamo.put_action(table.name(), item, "attribute_not_exists(pk)")
        table.transact([put, audit.put_action(audit_entry)])

    def get(self, tenant_id: str, waiver_id: str) -> dict[str, Any] | None:
        item = table.get(table.tenant_pk(tenant_id), PREFIX + waiver_id)
        return table.without(item) if item else None

    def all(self, tenant_id: str) -> list[dict[str, Any]]:
        return [table.without(i) for i in table.query_prefix(table.tenant_pk(tenant_id), PREFIX)]

    def revoke(
        self, tenant_id: str, waiver_id: str, seen: str, now: str, audit_entry: AuditEntry
    ) -> None:
        change = dynamo.update_action(
            table.name(),
            {"pk": table.tenant_pk(tenant_id), "sk": PREFIX + waiver_id},
            UpdateExpression="SET #s = :revoked, revoked_at = :now",
            ConditionExpression="attribute_exists(pk) AND #s = :seen",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":revoked": dynamo.value("revoked"),
                ":now": dynamo.value(now),
                ":seen": dynamo.value(seen),
            },
        )
        table.transact([change, audit.put_action(audit_entry)])

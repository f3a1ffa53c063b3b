"""Tenant settings documents on DynamoDB: `SETTING#<name>` in the tenant's partition."""

from __future__ import annotations

from typing import Any

from chalicelib.stores import dynamo
from chalicelib.stores.aws import audit, table
from chalicelib.stores.ports import AuditEntry

PREFIX = "SETTING#"


class DynamoSettings:
    """`SettingStore` on the tenants table."""

    def get(self, tenant_id: str, name: str) -> dict[str, Any] | None:
        item = table.get(table.tenant_pk(tenant_id), PREFIX + name)
        return table.without(item, "tenant_id") if item else None

    def put(
        self, tenant_id: str, name: str, value: dict[str, Any], audit_entry: AuditEntry
    ) -> None:
        item = {"pk": table.tenant_pk(tenant_id), "sk": PREFIX + name, **value}
        item["tenant_id"] = tenant_id
        table.transact([dynamo.put_action(table.name(), item), audit.put_action(audit_entry)])

    def tenants_with(self, name: str) -> list[str]:
        found = table.scan_sort_key(PREFIX + name, projection="tenant_id")
        return sorted({i["tenant_id"] for i in found})

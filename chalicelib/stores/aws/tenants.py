"""Tenants and keys on DynamoDB: `TENANT#<id>`/`META`, and each key twice: `KEY#<hash>`/`KEY`
(what authentication reads) and `TENANT#<id>`/`KEY#<key_id>` (the tenant's list)."""

from __future__ import annotations

from typing import Any

from chalicelib.stores import dynamo
from chalicelib.stores.aws import audit, table
from chalicelib.stores.ports import AuditEntry, NotWritten

META = "META"
SECRET = "usage_key"  # the tenant's API Gateway key


class DynamoTenants:
    """`TenantStore` on the tenants table."""

    def create(
        self,
        tenant: dict[str, Any],
        key_hash: str,
        key: dict[str, Any],
        audit_entry: AuditEntry,
        exist_ok: bool,
    ) -> None:
        item = {"pk": table.tenant_pk(tenant["tenant_id"]), "sk": META, **tenant}
        put = dynamo.put_action(
            table.name(), item, None if exist_ok else "attribute_not_exists(pk)"
        )
        table.transact([put, *_key_puts(key_hash, key), audit.put_action(audit_entry)])

    def get(self, tenant_id: str) -> dict[str, Any] | None:
        item = table.get(table.tenant_pk(tenant_id), META)
        return table.without(item) if item else None

    def all(self) -> list[dict[str, Any]]:
        tenants = [table.without(i, SECRET) for i in table.scan_sort_key(META)]
        return sorted(tenants, key=lambda t: t["tenant_id"])

    def set_status(self, tenant_id: str, status: str, seen: str, audit_entry: AuditEntry) -> None:
        change = dynamo.update_action(
            table.name(),
            {"pk": table.tenant_pk(tenant_id), "sk": META},
            UpdateExpression="SET #s = :s",
            ConditionExpression="attribute_exists(pk) AND #s = :seen",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":s": dynamo.value(status), ":seen": dynamo.value(seen)},
        )
        table.transact([change, audit.put_action(audit_entry)])

    def add_key(self, key_hash: str, key: dict[str, Any], audit_entry: AuditEntry) -> None:
        table.transact([*_key_puts(key_hash, key), audit.put_action(audit_entry)])

    def key_by_hash(self, key_hash: str) -> dict[str, Any] | None:
        item = table.get(f"KEY#{key_hash}", "KEY")
        return table.without(item) if item else None

    def keys(self, tenant_id: str) -> list[dict[str, Any]]:
        listed = table.query_prefix(table.tenant_pk(tenant_id), "KEY#")
        return [table.without(i, "key_hash") for i in listed]

    def key(self, tenant_id: str, key_id: str) -> dict[str, Any] | None:
        item = table.get(table.tenant_pk(tenant_id), f"KEY#{key_id}")
        return table.without(item) if item else None

    def revoke_key(self, tenant_id: str, key_id: str, now: str, audit_entry: AuditEntry) -> None:
        listed = self.key(tenant_id, key_id)
        if listed is None:
            raise NotWritten()
        changes = [
            dynamo.update_action(
                table.name(),
                key,
                UpdateExpression="SET #s = :revoked, revoked_at = :now",
                ConditionExpression="attribute_exists(pk) AND tenant_id = :tenant",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":revoked": dynamo.value("revoked"),
                    ":now": dynamo.value(now),
                    ":tenant": dynamo.value(tenant_id),
                },
            )
            for key in (
                {"pk": f"KEY#{listed['key_hash']}", "sk": "KEY"},
                {"pk": table.tenant_pk(tenant_id), "sk": f"KEY#{key_id}"},
            )
        ]
        table.transact([*changes, audit.put_action(audit_entry)])


def _key_puts(key_hash: str, key: dict[str, Any]) -> list[dict[str, Any]]:
    by_hash = {"pk": f"KEY#{key_hash}", "sk": "KEY", **key}
    listed = {
        "pk": table.tenant_pk(key["tenant_id"]),
        "sk": f"KEY#{key['key_id']}",
        **key,
        "key_hash": key_hash,
    }
    return [
        dynamo.put_action(table.name(), by_hash, "attribute_not_exists(pk)"),
        dynamo.put_action(table.name(), listed, "attribute_not_exists(pk)"),
    ]

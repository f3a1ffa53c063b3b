"""Policies on DynamoDB: versions `SETTING#policy#v<NNNNNN>` and the pointer `SETTING#policy`
in the tenant's partition."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.stores import dynamo
from chalicelib.stores.aws import audit, table
from chalicelib.stores.ports import AuditEntry, PolicyVersion

POINTER = "SETTING#policy"
_VERSION_FIELDS = ("pk", "sk", "tenant_id", "version", "updated_at", "updated_by", "document")


def _version_sk(version: int) -> str:
    return f"{POINTER}#v{version:06d}"


class DynamoPolicies:
    """`PolicyStore` on the tenants table."""

    def current_version(self, tenant_id: str) -> int:
        pointer = table.get(table.tenant_pk(tenant_id), POINTER)
        return int(pointer["version"]) if pointer else 0

    def version(self, tenant_id: str, version: int) -> dict[str, Any] | None:
        stored = table.get(table.tenant_pk(tenant_id), _version_sk(version))
        if stored is None:
            return None
        if "document" in stored:
            return json.loads(stored["document"])
        # versions written before the document was stored as one JSON string
        return {k: v for k, v in stored.items() if k not in _VERSION_FIELDS}

    def save(
        self, tenant_id: str, stored: PolicyVersion, expected: int, audit_entry: AuditEntry
    ) -> None:
        pk = table.tenant_pk(tenant_id)
        item = {
            "pk": pk,
            "sk": _version_sk(stored.version),
            "tenant_id": tenant_id,
            "version": stored.version,
            "updated_at": stored.updated_at,
            "updated_by": stored.updated_by,
            # one JSON string: its size is what the policy service bounds, whatever the nesting
            "document": stored.document,
        }
        if expected:
            point = dynamo.update_action(
                table.name(),
                {"pk": pk, "sk": POINTER},
                UpdateExpression="SET version = :next, updated_at = :now",
                ConditionExpression="version = :expected",
                ExpressionAttributeValues={
                    ":next": dynamo.value(stored.version),
                    ":now": dynamo.value(stored.updated_at),
                    ":expected": dynamo.value(expected),
                },
            )
        else:
            pointer = {
                "pk": pk,
                "sk": POINTER,
                "tenant_id": tenant_id,
                "version": stored.version,
                "updated_at": stored.updated_at,
            }
            point = dynamo.put_action(table.name(), pointer, "attribute_not_exists(pk)")
        version = dynamo.put_action(table.name(), item, "attribute_not_exists(pk)")
        table.transact([version, point, audit.put_action(audit_entry)])

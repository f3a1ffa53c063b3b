"""Tenant settings documents on SQLite: the `settings` table, keyed by (tenant, name)."""

from __future__ import annotations

from typing import Any

from chalicelib.stores.embedded.database import Database
from chalicelib.stores.embedded.rows import dumps, loads, write_audit
from chalicelib.stores.ports import AuditEntry


class SqliteSettings:
    """`SettingStore` on the embedded database."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def get(self, tenant_id: str, name: str) -> dict[str, Any] | None:
        row = (
            self.database.connection()
            .execute("SELECT doc FROM settings WHERE tenant_id = ? AND name = ?", (tenant_id, name))
            .fetchone()
        )
        return loads(row[0]) if row else None

    def put(self, tenant_id: str, name: str, value: dict[str, Any], audit: AuditEntry) -> None:
        with self.database.write() as conn:
            conn.execute(
                "INSERT INTO settings (tenant_id, name, doc) VALUES (?, ?, ?)"
                " ON CONFLICT (tenant_id, name) DO UPDATE SET doc = excluded.doc",
                (tenant_id, name, dumps(value)),
            )
            write_audit(conn, audit)

    def tenants_with(self, name: str) -> list[str]:
        rows = self.database.connection().execute(
            "SELECT tenant_id FROM settings WHERE name = ? ORDER BY tenant_id", (name,)
        )
        return [tenant_id for (tenant_id,) in rows]

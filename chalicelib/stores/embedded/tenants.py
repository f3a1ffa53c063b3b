"""Tenants and keys on SQLite: the `tenants` and `api_keys` tables (a key once, by hash)."""

from __future__ import annotations

from typing import Any

from chalicelib.stores.embedded.database import Database
from chalicelib.stores.embedded.rows import dumps, insert, loads, write_audit
from chalicelib.stores.ports import AuditEntry, NotWritten

SECRET = "usage_key"  # the tenant's API Gateway key


class SqliteTenants:
    """`TenantStore` on the embedded database."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def create(
        self,
        tenant: dict[str, Any],
        key_hash: str,
        key: dict[str, Any],
        audit: AuditEntry,
        exist_ok: bool,
    ) -> None:
        row = (tenant["tenant_id"], tenant["status"], dumps(tenant))
        with self.database.write() as conn:
            if exist_ok:
                conn.execute(
                    "INSERT INTO tenants (tenant_id, status, doc) VALUES (?, ?, ?) ON CONFLICT "
                    "(tenant_id) DO UPDATE SET status = excluded.status, doc = excluded.doc",
                    row,
                )
            else:
                insert(conn, "INSERT INTO tenants (tenant_id, status, doc) VALUES (?, ?, ?)", row)
            _insert_key(conn, key_hash, key)
            write_audit(conn, audit)

    def get(self, tenant_id: str) -> dict[str, Any] | None:
        row = (
            self.database.connection()
            .execute("SELECT doc FROM tenants WHERE tenant_id = ?", (tenant_id,))
            .fetchone()
        )
        return loads(row[0]) if row else None

    def all(self) -> list[dict[str, Any]]:
        rows = self.database.connection().execute("SELECT doc FROM tenants ORDER BY tenant_id")
        return [{k: v for k, v in loads(doc).items() if k != SECRET} for (doc,) in rows]

    def set_status(self, tenant_id: str, status: str, seen: str, audit: AuditEntry) -> None:
        with self.database.write() as conn:
            row = conn.execute(
                "SELECT doc FROM tenants WHERE tenant_id = ? AND status = ?", (tenant_id, seen)
            ).fetchone()
            if row is None:
                raise NotWritten()
            doc = {**loads(row[0]), "status": status}
            conn.execute(
                "UPDATE tenants SET status = ?, doc = ? WHERE tenant_id = ?",
                (status, dumps(doc), tenant_id),
            )
            write_audit(conn, audit)

    def add_key(self, key_hash: str, key: dict[str, Any], audit: AuditEntry) -> None:
        with self.database.write() as conn:
            _insert_key(conn, key_hash, key)
            write_audit(conn, audit)

    def key_by_hash(self, key_hash: str) -> dict[str, Any] | None:
        row = (
            self.database.connection()
            .execute("SELECT doc FROM api_keys WHERE key_hash = ?", (key_hash,))
            .fetchone()
        )
        return loads(row[0]) if row else None

    def keys(self, tenant_id: str) -> list[dict[str, Any]]:
        rows = self.database.connection().execute(
            "SELECT doc FROM api_keys WHERE tenant_id = ? ORDER BY key_id", (tenant_id,)
        )
        return [loads(doc) for (doc,) in rows]

    def key(self, tenant_id: str, key_id: str) -> dict[str, Any] | None:
        row = (
            self.database.connection()
            .execute(
                "SELECT key_hash, doc FROM api_keys WHERE tenant_id = ? AND key_id = ?",
                (tenant_id, key_id),
            )
            .fetchone()
        )
        return {**loads(row[1]), "key_hash": row[0]} if row else None

    def revoke_key(self, tenant_id: str, key_id: str, now: str, audit: AuditEntry) -> None:
        with self.database.write() as conn:
            row = conn.execute(
                "SELECT key_hash, doc FROM api_keys WHERE tenant_id = ? AND key_id = ?",
                (tenant_id, key_id),
            ).fetchone()
            if row is None:
                raise NotWritten()
            doc = {**loads(row[1]), "status": "revoked", "revoked_at": now}
            conn.execute("UPDATE api_keys SET doc = ? WHERE key_hash = ?", (dumps(doc), row[0]))
            write_audit(conn, audit)


def _insert_key(conn: Any, key_hash: str, key: dict[str, Any]) -> None:
    insert(
        conn,
        "INSERT INTO api_keys (key_hash, tenant_id, key_id, doc) VALUES (?, ?, ?, ?)",
        (key_hash, key["tenant_id"], key["key_id"], dumps(key)),
    )

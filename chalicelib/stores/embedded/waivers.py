"""Waivers on SQLite: the `waivers` table, keyed by (tenant, waiver id)."""

from __future__ import annotations

from typing import Any

from chalicelib.stores.embedded.database import Database
from chalicelib.stores.embedded.rows import dumps, insert, loads, write_audit
from chalicelib.stores.ports import AuditEntry, NotWritten


class SqliteWaivers:
    """`WaiverStore` on the embedded database."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def create(self, tenant_id: str, waiver: dict[str, Any], audit: AuditEntry) -> None:
        with self.database.write() as conn:
            insert(
                conn,
                "INSERT INTO waivers (tenant_id, waiver_id, doc) VALUES (?, ?, ?)",
                (tenant_id, waiver["waiver_id"], dumps(waiver)),
            )
            write_audit(conn, audit)

    def get(self, tenant_id: str, waiver_id: str) -> dict[str, Any] | None:
        row = (
            self.database.connection()
            .execute(
                "SELECT doc FROM waivers WHERE tenant_id = ? AND waiver_id = ?",
                (tenant_id, waiver_id),
            )
            .fetchone()
        )
        return loads(row[0]) if row else None

    def all(self, tenant_id: str) -> list[dict[str, Any]]:
        rows = self.database.connection().execute(
            "SELECT doc FROM waivers WHERE tenant_id = ? ORDER BY waiver_id", (tenant_id,)
        )
        return [loads(doc) for (doc,) in rows]

    def revoke(
        self, tenant_id: str, waiver_id: str, seen: str, now: str, audit: AuditEntry
    ) -> None:
        with self.database.write() as conn:
            row = conn.execute(
                "SELECT doc FROM waivers WHERE tenant_id = ? AND waiver_id = ?",
                (tenant_id, waiver_id),
            ).fetchone()
            doc = loads(row[0]) if row else None
            if doc is None or doc.get("status") != seen:
                raise NotWritten()
            doc.update(status="revoked", revoked_at=now)
            conn.execute(
                "UPDATE waivers SET doc = ? WHERE tenant_id = ? AND waiver_id = ?",
                (dumps(doc), tenant_id, waiver_id),
            )
            write_audit(conn, audit)

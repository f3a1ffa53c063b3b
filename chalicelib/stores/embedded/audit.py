"""The audit log on SQLite: the `audit_log` table, keyed by (tenant, position)."""

from __future__ import annotations

from chalicelib.stores.embedded.database import Database
from chalicelib.stores.ports import AuditEntry

_COLUMNS = "tenant_id, at, nonce, actor, action, target, before, after"


class SqliteAuditLog:
    """`AuditLog` on the embedded database."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def page(
        self, tenant_id: str, limit: int, after: str | None = None
    ) -> tuple[list[AuditEntry], str | None]:
        sql = f"SELECT {_COLUMNS} FROM audit_log WHERE tenant_id = ?"
        params: list[object] = [tenant_id]
        if after is not None:
            sql += " AND position < ?"
            params.append(after)
        sql += " ORDER BY position DESC LIMIT ?"
        params.append(limit + 1)
        rows = self.database.connection().execute(sql, params).fetchall()
        entries = [AuditEntry(*row) for row in rows[:limit]]
        more = len(rows) > limit
        return entries, entries[-1].position if more and entries else None

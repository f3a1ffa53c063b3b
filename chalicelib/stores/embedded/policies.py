"""Policies on SQLite: `policy_versions` (immutable rows) and `policy_pointers` (current)."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.stores.embedded.database import Database
from chalicelib.stores.embedded.rows import insert, write_audit
from chalicelib.stores.ports import AuditEntry, NotWritten, PolicyVersion


class SqlitePolicies:
    """`PolicyStore` on the embedded database."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def current_version(self, tenant_id: str) -> int:
        row = (
            self.database.connection()
            .execute("SELECT version FROM policy_pointers WHERE tenant_id = ?", (tenant_id,))
            .fetchone()
        )
        return int(row[0]) if row else 0

    def version(self, tenant_id: str, version: int) -> dict[str, Any] | None:
        row = (
            self.database.connection()
            .execute(
                "SELECT document FROM policy_versions WHERE tenant_id = ? AND version = ?",
                (tenant_id, version),
            )
            .fetchone()
        )
        document: dict[str, Any] | None = json.loads(row[0]) if row else None
        return document

    def save(self, tenant_id: str, stored: PolicyVersion, expected: int, audit: AuditEntry) -> None:
        with self.database.write() as conn:
            insert(
                conn,
                "INSERT INTO policy_versions (tenant_id, version, updated_at, updated_by,"
                " document) VALUES (?, ?, ?, ?, ?)",
                (tenant_id, stored.version, stored.updated_at, stored.updated_by, stored.document),
            )
            if expected:
                moved = conn.execute(
                    "UPDATE policy_pointers SET version = ?, updated_at = ?"
                    " WHERE tenant_id = ? AND version = ?",
                    (stored.version, stored.updated_at, tenant_id, expected),
                ).rowcount
                if moved != 1:
                    raise NotWritten()
            else:
                insert(
                    conn,
                    "INSERT INTO policy_pointers (tenant_id, version, updated_at) VALUES (?, ?, ?)",
                    (tenant_id, stored.version, stored.updated_at),
                )
            write_audit(conn, audit)

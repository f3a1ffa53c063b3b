"""Registered AWS accounts on SQLite: the `accounts` table, keyed by (tenant, account id), with
the record's `next_scan_at` beside it as a column, indexed for the sweep."""

from __future__ import annotations

import sqlite3
from typing import Any

from chalicelib.stores.embedded.database import Database
from chalicelib.stores.embedded.rows import dumps, insert, loads, write_audit
from chalicelib.stores.ports import AuditEntry, NotWritten


def _read(conn: sqlite3.Connection, tenant_id: str, account_id: str) -> dict[str, Any] | None:
    row = conn.execute(
        "SELECT doc FROM accounts WHERE tenant_id = ? AND account_id = ?", (tenant_id, account_id)
    ).fetchone()
    return loads(row[0]) if row else None


class SqliteAccounts:
    """`AccountStore` on the embedded database."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def create(self, tenant_id: str, record: dict[str, Any], audit: AuditEntry) -> None:
        record = {**record, "tenant_id": tenant_id}
        with self.database.write() as conn:
            insert(
                conn,
                "INSERT INTO accounts (tenant_id, account_id, next_scan_at, doc)"
                " VALUES (?, ?, ?, ?)",
                (tenant_id, record["account_id"], record["next_scan_at"], dumps(record)),
            )
            write_audit(conn, audit)

    def get(self, tenant_id: str, account_id: str) -> dict[str, Any] | None:
        return _read(self.database.connection(), tenant_id, account_id)

    def page(
        self, tenant_id: str, limit: int, after: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        rows = (
            self.database.connection()
            .execute(
                "SELECT doc FROM accounts WHERE tenant_id = ? AND account_id > ?"
                " ORDER BY account_id LIMIT ?",
                (tenant_id, after if after is not None else "", limit + 1),
            )
            .fetchall()
        )
        records = [loads(doc) for (doc,) in rows[:limit]]
        more = len(rows) > limit
        return records, records[-1]["account_id"] if more and records else None

    def delete(self, tenant_id: str, account_id: str, audit: AuditEntry) -> None:
        with self.database.write() as conn:
            deleted = conn.execute(
                "DELETE FROM accounts WHERE tenant_id = ? AND account_id = ?",
                (tenant_id, account_id),
            )
            if deleted.rowcount != 1:
                raise NotWritten()
            write_audit(conn, audit)

    def due(self, now: str) -> list[dict[str, Any]]:
        rows = self.database.connection().execute(
            "SELECT doc FROM accounts WHERE next_scan_at <= ?"
            " ORDER BY next_scan_at, tenant_id, account_id",
            (now,),
        )
        return [loads(doc) for (doc,) in rows]

    def claim(self, tenant_id: str, account_id: str, seen_next: str, next_scan_at: str) -> None:
        with self.database.write() as conn:
            record = _read(conn, tenant_id, account_id)
            if record is None or record.get("next_scan_at") != seen_next:
                raise NotWritten()
            self._update(conn, {**record, "next_scan_at": next_scan_at})

    def record_scan(
        self,
        tenant_id: str,
        account_id: str,
        changes: dict[str, Any],
        if_last_scan: str | None = None,
    ) -> None:
        with self.database.write() as conn:
            record = _read(conn, tenant_id, account_id)
            if record is None:
                raise NotWritten()
            if if_last_scan is not None and record.get("last_scan_id") != if_last_scan:
                raise NotWritten()
            self._update(conn, {**record, **changes})

    @staticmethod
    def _update(conn: sqlite3.Connection, record: dict[str, Any]) -> None:
        conn.execute(
            "UPDATE accounts SET next_scan_at = ?, doc = ? WHERE tenant_id = ? AND account_id = ?",
            (record["next_scan_at"], dumps(record), record["tenant_id"], record["account_id"]),
        )

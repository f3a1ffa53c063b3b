"""Row helpers shared by the embedded adapters: JSON documents and the audit entry insert."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from chalicelib.stores.ports import AuditEntry, NotWritten

_KEY_TAKEN = ("SQLITE_CONSTRAINT_PRIMARYKEY", "SQLITE_CONSTRAINT_UNIQUE")


def dumps(doc: dict[str, Any]) -> str:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def loads(text: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def insert(conn: sqlite3.Connection, sql: str, params: tuple[Any, ...]) -> None:
    """An INSERT that must add a row: `NotWritten` when its key is taken."""
    try:
        conn.execute(sql, params)
    except sqlite3.IntegrityError as exc:
        if exc.sqlite_errorname not in _KEY_TAKEN:
            raise
        raise NotWritten() from None


def write_audit(conn: sqlite3.Connection, entry: AuditEntry) -> None:
    """Add an audit entry in the caller's transaction (`NotWritten` if its position is taken)."""
    insert(
        conn,
        "INSERT INTO audit_log (tenant_id, position, at, nonce, actor, action, target, before,"
        " after) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            entry.tenant_id,
            entry.position,
            entry.at,
            entry.nonce,
            entry.actor,
            entry.action,
            entry.target,
            entry.before,
            entry.after,
        ),
    )

"""Scans on SQLite: the `scans` table, keyed by (tenant, scan id), listed by pipeline."""

from __future__ import annotations

import sqlite3
from typing import Any

from chalicelib.stores import keys
from chalicelib.stores.embedded.database import Database
from chalicelib.stores.embedded.rows import dumps, insert, loads
from chalicelib.stores.ports import NotWritten

_ACCEPTING = ("queued", "running")


class SqliteScans:
    """`ScanStore` on the embedded database."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def create(self, scan: dict[str, Any]) -> None:
        with self.database.write() as conn:
            insert(
                conn,
                "INSERT INTO scans (tenant_id, scan_id, pipeline_key, received_at, status, doc)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    scan["tenant_id"],
                    scan["scan_id"],
                    scan.get("pipeline_key"),
                    scan.get("received_at"),
                    scan.get("status"),
                    dumps(scan),
                ),
            )

    def get(self, tenant_id: str, scan_id: str) -> dict[str, Any] | None:
        return _read(self.database.connection(), tenant_id, scan_id)

    def record_artifacts(
        self, tenant_id: str, scan_id: str, results: dict[int, dict[str, Any]], now: str
    ) -> dict[str, Any]:
        with self.database.write() as conn:
            scan = _read(conn, tenant_id, scan_id)
            recorded = (scan or {}).get("results") or {}
            if (
                scan is None
                or scan.get("status") not in _ACCEPTING
                or any(str(index) in recorded for index in results)
            ):
                raise NotWritten()
            scan["results"] = {**recorded, **{str(i): r for i, r in results.items()}}
            scan["artifacts_done"] = int(scan.get("artifacts_done", 0)) + len(results)
            scan.update(status="running", updated_at=now)
            _write(conn, scan)
            return scan

    def complete(self, tenant_id: str, scan_id: str, fields: dict[str, Any]) -> None:
        with self.database.write() as conn:
            scan = _read(conn, tenant_id, scan_id)
            if scan is None or scan.get("status") == "complete":
                raise NotWritten()
            _write(conn, {**scan, **fields, "status": "complete"})

    def mark_failed(self, tenant_id: str, scan_id: str, reason: str, now: str) -> None:
        with self.database.write() as conn:
            scan = _read(conn, tenant_id, scan_id)
            if scan is None:
                raise NotWritten()
            _write(conn, {**scan, "status": "failed", "failure": reason, "updated_at": now})

    def collected(
        self, tenant_id: str, scan_id: str, artifacts: list[dict[str, Any]], now: str
    ) -> dict[str, Any]:
        with self.database.write() as conn:
            scan = _read(conn, tenant_id, scan_id)
            if scan is None or scan.get("status") != "collecting":
                raise NotWritten()
            scan.update(
                artifacts=artifacts, artifacts_total=len(artifacts), status="queued", updated_at=now
            )
            _write(conn, scan)
            return scan

    def mark_streamed(self, tenant_id: str, scan_id: str) -> None:
        with self.database.write() as conn:
            scan = _read(conn, tenant_id, scan_id)
            if scan is None:
                raise NotWritten()
            _write(conn, {**scan, "streamed": True})

    def fail_unstreamed(self, tenant_id: str, scan_id: str, reason: str, now: str) -> None:
        with self.database.write() as conn:
            scan = _read(conn, tenant_id, scan_id)
            status = (scan or {}).get("status")
            if scan is None or not (
                status == "collecting" or (status == "queued" and "streamed" not in scan)
            ):
                raise NotWritten()
            _write(conn, {**scan, "status": "failed", "failure": reason, "updated_at": now})

    def requeue(self, tenant_id: str, scan_id: str, now: str) -> None:
        with self.database.write() as conn:
            scan = _read(conn, tenant_id, scan_id)
            if scan is None or scan.get("status") != "failed":
                raise NotWritten()
            scan.pop("failure", None)
            _write(conn, {**scan, "status": "queued", "updated_at": now})

    def received_since(self, tenant_id: str, since: str) -> list[dict[str, Any]]:
        rows = self.database.connection().execute(
            "SELECT doc FROM scans WHERE tenant_id = ? AND received_at >= ? ORDER BY scan_id",
            (tenant_id, since),
        )
        return [loads(doc) for (doc,) in rows]

    def of_pipeline(
        self, tenant_id: str, pipeline_key: str, limit: int, after: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        if not keys.owns(tenant_id, pipeline_key):
            return [], None
        sql = "SELECT doc FROM scans WHERE pipeline_key = ? AND tenant_id = ?"
        params: tuple[Any, ...] = (pipeline_key, tenant_id)
        if after:
            sql += " AND (received_at, scan_id) < (?, ?)"
            params += keys.scan_position(after)
        sql += " ORDER BY received_at DESC, scan_id DESC LIMIT ?"
        rows = self.database.connection().execute(sql, (*params, limit + 1)).fetchall()
        listed = [loads(doc) for (doc,) in rows[:limit]]
        more = len(rows) > limit and bool(listed)
        return listed, keys.scan_cursor(listed[-1]) if more else None


def _read(conn: sqlite3.Connection, tenant_id: str, scan_id: str) -> dict[str, Any] | None:
    row = conn.execute(
        "SELECT doc FROM scans WHERE tenant_id = ? AND scan_id = ?", (tenant_id, scan_id)
    ).fetchone()
    return loads(row[0]) if row else None


def _write(conn: sqlite3.Connection, scan: dict[str, Any]) -> None:
    conn.execute(
        "UPDATE scans SET status = ?, doc = ? WHERE tenant_id = ? AND scan_id = ?",
        (scan.get("status"), dumps(scan), scan["tenant_id"], scan["scan_id"]),
    )

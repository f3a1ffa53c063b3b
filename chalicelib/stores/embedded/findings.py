"""Findings on SQLite: the `findings` table, keyed by (tenant, finding id), grouped by
artifact and pipeline key."""

from __future__ import annotations

from typing import Any

from chalicelib.stores import keys
from chalicelib.stores.embedded.database import Database
from chalicelib.stores.embedded.rows import dumps, loads

_CHUNK = 500  # ids per `IN (...)`, well under SQLite's variable limit


class SqliteFindings:
    """`FindingStore` on the embedded database."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def put_many(self, tenant_id: str, findings: list[dict[str, Any]]) -> None:
        if any(f.get("tenant_id") != tenant_id for f in findings):
            raise ValueError(f"every finding written for {tenant_id!r} must be its own")
        rows = [
            (tenant_id, f["finding_id"], f.get("artifact_key"), f.get("pipeline_key"), dumps(f))
            for f in findings
        ]
        with self.database.write() as conn:
            conn.executemany(
                "INSERT INTO findings (tenant_id, finding_id, artifact_key, pipeline_key, doc)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant_id, finding_id) DO UPDATE SET"
                " artifact_key = excluded.artifact_key, pipeline_key = excluded.pipeline_key,"
                " doc = excluded.doc",
                rows,
            )

    def get(self, tenant_id: str, finding_id: str) -> dict[str, Any] | None:
        row = (
            self.database.connection()
            .execute(
                "SELECT doc FROM findings WHERE tenant_id = ? AND finding_id = ?",
                (tenant_id, finding_id),
            )
            .fetchone()
        )
        return loads(row[0]) if row else None

    def get_many(self, tenant_id: str, finding_ids: list[str]) -> dict[str, dict[str, Any]]:
        unique = sorted(set(finding_ids))
        found: dict[str, dict[str, Any]] = {}
        conn = self.database.connection()
        for start in range(0, len(unique), _CHUNK):
            chunk = unique[start : start + _CHUNK]
            rows = conn.execute(
                "SELECT finding_id, doc FROM findings WHERE tenant_id = ? AND finding_id IN"
                f" ({', '.join('?' * len(chunk))})",
                (tenant_id, *chunk),
            )
            found.update((fid, loads(doc)) for fid, doc in rows)
        return found

    def of_artifact(self, tenant_id: str, artifact_key: str) -> dict[str, dict[str, Any]]:
        found = self._grouped(tenant_id, "artifact_key", artifact_key)
        return {f["finding_id"]: f for f in found}

    def of_pipeline(self, tenant_id: str, pipeline_key: str) -> list[dict[str, Any]]:
        return self._grouped(tenant_id, "pipeline_key", pipeline_key)

    def _grouped(self, tenant_id: str, column: str, key: str) -> list[dict[str, Any]]:
        if not keys.owns(tenant_id, key):
            return []
        rows = self.database.connection().execute(
            f"SELECT doc FROM findings WHERE {column} = ? AND tenant_id = ? ORDER BY finding_id",
            (key, tenant_id),
        )
        return [loads(doc) for (doc,) in rows]

    def page(
        self, tenant_id: str, limit: int, after: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        rows = (
            self.database.connection()
            .execute(
                "SELECT doc FROM findings WHERE tenant_id = ? AND finding_id > ?"
                " ORDER BY finding_id LIMIT ?",
                (tenant_id, after or "", limit + 1),
            )
            .fetchall()
        )
        listed = [loads(doc) for (doc,) in rows[:limit]]
        more = len(rows) > limit and bool(listed)
        return listed, listed[-1]["finding_id"] if more else None

    def tenants(self) -> list[str]:
        rows = self.database.connection().execute(
            "SELECT DISTINCT tenant_id FROM findings ORDER BY tenant_id"
        )
        return [tenant_id for (tenant_id,) in rows]

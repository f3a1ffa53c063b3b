"""Trend counters on SQLite: `trend_days` (one row per tenant, day, pipeline, severity and
counter), `trend_fixes` (one per fix) and `trend_applied` (the version each finding's counts
hold). A batch of updates is one transaction: the held versions move with the increments."""

from __future__ import annotations

import sqlite3

from chalicelib.stores.embedded.database import Database
from chalicelib.stores.ports import TrendDay
from chalicelib.trend_counts import Changes, Update, changes


class SqliteTrends:
    """`TrendStore` on the embedded database."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def apply(self, tenant_id: str, updates: list[Update]) -> int:
        _check_own(tenant_id, updates)
        counted = 0
        with self.database.write() as conn:
            for update in updates:
                row = conn.execute(
                    "SELECT version FROM trend_applied WHERE tenant_id = ? AND finding_id = ?",
                    (tenant_id, update.finding_id),
                ).fetchone()
                held = int(row[0]) if row else -1
                if update.version <= held:
                    continue
                _write(conn, tenant_id, changes(update, held))
                conn.execute(
                    "INSERT INTO trend_applied (tenant_id, finding_id, version) VALUES (?, ?, ?)"
                    " ON CONFLICT (tenant_id, finding_id) DO UPDATE SET version = excluded.version",
                    (tenant_id, update.finding_id, update.version),
                )
                counted += 1
        return counted

    def replace(self, tenant_id: str, updates: list[Update]) -> None:
        _check_own(tenant_id, updates)
        total = Changes()
        for update in updates:
            total.merge(changes(update, -1))
        with self.database.write() as conn:
            for table in ("trend_days", "trend_fixes", "trend_applied"):
                conn.execute(f"DELETE FROM {table} WHERE tenant_id = ?", (tenant_id,))
            _write(conn, tenant_id, total)
            conn.executemany(
                "INSERT INTO trend_applied (tenant_id, finding_id, version) VALUES (?, ?, ?)",
                [(tenant_id, u.finding_id, u.version) for u in updates],
            )

    def days(
        self, tenant_id: str, first: str, last: str, pipeline: str | None = None
    ) -> list[TrendDay]:
        rows = self.database.connection().execute(
            "SELECT day, pipeline, field, severity, amount FROM trend_days"
            " WHERE tenant_id = ? AND day BETWEEN ? AND ? AND (? IS NULL OR pipeline = ?)"
            " ORDER BY day, pipeline",
            (tenant_id, first, last, pipeline, pipeline),
        )
        found: dict[tuple[str, str], dict[str, dict[str, int]]] = {}
        for day, name, field, severity, amount in rows:
            found.setdefault((day, name), {}).setdefault(field, {})[severity] = int(amount)
        return [TrendDay(day, name, counts) for (day, name), counts in found.items()]

    def open_before(self, tenant_id: str, day: str, pipeline: str | None = None) -> dict[str, int]:
        rows = self.database.connection().execute(
            "SELECT severity, sum(amount) FROM trend_days WHERE tenant_id = ? AND day < ?"
            " AND field = 'open' AND (? IS NULL OR pipeline = ?) GROUP BY severity",
            (tenant_id, day, pipeline, pipeline),
        )
        return {severity: int(total) for severity, total in rows if total}

    def fixes(
        self, tenant_id: str, first: str, last: str, pipeline: str | None = None
    ) -> list[tuple[str, float]]:
        rows = self.database.connection().execute(
            "SELECT severity, seconds FROM trend_fixes WHERE tenant_id = ?"
            " AND day BETWEEN ? AND ? AND (? IS NULL OR pipeline = ?)",
            (tenant_id, first, last, pipeline, pipeline),
        )
        return [(severity, float(seconds)) for severity, seconds in rows]


def _check_own(tenant_id: str, updates: list[Update]) -> None:
    if any(u.tenant_id != tenant_id for u in updates):
        raise ValueError(f"every trend update applied for {tenant_id!r} must be its own")


def _write(conn: sqlite3.Connection, tenant_id: str, found: Changes) -> None:
    conn.executemany(
        "INSERT INTO trend_days (tenant_id, day, pipeline, severity, field, amount)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, day, pipeline, severity, field)"
        " DO UPDATE SET amount = amount + excluded.amount",
        [
            (tenant_id, day, pipeline, severity, field, amount)
            for (day, pipeline, severity, field), amount in found.counts.items()
            if amount
        ],
    )
    conn.executemany(
        "INSERT OR IGNORE INTO trend_fixes"
        " (tenant_id, finding_id, version, day, pipeline, severity, seconds)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (tenant_id, f.finding_id, f.version, f.day, f.pipeline, f.severity, f.seconds)
            for f in found.fixes
        ],
    )

"""Alerts on the embedded backend: a durable outbox in the database (`alert_outbox`).

An alert is stored once per `alert_id` (a retried evaluation stores nothing new) in the write
that publishes it, and stays there: delivered ones keep their `delivered_at`, so an operator
reads every alert with `python -m chalicelib.ops --local alerts`. `alert_webhook.deliver_due`
posts the pending ones to the operator's webhook and records each outcome here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chalicelib.stores.embedded.database import Database
from chalicelib.stores.ports import Alert


@dataclass(frozen=True)
class StoredAlert:
    """An alert in the outbox with its delivery state."""

    seq: int
    alert: Alert
    created_at: str
    attempts: int
    delivered_at: str | None
    last_error: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "alert_id": self.alert.alert_id,
            "tenant_id": self.alert.tenant_id,
            "subject": self.alert.subject,
            "message": json.loads(self.alert.message),
            "attributes": self.alert.attributes,
            "created_at": self.created_at,
            "attempts": self.attempts,
            "delivered_at": self.delivered_at,
            "last_error": self.last_error,
        }


_COLUMNS = (
    "seq, alert_id, tenant_id, subject, message, attributes, created_at, attempts,"
    " delivered_at, last_error"
)


def _stored(row: tuple[Any, ...]) -> StoredAlert:
    seq, alert_id, tenant_id, subject, message, attributes, created, attempts, done, error = row
    alert = Alert(alert_id, tenant_id, subject, message, json.loads(attributes))
    return StoredAlert(seq, alert, created, attempts, done, error)


class SqliteAlertOutbox:
    """`AlertSink` on the embedded database, with what delivery and operators need."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def publish(self, alerts: list[Alert]) -> None:
        now = datetime.now(UTC).isoformat(timespec="milliseconds")
        with self.database.write() as conn:
            conn.executemany(
                "INSERT INTO alert_outbox (alert_id, tenant_id, created_at, subject, message,"
                " attributes) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (alert_id) DO NOTHING",
                [
                    (a.alert_id, a.tenant_id, now, a.subject, a.message, json.dumps(a.attributes))
                    for a in alerts
                ],
            )

    def due(self, now: float, limit: int) -> list[StoredAlert]:
        """Up to `limit` undelivered alerts whose next attempt is due at `now` (epoch s),
        oldest first."""
        rows = self.database.connection().execute(
            f"SELECT {_COLUMNS} FROM alert_outbox WHERE delivered_at IS NULL"
            " AND next_attempt <= ? ORDER BY seq LIMIT ?",
            (now, limit),
        )
        return [_stored(row) for row in rows]

    def delivered(self, seq: int, at: str) -> None:
        with self.database.write() as conn:
            conn.execute(
                "UPDATE alert_outbox SET delivered_at = ?, attempts = attempts + 1,"
                " last_error = NULL WHERE seq = ?",
                (at, seq),
            )

    def failed(self, seq: int, error: str, next_attempt: float) -> None:
        with self.database.write() as conn:
            conn.execute(
                "UPDATE alert_outbox SET attempts = attempts + 1, last_error = ?,"
                " next_attempt = ? WHERE seq = ?",
                (error[:500], next_attempt, seq),
            )

    def recent(self, limit: int, pending_only: bool = False) -> list[StoredAlert]:
        """The newest `limit` alerts (only undelivered ones with `pending_only`), newest first."""
        where = " WHERE delivered_at IS NULL" if pending_only else ""
        rows = self.database.connection().execute(
            f"SELECT {_COLUMNS} FROM alert_outbox{where} ORDER BY seq DESC LIMIT ?", (limit,)
        )
        return [_stored(row) for row in rows]

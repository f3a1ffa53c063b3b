"""The stream consumers' dead letters on the embedded database (`dead_letters`)."""

from __future__ import annotations

import json
import time
from typing import Any

from chalicelib.stores.embedded.database import Database
from chalicelib.stores.ports import DeadLetter


class SqliteDeadLetters:
    """`DeadLetterQueue` on SQLite: a received message is hidden until `visible_at`."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def put(self, body: dict[str, Any]) -> None:
        context = body.get("requestContext") or {}
        now = time.time()
        with self.database.write() as conn:
            conn.execute(
                "INSERT INTO dead_letters (source, condition, attempts, at, visible_at, body)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    str(body.get("source") or ""),
                    str(context.get("condition") or ""),
                    int(context.get("approximateInvokeCount") or 0),
                    now,
                    now,
                    json.dumps(body, separators=(",", ":")),
                ),
            )

    def receive(self, limit: int, hide_seconds: int = 120) -> list[DeadLetter]:
        now = time.time()
        with self.database.write() as conn:
            rows = conn.execute(
                "SELECT letter_id, body FROM dead_letters WHERE visible_at <= ?"
                " ORDER BY letter_id LIMIT ?",
                (now, limit),
            ).fetchall()
            conn.executemany(
                "UPDATE dead_letters SET visible_at = ? WHERE letter_id = ?",
                [(now + hide_seconds, letter_id) for letter_id, _ in rows],
            )
        return [DeadLetter(str(i), str(i), json.loads(body)) for i, body in rows]

    def delete(self, handle: str) -> None:
        with self.database.write() as conn:
            conn.execute("DELETE FROM dead_letters WHERE letter_id = ?", (int(handle),))

"""The account-scan job queue on SQLite: rows of the `jobs` table, the queue's and its
dead-letter queue's told apart by `queue`.

A receive is one write transaction: it first moves the visible jobs that were received
`account_scan_attempts` times to the dead-letter queue, then hides the oldest visible ones
for the visibility timeout, counts the receive and gives each a new receipt. A receiver that
dies leaves its jobs to come back when that timeout ends; a stale receipt changes nothing.
Time is the wall clock in epoch milliseconds, so processes on one machine agree on it. An
empty queue is seen with one indexed read, without taking the write lock.
"""

from __future__ import annotations

import secrets
import sqlite3
import time
import uuid

from chalicelib.config import settings
from chalicelib.stores.embedded.database import Database
from chalicelib.stores.ports import Job, check_job_size

VISIBILITY_TIMEOUT = 960
"""Seconds a received job stays invisible unless the receiver says otherwise (as deployed:
the worker's 900 s limit and a margin)."""
DEAD_LETTER_SUFFIX = "-dead-letters"

_COLUMNS = "seq, job_id, tenant_id, body, receive_count, sent_at, first_received_at"


def now_ms() -> int:
    return int(time.time() * 1000)


class SqliteJobs:
    """`JobQueue` on the embedded database."""

    def __init__(self, database: Database, queue: str | None = None) -> None:
        self.database = database
        self.queue = queue or settings().account_scan_queue
        self.dead_letters = self.queue + DEAD_LETTER_SUFFIX

    def send(self, tenant_id: str, body: str) -> str:
        check_job_size(body)
        job_id = str(uuid.uuid4())
        at = now_ms()
        with self.database.write() as conn:
            conn.execute(
                "INSERT INTO jobs (job_id, queue, tenant_id, body, sent_at, visible_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (job_id, self.queue, tenant_id, body, at, at),
            )
        return job_id

    def receive(self, limit: int = 1, visibility_timeout: int | None = None) -> list[Job]:
        hidden = VISIBILITY_TIMEOUT if visibility_timeout is None else visibility_timeout
        return self._receive(self.queue, limit, hidden, settings().account_scan_attempts)

    def dead(self, limit: int = 10, visibility_timeout: int = 120) -> list[Job]:
        return self._receive(self.dead_letters, limit, visibility_timeout, None)

    def retry_after(self, job: Job, seconds: int) -> None:
        with self.database.write() as conn:
            conn.execute(
                "UPDATE jobs SET visible_at = ? WHERE job_id = ? AND receipt = ?",
                (now_ms() + max(0, seconds) * 1000, job.job_id, job.receipt),
            )

    def delete(self, job: Job) -> None:
        with self.database.write() as conn:
            conn.execute(
                "DELETE FROM jobs WHERE job_id = ? AND receipt = ?", (job.job_id, job.receipt)
            )

    def dead_letter_queue(self) -> str:
        return f"sqlite:{self.database.path}#{self.dead_letters}"

    def visible(self, queue: str | None = None) -> bool:
        """Whether a job of the queue can be received now (one indexed read, no lock)."""
        row = (
            self.database.connection()
            .execute(
                "SELECT 1 FROM jobs WHERE queue = ? AND visible_at <= ? LIMIT 1",
                (queue or self.queue, now_ms()),
            )
            .fetchone()
        )
        return row is not None

    def _receive(self, queue: str, limit: int, hidden: int, max_receives: int | None) -> list[Job]:
        if not self.visible(queue):
            return []
        at = now_ms()
        with self.database.write() as conn:
            if max_receives is not None:
                self._dead_letter(conn, at, max_receives)
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM jobs WHERE queue = ? AND visible_at <= ?"
                " ORDER BY visible_at, seq LIMIT ?",
                (queue, at, max(1, min(10, limit))),
            ).fetchall()
            jobs = []
            for seq, job_id, tenant_id, body, count, sent_at, first in rows:
                receipt = f"{job_id}.{secrets.token_hex(8)}"
                conn.execute(
                    "UPDATE jobs SET receive_count = ?, visible_at = ?, receipt = ?,"
                    " first_received_at = ? WHERE seq = ?",
                    (count + 1, at + hidden * 1000, receipt, first or at, seq),
                )
                jobs.append(
                    Job(
                        job_id=job_id,
                        tenant_id=tenant_id,
                        body=body,
                        receive_count=count + 1,
                        sent_at=sent_at,
                        first_received_at=first or at,
                        receipt=receipt,
                        queue=queue,
                    )
                )
        return jobs

    def _dead_letter(self, conn: sqlite3.Connection, at: int, max_receives: int) -> None:
        """Move the visible jobs received `max_receives` times to the dead-letter queue."""
        conn.execute(
            "UPDATE jobs SET queue = ?, dead_lettered_at = ?, receipt = NULL, receive_count = 0"
            " WHERE queue = ? AND visible_at <= ? AND receive_count >= ?",
            (self.dead_letters, at, self.queue, at, max_receives),
        )

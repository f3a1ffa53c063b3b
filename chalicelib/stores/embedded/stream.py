"""The embedded scan stream and findings change log: append-only tables in shards, read in
order per shard from a consumer's durable checkpoint, trimmed once every consumer passed.

`stream_records` holds the scan stream (`SqliteScanStream.put`); `finding_changes` is written
by the `findings` table's triggers, in the transaction of each change. A record's shard comes
from its key (the partition key's MD5, as Kinesis hashes it; a finding's id), so one key's
records stay in one shard, in order. Sequence numbers come from one AUTOINCREMENT counter per
table: they only grow (never reused after a trim), so they increase within every shard.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from dataclasses import dataclass
from typing import Any

from chalicelib.stores.embedded.database import Database
from chalicelib.stores.ports import StreamUnavailable

SCANS, FINDINGS = "scans", "findings"
TRIM_BATCH = 1000  # rows deleted per checkpoint at most: a long backlog is trimmed over time


@dataclass(frozen=True)
class _Table:
    name: str
    columns: str


_TABLES = {
    SCANS: _Table("stream_records", "sequence, partition_key, arrived_at, data"),
    FINDINGS: _Table(
        "finding_changes", "sequence, event_name, tenant_id, finding_id, new_image, changed_at"
    ),
}


def shard_of(partition_key: str, shards: int) -> int:
    """The shard of a partition key: stable across processes and releases."""
    digest = hashlib.md5(partition_key.encode(), usedforsecurity=False).digest()
    return int.from_bytes(digest[:8], "big") % shards


def set_shards(database: Database, shards: int) -> None:
    """Give both streams `shards` shards (`PIPEGUARD_STREAM_SHARDS`). Records already stored
    keep theirs: change the count while the consumers have caught up, or one key's records
    may be split between an old and a new shard."""
    if shards < 1:
        raise ValueError(f"PIPEGUARD_STREAM_SHARDS must be at least 1, not {shards}")
    if _shard_counts(database.connection()) == {SCANS: shards, FINDINGS: shards}:
        return
    with database.write() as conn:
        conn.execute("UPDATE stream_shards SET shards = ? WHERE shards != ?", (shards, shards))


def _shard_counts(conn: sqlite3.Connection) -> dict[str, int]:
    return dict(conn.execute("SELECT stream, shards FROM stream_shards").fetchall())


class SqliteScanStream:
    """`ScanStream` on the embedded database: one transaction per `put`; the first gives the
    file `shards` shards."""

    def __init__(self, database: Database, shards: int) -> None:
        self.database = database
        self.shards = shards
        self._configured = False

    def put(self, records: list[tuple[str, bytes]]) -> None:
        try:
            if not self._configured:
                set_shards(self.database, self.shards)
                self._configured = True
            now = time.time()
            with self.database.write() as conn:
                shards = _shard_counts(conn)[SCANS]  # as stored: the file's writers agree
                rows = [(shard_of(key, shards), key, now, data) for key, data in records]
                conn.executemany(
                    "INSERT INTO stream_records (shard, partition_key, arrived_at, data)"
                    " VALUES (?, ?, ?, ?)",
                    rows,
                )
        except sqlite3.Error as exc:
            raise StreamUnavailable(f"the scan stream refused the records: {exc}") from exc


class StreamLog:
    """One stream's shards as its consumers read them: rows after a sequence number, the
    consumer's checkpoint, and the trim behind the slowest consumer."""

    def __init__(self, database: Database, stream: str) -> None:
        self.database = database
        self.stream = stream
        self.table = _TABLES[stream]

    def shards(self) -> list[int]:
        """The configured shards, and any older shard that still holds records."""
        conn = self.database.connection()
        count = _shard_counts(conn)[self.stream]
        found, beyond = list(range(count)), count
        while True:  # one index lookup per older shard, however many rows it holds
            row = conn.execute(
                f"SELECT shard FROM {self.table.name} WHERE shard >= ? ORDER BY shard LIMIT 1",
                (beyond,),
            ).fetchone()
            if row is None:
                return found
            found.append(int(row[0]))
            beyond = int(row[0]) + 1

    def read(self, shard: int, after: int, limit: int) -> list[tuple[Any, ...]]:
        """Up to `limit` rows of the shard after sequence number `after`, in order (one
        indexed query: what an idle poll costs)."""
        return (
            self.database.connection()
            .execute(
                f"SELECT {self.table.columns} FROM {self.table.name}"
                " WHERE shard = ? AND sequence > ? ORDER BY sequence LIMIT ?",
                (shard, after, limit),
            )
            .fetchall()
        )

    def position(self, consumer: str, shard: int) -> int:
        """The consumer's checkpoint on the shard; registers the consumer there at 0 (before
        every record) on first use, so nothing is trimmed before it has read it."""
        conn = self.database.connection()
        row = conn.execute(
            "SELECT sequence FROM stream_checkpoints WHERE stream = ? AND shard = ?"
            " AND consumer = ?",
            (self.stream, shard, consumer),
        ).fetchone()
        if row is not None:
            return int(row[0])
        with self.database.write() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO stream_checkpoints (stream, consumer, shard, sequence)"
                " VALUES (?, ?, ?, 0)",
                (self.stream, consumer, shard),
            )
        return self.position(consumer, shard)

    def checkpoint(self, consumer: str, shard: int, sequence: int) -> int:
        """Move the consumer's checkpoint on the shard forward to `sequence` and delete up to
        `TRIM_BATCH` rows that every consumer of the stream has passed, in one transaction;
        returns how many rows were deleted."""
        with self.database.write() as conn:
            conn.execute(
                "INSERT INTO stream_checkpoints (stream, consumer, shard, sequence)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (stream, shard, consumer) DO UPDATE SET"
                " sequence = max(sequence, excluded.sequence)",
                (self.stream, consumer, shard, sequence),
            )
            return conn.execute(
                f"DELETE FROM {self.table.name} WHERE sequence IN (SELECT sequence FROM"
                f" {self.table.name} WHERE shard = ? AND sequence <= (SELECT min(sequence)"
                " FROM stream_checkpoints WHERE stream = ? AND shard = ?)"
                " ORDER BY sequence LIMIT ?)",
                (shard, self.stream, shard, TRIM_BATCH),
            ).rowcount

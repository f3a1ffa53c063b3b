"""The embedded backend's event sources: the scan stream and the findings change log of the
SQLite database, fed to the same handlers with the runner's Lambda semantics.

A shard's iterator is `<shard>:<sequence>` (the last row read); a source starts each shard
after its consumer's durable checkpoint, which moves only past records the handler finished
(or that were dead-lettered, into the database's `dead_letters`). A process killed between a
batch and its checkpoint delivers that batch again when it starts: at least once, never a
skipped record. A batch's writes (the handler's, its dead letters, its checkpoint) are one
transaction. The writer may be another process on the same file (WAL: each poll reads what
was committed). `shards` restricts a process to some shards, so that several share a stream.
"""

from __future__ import annotations

import json
from typing import Any

from chalicelib.config import settings
from chalicelib.local.runner import (
    DynamoDBStreamSource,
    KinesisSource,
    ShardedSource,
    SourceOptions,
    _Shard,
)
from chalicelib.stores import dynamo
from chalicelib.stores.embedded.database import Database
from chalicelib.stores.embedded.dead_letters import SqliteDeadLetters
from chalicelib.stores.embedded.stream import FINDINGS, SCANS, StreamLog, set_shards

READ_LIMIT = 1000  # rows fetched per shard read


def _shard_id(shard: int) -> str:
    return f"shard-{shard:04d}"


def _shard_number(shard_id: str) -> int:
    return int(shard_id.rsplit("-", 1)[1])


class _SqliteShards:
    """The SQLite part of a source: shards, reads, checkpoints and dead letters."""

    name: str
    log: StreamLog
    only: set[int] | None
    dead_letters: SqliteDeadLetters

    def poll_shard(self, shard: _Shard) -> int:
        """One batch of the shard, its writes and its checkpoint committed together: a batch
        costs one transaction, and one cut short keeps nothing (its records come again)."""
        try:
            with self.log.database.grouped():
                return super().poll_shard(shard)  # type: ignore[misc]
        except Exception:
            shard.buffer.clear()  # nothing of it was kept: read again from the checkpoint
            shard.iterator, shard.closed = self._iterator(shard.shard_id), False
            raise

    def _list_shards(self) -> list[str]:
        return [_shard_id(n) for n in self.log.shards() if self.only is None or n in self.only]

    def _iterator(self, shard_id: str) -> str:
        shard = _shard_number(shard_id)
        return f"{shard}:{self.log.position(self.name, shard)}"

    def _get_records(self, iterator: str) -> tuple[list[dict], str | None]:
        shard, after = (int(part) for part in iterator.split(":"))
        rows = self.log.read(shard, after, READ_LIMIT)
        last = rows[-1][0] if rows else after
        return [self._record(_shard_id(shard), row) for row in rows], f"{shard}:{last}"

    def _record(self, shard_id: str, row: tuple[Any, ...]) -> dict:
        raise NotImplementedError

    def _checkpoint(self, shard: _Shard, record: dict) -> None:
        sequence = self._sequence(record)  # type: ignore[attr-defined]
        self.log.checkpoint(self.name, _shard_number(shard.shard_id), int(sequence))

    def _send_dead_letter(self, message: dict) -> None:
        self.dead_letters.put(message)


class SqliteScanSource(_SqliteShards, KinesisSource):
    """The scan stream (`stream_records`) in Kinesis event shapes."""

    def __init__(self, database: Database, only: set[int] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.log = StreamLog(database, SCANS)
        self.only = only
        self.dead_letters = SqliteDeadLetters(database)

    def _record(self, shard_id: str, row: tuple[Any, ...]) -> dict:
        sequence, partition_key, arrived_at, data = row
        return {
            "SequenceNumber": str(sequence),
            "PartitionKey": partition_key,
            "Data": bytes(data),
            "ApproximateArrivalTimestamp": float(arrived_at),
        }


class SqliteChangeSource(_SqliteShards, DynamoDBStreamSource):
    """The findings change log (`finding_changes`) in DynamoDB stream event shapes, with the
    keys and the new image as typed attribute values (stream view `NEW_IMAGE`)."""

    def __init__(
        self, database: Database, only: set[int] | None = None, region: str = "", **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.log = StreamLog(database, FINDINGS)
        self.only = only
        self.region = region or settings().region
        self.dead_letters = SqliteDeadLetters(database)

    def _record(self, shard_id: str, row: tuple[Any, ...]) -> dict:
        sequence, event_name, tenant_id, finding_id, new_image, changed_at = row
        change: dict[str, Any] = {
            "ApproximateCreationDateTime": float(changed_at),
            "Keys": dynamo.serialize({"tenant_id": tenant_id, "finding_id": finding_id}),
            "SequenceNumber": str(sequence),
            "SizeBytes": len(new_image or "") + len(tenant_id) + len(finding_id),
            "StreamViewType": "NEW_IMAGE",
        }
        if new_image is not None:
            change["NewImage"] = dynamo.serialize(json.loads(new_image))
        return {
            "eventID": f"{shard_id}:{sequence}",
            "eventName": event_name,
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": self.region,
            "dynamodb": change,
        }


def stream_sources(app_module: Any, shards: set[int] | None = None) -> list[ShardedSource]:
    """The evaluate source (scan stream, batches of 50, 3 retries) and the index source
    (findings change log, batches of 200, 5 retries) of the configured embedded database,
    only on `shards` when given (every shard of both streams otherwise)."""
    from chalice.local import LambdaContext

    from chalicelib.stores.backend import stores
    from chalicelib.stores.embedded.stream import SqliteScanStream

    config = settings()
    stream = stores().stream
    if not isinstance(stream, SqliteScanStream):
        raise ValueError("the SQLite event sources need PIPEGUARD_BACKEND=embedded")
    set_shards(stream.database, config.stream_shards)

    def context(name: str) -> Any:
        return lambda: LambdaContext(f"pipeguard-local-{name}", 512, max_runtime_ms=60_000)

    evaluate = SqliteScanSource(
        stream.database,
        shards,
        stream_name=config.scan_stream,
        region=config.region,
        name="evaluate_artifacts",
        arn=f"arn:aws:kinesis:{config.region}:000000000000:stream/{config.scan_stream}",
        handler=app_module.evaluate_artifacts,
        options=SourceOptions(batch_size=50, max_retries=3),
        dead_letter_queue_url=None,
        context_factory=context("evaluate_artifacts"),
    )
    index = SqliteChangeSource(
        stream.database,
        shards,
        region=config.region,
        name="index_findings",
        arn=app_module.FINDINGS_STREAM_ARN,
        handler=app_module.index_findings,
        options=SourceOptions(batch_size=200, max_retries=5),
        dead_letter_queue_url=None,
        context_factory=context("index_findings"),
    )
    return [evaluate, index]

"""Local event-source runner: feeds Kinesis shards, DynamoDB streams and SQS queues to the
app's handlers.

It keeps Lambda's event-source semantics, per shard and in order:
- batches of at most `batch_size` records, converted to Lambda's event shapes;
- the checkpoint advances only past records the handler processed;
- `batchItemFailures`: the batch is retried from the lowest failed sequence number;
- a handler error bisects the batch (halves it) before retrying, down to single records;
- records older than `max_record_age` are dead-lettered without being processed;
- after `max_retries` failed attempts the failing record (or, for a handler error without
  bisection, the whole batch) goes to the dead-letter queue (SQS) with Lambda-like failure
  metadata plus the record itself, and the shard moves on.
Sources whose checkpoints and dead letters are durable (`sqlite_streams`) store them through
the `_checkpoint` and `_send_dead_letter` hooks.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalicelib.stores.clients import client

log = logging.getLogger(__name__)

Handler = Callable[[dict, Any], Any]


@dataclass
class SourceOptions:
    batch_size: int = 100
    max_retries: int = 3
    bisect_on_error: bool = True
    retry_delay: float = 0.05
    max_retry_delay: float = 2.0
    max_record_age: float | None = 3600.0


@dataclass
class _Shard:
    shard_id: str
    iterator: str | None
    buffer: deque = field(default_factory=deque)
    attempts: int = 0
    cap: int = 0
    not_before: float = 0.0
    closed: bool = False


@dataclass
class SourceStats:
    invocations: int = 0
    processed: int = 0
    retries: int = 0
    dead_lettered: int = 0


class ShardedSource:
    """One event source (a stream with shards) bound to one handler."""

    def __init__(
        self,
        name: str,
        arn: str,
        handler: Handler,
        options: SourceOptions,
        dead_letter_queue_url: str | None,
        context_factory: Callable[[], Any],
    ) -> None:
        self.name = name
        self.arn = arn
        self.handler = handler
        self.options = options
        self.dead_letter_queue_url = dead_letter_queue_url
        self.context_factory = context_factory
        self.shards: dict[str, _Shard] = {}
        self.stats = SourceStats()
        self._stats_lock = threading.Lock()
        self._last_discovery = 0.0

    # Stream-specific parts -------------------------------------------------------------------
    def _list_shards(self) -> list[str]:
        raise NotImplementedError

    def _iterator(self, shard_id: str) -> str:
        raise NotImplementedError

    def _get_records(self, iterator: str) -> tuple[list[dict], str | None]:
        raise NotImplementedError

    def _event(self, shard_id: str, records: list[dict]) -> dict:
        raise NotImplementedError

    def _sequence(self, record: dict) -> str:
        raise NotImplementedError

    def _arrival(self, record: dict) -> float:
        """When the record reached the stream (epoch seconds)."""
        raise NotImplementedError

    # Generic Lambda semantics -----------------------------------------------------------------
    def discover(self, force: bool = False) -> None:
        """Start polling shards we have not seen yet (from the oldest record)."""
        now = time.monotonic()
        if not force and now - self._last_discovery < 2.0:
            return
        self._last_discovery = now
        for shard_id in self._list_shards():
            if shard_id not in self.shards:
                self.shards[shard_id] = _Shard(shard_id, self._iterator(shard_id))

    def poll(self) -> int:
        """One pass over every shard; returns how many records were checkpointed."""
        self.discover()
        return sum(self.poll_shard(shard) for shard in list(self.shards.values()))

    def pending(self) -> int:
        """Records fetched but not yet checkpointed."""
        return sum(len(s.buffer) for s in self.shards.values())

    def _count(self, **increments: int) -> None:
        with self._stats_lock:  # shards are polled from threads of their own
            for name, n in increments.items():
                setattr(self.stats, name, getattr(self.stats, name) + n)

    def poll_shard(self, shard: _Shard) -> int:
        """One batch (or retry) of one shard; returns how many records were checkpointed."""
        if time.monotonic() < shard.not_before:
            return 0
        if not shard.buffer and shard.iterator and not shard.closed:
            records, shard.iterator = self._get_records(shard.iterator)
            shard.buffer.extend(records)
            if shard.iterator is None:
                shard.closed = True
        expired = self._expire(shard)
        if not shard.buffer:
            return expired
        size = min(shard.cap or self.options.batch_size, self.options.batch_size)
        batch = [shard.buffer[i] for i in range(min(size, len(shard.buffer)))]
        failed_at = self._invoke(shard, batch)
        done = len(batch) if failed_at is None else max(failed_at, 0)
        for _ in range(done):
            shard.buffer.popleft()
        if done:
            self._checkpoint(shard, batch[done - 1])
        self._count(processed=done)
        if failed_at is None:
            shard.attempts, shard.cap = 0, 0
            return done
        if done:
            shard.attempts = 0
        if failed_at < 0 and self.options.bisect_on_error and len(batch) > 1:
            shard.cap = max(1, len(batch) // 2)
            return done
        shard.attempts += 1
        self._count(retries=1)
        if shard.attempts > self.options.max_retries:
            # A reported failure names its record; a handler error condemns the whole batch.
            count = len(batch) if failed_at < 0 else 1
            for _ in range(count):
                given_up = shard.buffer.popleft()
                self._dead_letter(shard, given_up, shard.attempts)
            self._checkpoint(shard, given_up)
            shard.attempts, shard.cap = 0, 0
            return done + count
        delay = self.options.retry_delay * 2 ** (shard.attempts - 1)
        shard.not_before = time.monotonic() + min(delay, self.options.max_retry_delay)
        return done

    def _expire(self, shard: _Shard) -> int:
        """Records older than `max_record_age` go to the dead-letter queue unprocessed."""
        limit = self.options.max_record_age
        if limit is None:
            return 0
        expired = 0
        now = time.time()
        while shard.buffer and now - self._arrival(shard.buffer[0]) > limit:
            given_up = shard.buffer.popleft()
            self._dead_letter(shard, given_up, shard.attempts, "RecordAgeExceeded")
            shard.attempts, shard.cap = 0, 0
            expired += 1
        if expired:
            self._checkpoint(shard, given_up)
        return expired

    def _invoke(self, shard: _Shard, batch: list[dict]) -> int | None:
        """Index of the first record to retry; None if all succeeded; -1 on a handler error."""
        self._count(invocations=1)
        try:
            response = self.handler(self._event(shard.shard_id, batch), self.context_factory())
        except Exception:
            log.exception("%s handler raised on a batch of %d", self.name, len(batch))
            return -1
        failures = (response or {}).get("batchItemFailures") or []
        if not failures:
            return None
        positions = {self._sequence(r): i for i, r in enumerate(batch)}
        indices = [positions.get(f.get("itemIdentifier")) for f in failures]
        if any(i is None for i in indices):
            return 0  # an unknown identifier fails the whole batch, as in Lambda
        return min(i for i in indices if i is not None)

    def _dead_letter(
        self,
        shard: _Shard,
        record: dict,
        attempts: int,
        condition: str = "RetryAttemptsExhausted",
    ) -> None:
        self._count(dead_lettered=1)
        sequence = self._sequence(record)
        log.error("%s: record %s sent to the dead-letter queue", self.name, sequence)
        message = {
            "requestContext": {"condition": condition, "approximateInvokeCount": attempts},
            "source": self.name,
            "eventSourceArn": self.arn,
            "shardId": shard.shard_id,
            "sequenceNumber": sequence,
            "record": self._event(shard.shard_id, [record])["Records"][0],
        }
        self._send_dead_letter(message)

    def _send_dead_letter(self, message: dict) -> None:
        """Keep a dead letter (SQS; a source with a durable store of its own overrides it)."""
        if not self.dead_letter_queue_url:
            return
        client("sqs").send_message(
            QueueUrl=self.dead_letter_queue_url, MessageBody=json.dumps(message)
        )

    def _checkpoint(self, shard: _Shard, record: dict) -> None:
        """The shard is done up to `record` (processed or dead-lettered). The stream's own
        iterator moved on already; a source with durable checkpoints stores it here."""


class KinesisSource(ShardedSource):
    """A Kinesis stream, as Lambda's Kinesis event source sees it."""

    def __init__(self, stream_name: str, region: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.stream_name = stream_name
        self.region = region

    def _list_shards(self) -> list[str]:
        shards = client("kinesis").list_shards(StreamName=self.stream_name)["Shards"]
        return [s["ShardId"] for s in shards]

    def _iterator(self, shard_id: str) -> str:
        return client("kinesis").get_shard_iterator(
            StreamName=self.stream_name, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]

    def _get_records(self, iterator: str) -> tuple[list[dict], str | None]:
        response = client("kinesis").get_records(ShardIterator=iterator, Limit=1000)
        return response["Records"], response.get("NextShardIterator")

    def _sequence(self, record: dict) -> str:
        return record["SequenceNumber"]

    def _arrival(self, record: dict) -> float:
        return _epoch(record["ApproximateArrivalTimestamp"])

    def _event(self, shard_id: str, records: list[dict]) -> dict:
        return {
            "Records": [
                {
                    "kinesis": {
                        "kinesisSchemaVersion": "1.0",
                        "partitionKey": r["PartitionKey"],
                        "sequenceNumber": r["SequenceNumber"],
                        "data": base64.b64encode(r["Data"]).decode("ascii"),
                        "approximateArrivalTimestamp": _epoch(r["ApproximateArrivalTimestamp"]),
                    },
                    "eventSource": "aws:kinesis",
                    "eventVersion": "1.0",
                    "eventID": f"{shard_id}:{r['SequenceNumber']}",
                    "eventName": "aws:kinesis:record",
                    "invokeIdentityArn": "arn:aws:iam::000000000000:role/pipeguard-local",
                    "awsRegion": self.region,
                    "eventSourceARN": self.arn,
                }
                for r in records
            ]
        }


class DynamoDBStreamSource(ShardedSource):
    """A DynamoDB table stream, as Lambda's DynamoDB event source sees it."""

    def _list_shards(self) -> list[str]:
        description = client("dynamodbstreams").describe_stream(StreamArn=self.arn)
        return [s["ShardId"] for s in description["StreamDescription"]["Shards"]]

    def _iterator(self, shard_id: str) -> str:
        return client("dynamodbstreams").get_shard_iterator(
            StreamArn=self.arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]

    def _get_records(self, iterator: str) -> tuple[list[dict], str | None]:
        response = client("dynamodbstreams").get_records(ShardIterator=iterator, Limit=1000)
        return response["Records"], response.get("NextShardIterator")

    def _sequence(self, record: dict) -> str:
        return record["dynamodb"]["SequenceNumber"]

    def _arrival(self, record: dict) -> float:
        return _epoch(record["dynamodb"].get("ApproximateCreationDateTime", time.time()))

    def _event(self, shard_id: str, records: list[dict]) -> dict:
        converted = []
        for r in records:
            dynamodb = dict(r["dynamodb"])
            dynamodb["ApproximateCreationDateTime"] = _epoch(
                dynamodb.get("ApproximateCreationDateTime", datetime.now())
            )
            converted.append({**r, "dynamodb": dynamodb, "eventSourceARN": self.arn})
        return {"Records": converted}


def _epoch(value: Any) -> float:
    return value.timestamp() if isinstance(value, datetime) else float(value)


@dataclass
class QueueOptions:
    batch_size: int = 1
    wait_seconds: int = 0
    """Long polling: how long one receive waits for a message."""
    retry_after: int = 2
    """After a failed invocation the batch is visible again after this many seconds (Lambda
    waits for the queue's visibility timeout; the embedded stack need not)."""


class QueueSource:
    """An SQS queue, as Lambda's SQS event source sees it: a batch of received messages per
    invocation; messages are deleted after the handler returned (except those it reports in
    `batchItemFailures`); after an error they are delivered again, and the queue's redrive
    policy moves a message that was received too often to its dead-letter queue."""

    def __init__(
        self,
        name: str,
        queue_url: str,
        handler: Handler,
        options: QueueOptions,
        context_factory: Callable[[], Any],
        region: str = "us-east-1",
    ) -> None:
        self.name = name
        self.queue_url = queue_url
        self.handler = handler
        self.options = options
        self.context_factory = context_factory
        self.region = region
        self.stats = SourceStats()
        self._arn: str | None = None

    def arn(self) -> str:
        if self._arn is None:
            self._arn = client("sqs").get_queue_attributes(
                QueueUrl=self.queue_url, AttributeNames=["QueueArn"]
            )["Attributes"]["QueueArn"]
        return self._arn

    def pending(self) -> int:
        """Messages received but not yet handled (none: each poll handles what it received)."""
        return 0

    def poll(self) -> int:
        """Receive one batch and invoke the handler; returns how many messages it received."""
        sqs = client("sqs")
        messages = sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.options.batch_size,
            WaitTimeSeconds=self.options.wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return 0
        self.stats.invocations += 1
        try:
            response = self.handler(self._event(messages), self.context_factory())
        except Exception:
            log.exception("%s handler raised on a batch of %d", self.name, len(messages))
            self.stats.retries += 1
            self._retry(messages)
            return len(messages)
        failed = {f.get("itemIdentifier") for f in (response or {}).get("batchItemFailures") or []}
        done = [m for m in messages if m["MessageId"] not in failed]
        self._retry([m for m in messages if m["MessageId"] in failed])
        if done:
            sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)
                ],
            )
        self.stats.processed += len(done)
        return len(messages)

    def _retry(self, messages: list[dict]) -> None:
        for message in messages:
            client("sqs").change_message_visibility(
                QueueUrl=self.queue_url,
                ReceiptHandle=message["ReceiptHandle"],
                VisibilityTimeout=self.options.retry_after,
            )

    def _event(self, messages: list[dict]) -> dict:
        return {
            "Records": [
                {
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": m.get("Attributes", {}),
                    "messageAttributes": m.get("MessageAttributes", {}),
                    "md5OfBody": m["MD5OfBody"],
                    "eventSource": "aws:sqs",
                    "eventSourceARN": self.arn(),
                    "awsRegion": self.region,
                }
                for m in messages
            ]
        }


class EventSourceRunner:
    """Polls every shard of every source in a background thread of its own until stopped.

    As with Lambda, shards are processed concurrently and each shard's records in order, one
    batch at a time; with `thread_per_shard=False` one thread per source polls its shards in
    turn (in one process more threads only contend for the GIL and the database's write lock;
    processes of their own are what adds cores). Like Lambda's pollers, a shard is polled again
    at once while records it fetched wait, `idle_sleep` after it caught up, and less and less
    often while it stays idle (up to `max_idle_sleep`). Each source looks for new shards every
    `discovery_interval` s.
    """

    def __init__(
        self,
        sources: list[ShardedSource],
        idle_sleep: float = 0.05,
        max_idle_sleep: float = 0.25,
        discovery_interval: float = 2.0,
        queues: list[QueueSource] | None = None,
        thread_per_shard: bool = True,
    ) -> None:
        self.sources = sources
        self.thread_per_shard = thread_per_shard
        self.queues = queues or []
        self.idle_sleep = idle_sleep
        self.max_idle_sleep = max_idle_sleep
        self.discovery_interval = discovery_interval
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for source in self.sources:
            source.discover(force=True)
            loop = self._discover_loop if self.thread_per_shard else self._source_loop
            self._spawn(loop, source, name=f"runner-{source.name}")
        for queue in self.queues:
            self._spawn(self._queue_loop, queue, name=f"runner-{queue.name}")

    def _queue_loop(self, queue: QueueSource) -> None:
        """Receive from the queue until stopped (its receives long-poll, so no sleep)."""
        while not self._stop.is_set():
            try:
                if not queue.poll() and not queue.options.wait_seconds:
                    self._stop.wait(self.idle_sleep)
            except Exception:
                log.exception("polling %s failed; retrying", queue.name)
                self._stop.wait(0.5)

    def _spawn(self, target: Callable[..., None], *args: Any, name: str) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _discover_loop(self, source: ShardedSource) -> None:
        started: set[str] = set()
        while not self._stop.is_set():
            for shard_id, shard in list(source.shards.items()):
                if shard_id not in started:
                    started.add(shard_id)
                    self._spawn(self._shard_loop, source, shard, name=f"runner-{shard_id}")
            if self._stop.wait(self.discovery_interval):
                return
            try:
                source.discover()
            except Exception:
                log.exception("listing the shards of %s failed; retrying", source.name)

    def _source_loop(self, source: ShardedSource) -> None:
        """Every shard of the source in turn, each paced as `_shard_loop` paces one."""
        sleeps: dict[str, float] = {}  # each shard's current idle sleep
        due: dict[str, float] = {}  # when each shard is polled next (monotonic)
        while not self._stop.is_set():
            try:
                source.discover()
            except Exception:
                log.exception("listing the shards of %s failed; retrying", source.name)
            for shard_id, shard in list(source.shards.items()):
                if (shard.closed and not shard.buffer) or time.monotonic() < due.get(shard_id, 0):
                    continue
                sleep = sleeps.get(shard_id, self.idle_sleep)
                pause = self._poll_once(source, shard, sleep)
                sleeps[shard_id] = max(pause, self.idle_sleep)
                due[shard_id] = time.monotonic() + pause
            open_shards = [i for i, s in source.shards.items() if not s.closed or s.buffer]
            next_due = min((due.get(i, 0.0) for i in open_shards), default=None)
            rest = self.max_idle_sleep if next_due is None else next_due - time.monotonic()
            if rest > 0:
                self._stop.wait(rest)

    def _poll_once(self, source: ShardedSource, shard: _Shard, sleep: float) -> float:
        """One batch of the shard; how long it should rest before its next one (0: none)."""
        try:
            moved = source.poll_shard(shard)
        except Exception:
            log.exception("polling %s %s failed; retrying", source.name, shard.shard_id)
            return 0.5
        if moved and shard.buffer:  # more records fetched: the next batch at once
            return 0.0
        if moved or shard.buffer:  # caught up, or records wait for a retry delay
            return self.idle_sleep
        return min(sleep * 2, self.max_idle_sleep)  # idle: less and less often

    def _shard_loop(self, source: ShardedSource, shard: _Shard) -> None:
        sleep = self.idle_sleep
        while not self._stop.is_set() and not (shard.closed and not shard.buffer):
            pause = self._poll_once(source, shard, sleep)
            sleep = max(pause, self.idle_sleep)
            if pause:
                self._stop.wait(pause)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)

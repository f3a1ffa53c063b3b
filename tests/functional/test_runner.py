"""The local event-source runner keeps Lambda's semantics (on moto's Kinesis and SQS)."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from chalicelib.local.runner import KinesisSource, SourceOptions
from chalicelib.stores.clients import client


class Recorder:
    """A handler that records what it processed and fails as told."""

    def __init__(self, fail: set[bytes] = frozenset(), report: bool = True, times: int = 99):
        self.fail = set(fail)
        self.report = report
        self.times = times
        self.processed: list[bytes] = []
        self.batches: list[int] = []
        self.calls = 0

    def __call__(self, event: dict, context: Any) -> dict:
        self.calls += 1
        records = event["Records"]
        self.batches.append(len(records))
        done: list[bytes] = []
        failures = []
        for record in records:
            assert set(record) >= {"kinesis", "eventSourceARN", "eventID", "awsRegion"}
            data = base64.b64decode(record["kinesis"]["data"])
            assert isinstance(record["kinesis"]["approximateArrivalTimestamp"], float)
            if data in self.fail and self.calls <= self.times:
                if not self.report:
                    raise RuntimeError(f"cannot handle {data!r}")
                failures.append({"itemIdentifier": record["kinesis"]["sequenceNumber"]})
                break
            done.append(data)
        self.processed += done
        return {"batchItemFailures": failures}


def _source(aws: Any, handler: Recorder, **options: Any) -> KinesisSource:
    source = KinesisSource(
        stream_name="pipeguard-scans",
        region="us-east-1",
        name="test",
        arn=aws.scan_stream_arn,
        handler=handler,
        options=SourceOptions(retry_delay=0.0, **options),
        dead_letter_queue_url=aws.dead_letter_queue_url,
        context_factory=lambda: None,
    )
    source.discover(force=True)
    return source


def _put(items: list[bytes]) -> None:
    for item in items:
        client("kinesis").put_record(StreamName="pipeguard-scans", Data=item, PartitionKey="t:p")


def _drain(source: KinesisSource, passes: int = 200) -> None:
    for _ in range(passes):
        source.poll()
        if not source.pending():
            source.poll()
            if not source.pending():
                return
    raise AssertionError("the source did not drain")


def _dead_letters() -> list[dict]:
    sqs = client("sqs")
    url = sqs.get_queue_url(QueueName="pipeguard-dead-letters")["QueueUrl"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


ITEMS = [f"r{i}".encode() for i in range(10)]


def test_batches_in_order_and_checkpoint_after_success(aws: Any) -> None:
    handler = Recorder()
    source = _source(aws, handler, batch_size=4)
    _put(ITEMS)
    _drain(source)
    assert handler.processed == ITEMS
    assert max(handler.batches) <= 4
    _drain(source)
    assert handler.processed == ITEMS, "records were delivered again after their checkpoint"


def test_partial_failure_retries_from_the_failed_record(aws: Any) -> None:
    handler = Recorder(fail={b"r3"}, times=2)
    source = _source(aws, handler, batch_size=10, max_retries=5)
    _put(ITEMS)
    _drain(source)
    assert handler.processed == ITEMS
    assert source.stats.retries == 2
    assert _dead_letters() == []


def test_poison_record_goes_to_the_dead_letter_queue_without_blocking(aws: Any) -> None:
    handler = Recorder(fail={b"r5"})
    source = _source(aws, handler, batch_size=10, max_retries=2)
    _put(ITEMS)
    _drain(source)
    assert handler.processed == [i for i in ITEMS if i != b"r5"]
    (letter,) = _dead_letters()
    assert letter["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert letter["requestContext"]["approximateInvokeCount"] == 3
    assert base64.b64decode(letter["record"]["kinesis"]["data"]) == b"r5"
    assert source.stats.dead_lettered == 1


def test_handler_error_bisects_down_to_the_poison_record(aws: Any) -> None:
    handler = Recorder(fail={b"r6"}, report=False)
    source = _source(aws, handler, batch_size=8, max_retries=1)
    _put(ITEMS)
    _drain(source)
    assert handler.processed == [i for i in ITEMS if i != b"r6"]
    assert [base64.b64decode(d["record"]["kinesis"]["data"]) for d in _dead_letters()] == [b"r6"]
    assert 4 in handler.batches and 1 in handler.batches


def test_handler_error_without_bisect_dead_letters_the_batch(aws: Any) -> None:
    handler = Recorder(fail={b"r6"}, report=False)
    source = _source(aws, handler, batch_size=8, max_retries=1, bisect_on_error=False)
    _put(ITEMS)
    _drain(source)
    assert handler.processed == ITEMS[8:]
    letters = [base64.b64decode(d["record"]["kinesis"]["data"]) for d in _dead_letters()]
    assert sorted(letters) == ITEMS[:8]
    assert handler.batches[:2] == [8, 8]


def test_records_older_than_the_max_age_are_dead_lettered(aws: Any) -> None:
    handler = Recorder()
    source = _source(aws, handler, batch_size=4, max_record_age=0.0)
    _put(ITEMS[:3])
    time.sleep(0.05)
    _drain(source)
    assert handler.processed == []
    letters = _dead_letters()
    assert [d["requestContext"]["condition"] for d in letters] == ["RecordAgeExceeded"] * 3


def test_shards_are_processed_concurrently_each_in_order(aws: Any) -> None:
    import threading

    from chalicelib.local.runner import EventSourceRunner

    shards = client("kinesis").list_shards(StreamName="pipeguard-scans")["Shards"]
    assert len(shards) == 2
    other_shard_ran = threading.Event()
    seen: dict[str, list[bytes]] = {}
    waited: list[bool] = []

    def handler(event: dict, context: Any) -> dict:
        for record in event["Records"]:
            shard_id = record["eventID"].split(":")[0]
            data = base64.b64decode(record["kinesis"]["data"])
            seen.setdefault(shard_id, []).append(data)
            if shard_id == shards[0]["ShardId"]:
                waited.append(other_shard_ran.wait(timeout=10))  # blocks this shard only
            else:
                other_shard_ran.set()
        return {"batchItemFailures": []}

    for shard, prefix in zip(shards, (b"a", b"b"), strict=True):
        for i in range(3):
            client("kinesis").put_record(
                StreamName="pipeguard-scans",
                Data=prefix + str(i).encode(),
                PartitionKey="p",
                ExplicitHashKey=shard["HashKeyRange"]["StartingHashKey"],
            )
    source = _source(aws, handler, batch_size=1)
    runner = EventSourceRunner([source], idle_sleep=0.01)
    runner.start()
    try:
        deadline = time.monotonic() + 30
        while source.stats.processed < 6 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        runner.stop()
    assert waited and all(waited), "a shard waited for another shard's batch"
    assert seen[shards[0]["ShardId"]] == [b"a0", b"a1", b"a2"]
    assert seen[shards[1]["ShardId"]] == [b"b0", b"b1", b"b2"]

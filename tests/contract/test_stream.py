"""`ScanStream` and `DeadLetterQueue`: per-key order in one shard, large batches, a refusal
that stores nothing, dead letters received oldest first, hidden once received, deleted."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest

from chalicelib.stores.ports import Stores, StreamUnavailable


def _stored(stores: Stores) -> dict[str, list[tuple[str, bytes]]]:
    """Every record on the stream, by shard, in shard order."""
    shards: dict[str, list[tuple[str, bytes]]] = defaultdict(list)
    database = getattr(stores.stream, "database", None)
    if database is not None:
        rows = database.connection().execute(
            "SELECT shard, partition_key, data FROM stream_records ORDER BY shard, sequence"
        )
        for shard, key, data in rows:
            shards[str(shard)].append((key, bytes(data)))
        return shards
    from chalicelib.stores.clients import client

    kinesis = client("kinesis")
    for shard in kinesis.list_shards(StreamName="pipeguard-scans")["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName="pipeguard-scans",
            ShardId=shard["ShardId"],
            ShardIteratorType="TRIM_HORIZON",
        )["ShardIterator"]
        while iterator:
            response = kinesis.get_records(ShardIterator=iterator, Limit=10_000)
            shards[shard["ShardId"]] += [
                (r["PartitionKey"], r["Data"]) for r in response["Records"]
            ]
            iterator = response.get("NextShardIterator") if response["Records"] else None
    return shards


def test_one_keys_records_stay_in_one_shard_in_order(stores: Stores) -> None:
    keys = [f"acme:pipeline-{n}" for n in range(16)]
    for round_ in range(3):
        stores.stream.put([(key, f"{key}#{round_}".encode()) for key in keys])
    shards = _stored(stores)
    assert len(shards) >= 2, "sixteen keys all went to one shard"
    for key in keys:
        (home,) = [s for s, records in shards.items() if any(k == key for k, _ in records)]
        assert [d for k, d in shards[home] if k == key] == [f"{key}#{n}".encode() for n in range(3)]


def test_a_batch_over_the_put_limit_and_binary_data_are_stored_whole(stores: Stores) -> None:
    records = [("globex:web", bytes([n % 256, 0, 255]) + str(n).encode()) for n in range(1200)]
    stores.stream.put(records)
    (only,) = [r for r in _stored(stores).values() if r]
    assert only == records


def test_a_refused_put_raises_stream_unavailable(
    stores: Stores, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = getattr(stores.stream, "database", None)
    if database is None:
        from chalicelib.stores.clients import client

        client("kinesis").delete_stream(StreamName="pipeguard-scans")
    else:
        with database.write() as conn:  # what a full disk does to the transaction
            conn.execute(
                "CREATE TRIGGER refuse BEFORE INSERT ON stream_records"
                " WHEN NEW.data = x'6c617374' BEGIN SELECT RAISE(ABORT, 'disk full'); END"
            )
    with pytest.raises(StreamUnavailable, match="scan stream"):
        stores.stream.put([("acme:web", b"first"), ("acme:web", b"last")])
    if database is not None:
        assert _stored(stores) == {}, "a refused put stored some of its records"


def _letter(n: int) -> dict[str, Any]:
    return {
        "requestContext": {"condition": "RetryAttemptsExhausted", "approximateInvokeCount": 4},
        "source": "evaluate_artifacts",
        "record": {"kinesis": {"partitionKey": "acme:web", "data": f"cjA{n}"}},
    }


def test_dead_letters_are_received_oldest_first_hidden_and_deleted(stores: Stores) -> None:
    queue = stores.dead_letters
    for n in range(3):
        queue.put(_letter(n))
    first = queue.receive(2)
    assert [letter.body for letter in first] == [_letter(0), _letter(1)]
    rest = queue.receive(10)
    assert [letter.body for letter in rest] == [_letter(2)], "a received letter came again"
    for letter in first:
        queue.delete(letter.handle)
    assert queue.receive(10) == []


def test_a_letter_not_deleted_comes_back_after_its_hiding(stores: Stores) -> None:
    queue = stores.dead_letters
    queue.put(_letter(7))
    (seen,) = queue.receive(10, hide_seconds=0)
    (again,) = queue.receive(10, hide_seconds=0)
    assert again.body == seen.body == _letter(7)
    queue.delete(again.handle)
    assert queue.receive(10, hide_seconds=0) == []

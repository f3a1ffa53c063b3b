"""Operations on stored data: rebuild the search index, replay the dead letters."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from chalicelib.indexing import NOT_INDEXED
from chalicelib.search.factory import get_index
from chalicelib.search.port import FindingQuery
from chalicelib.stores.backend import stores
from chalicelib.stores.clients import client


def _stored_findings(tenant_id: str, page_size: int = 500) -> Iterator[dict[str, Any]]:
    """Every stored finding of the tenant (the findings store is the source of truth)."""
    store = stores().findings
    after: str | None = None
    while True:
        page, after = store.page(tenant_id, page_size, after)
        yield from page
        if after is None:
            return


def _indexed_ids(tenant_id: str) -> set[str]:
    index = get_index()
    found: set[str] = set()
    cursor = None
    while True:
        page = index.search(tenant_id, FindingQuery(limit=500, cursor=cursor))
        found.update(doc["finding_id"] for doc in page.findings)
        cursor = page.next_cursor
        if not cursor:
            return found


@dataclass
class ReindexResult:
    tenants: int = 0
    indexed: int = 0
    removed: int = 0


def reindex(tenant_id: str | None = None, batch: int = 500) -> ReindexResult:
    """Make the search index equal the findings store for one tenant, or for every tenant with
    findings."""
    index = get_index()
    tenants = [tenant_id] if tenant_id is not None else stores().findings.tenants()
    result = ReindexResult(tenants=len(tenants))
    for tenant in tenants:
        items = list(_stored_findings(tenant))
        for item in items:
            for internal in NOT_INDEXED:
                item.pop(internal, None)
        for start in range(0, len(items), batch):
            index.upsert(tenant, items[start : start + batch])
        stale = sorted(_indexed_ids(tenant) - {i["finding_id"] for i in items})
        if stale:
            index.delete(tenant, stale)
        result.indexed += len(items)
        result.removed += len(stale)
    return result


@dataclass
class RedriveResult:
    replayed: int = 0
    reindexed: bool = False
    left: list[str] = field(default_factory=list)


def redrive(max_messages: int = 1000) -> RedriveResult:
    """Replay the dead letters (`stores().dead_letters`: SQS, or the embedded database's
    table): scan records go back on the stream, index failures reindex.

    Understands the local runner's messages (which carry the record) and Lambda's on-failure
    messages (which name a shard and a sequence range, read back from the stream while it
    retains them). A message is deleted only once its replay succeeded.
    """
    letters = stores().dead_letters
    result = RedriveResult()
    index_failures: list[str] = []
    handled = 0
    while handled < max_messages:
        batch = letters.receive(min(10, max_messages - handled))
        if not batch:
            break
        for letter in batch:
            handled += 1
            body = letter.body
            record = body.get("record") or {}
            if "kinesis" in record:
                _put_back(
                    [
                        (
                            record["kinesis"]["partitionKey"],
                            base64.b64decode(record["kinesis"]["data"]),
                        )
                    ]
                )
            elif "KinesisBatchInfo" in body:
                _put_back(_read_range(body["KinesisBatchInfo"]))
            elif "dynamodb" in record or "DDBStreamBatchInfo" in body:
                index_failures.append(letter.handle)
                continue
            else:
                result.left.append(letter.message_id)
                continue
            letters.delete(letter.handle)
            result.replayed += 1
    if index_failures:  # the index is rebuilt from the findings store, then they are done
        reindex()
        result.reindexed = True
        for handle in index_failures:
            letters.delete(handle)
        result.replayed += len(index_failures)
    return result


def _put_back(records: list[tuple[str, bytes]]) -> None:
    from chalicelib.stores.stream import put_records

    put_records(records)


def _read_range(info: dict[str, Any]) -> list[tuple[str, bytes]]:
    """The records of a shard between two sequence numbers (Lambda's on-failure batch info)."""
    kinesis = client("kinesis")
    stream_name = info["streamArn"].rsplit("/", 1)[-1]
    iterator = kinesis.get_shard_iterator(
        StreamName=stream_name,
        ShardId=info["shardId"],
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        StartingSequenceNumber=info["startSequenceNumber"],
    )["ShardIterator"]
    end = int(info["endSequenceNumber"])
    found: list[tuple[str, bytes]] = []
    while iterator:
        response = kinesis.get_records(ShardIterator=iterator, Limit=1000)
        for record in response["Records"]:
            if int(record["SequenceNumber"]) > end:
                return found
            found.append((record["PartitionKey"], record["Data"]))
        if not response["Records"]:
            return found
        iterator = response.get("NextShardIterator")
    return found

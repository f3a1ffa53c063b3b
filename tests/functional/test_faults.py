"""Fault injection on the embedded stack's parts: nothing lost, nothing duplicated."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from chalicelib import ids, maintenance
from chalicelib.engine.runner import evaluate
from chalicelib.models import ArtifactType
from chalicelib.search.factory import get_index
from chalicelib.search.port import FindingQuery
from chalicelib.stores.clients import client
from tests.conftest import Api
from tests.functional.samples import ARTIFACTS

PIPELINES = ["web", "api", "worker"]


def _submit_all(api: Api) -> list[dict]:
    accepted = []
    for pipeline in PIPELINES:
        body = {"pipeline": pipeline, "run_id": "r1", "artifacts": ARTIFACTS}
        response = api.post("/v1/scans", json=body)
        assert response.status_code == 202, response.text
        accepted.append(response.json())
    return accepted


def _expected(tenant: str) -> set[str]:
    """Every finding id the submitted scans must produce, computed by the engine directly."""
    expected = set()
    for pipeline in PIPELINES:
        for artifact in ARTIFACTS:
            report = evaluate(ArtifactType(artifact["type"]), artifact["content"], artifact["path"])
            for f in report.findings:
                expected.add(
                    ids.finding_id(tenant, pipeline, artifact["path"], f.resource, f.rule_id)
                )
    return expected


def _stored(tenant: str) -> list[str]:
    items = client("dynamodb").scan(TableName="pipeguard-findings")["Items"]
    return [i["finding_id"]["S"] for i in items if i["tenant_id"]["S"] == tenant]


def _indexed(tenant: str) -> list[str]:
    found, cursor = [], None
    while True:
        page = get_index().search(tenant, FindingQuery(limit=500, cursor=cursor))
        found += [d["finding_id"] for d in page.findings]
        cursor = page.next_cursor
        if not cursor:
            return found


def _assert_exact(api: Api, accepted: list[dict], tenant: str = "acme") -> None:
    expected = _expected(tenant)
    assert len(expected) >= 15
    stored = _stored(tenant)
    assert sorted(stored) == sorted(expected), "findings lost or duplicated in DynamoDB"
    indexed = _indexed(tenant)
    assert sorted(indexed) == sorted(expected), "findings lost or duplicated in the index"
    for scan in accepted:
        status = api.get(scan["status_url"]).json()
        assert status["status"] == "complete"
        assert status["artifacts_done"] == len(ARTIFACTS)
        assert sum(status["counts"].values()) == len(expected) // len(PIPELINES)


def _dead_letters() -> list[dict]:
    url = client("sqs").get_queue_url(QueueName="pipeguard-dead-letters")["QueueUrl"]
    attributes = client("sqs").get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
    )
    return [{}] * int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def _wrap(source: Any, wrapper: Callable[[Callable, dict, Any], Any]) -> None:
    real = source.handler
    source.handler = lambda event, context: wrapper(real, event, context)


def test_evaluate_crash_mid_batch(api_url: str, keys: dict, pipeline: Any) -> None:
    api = Api(api_url, keys["acme"])
    accepted = _submit_all(api)
    crashed = []

    def crash_once(real: Callable, event: dict, context: Any) -> Any:
        if not crashed and len(event["Records"]) > 2:
            crashed.append(True)
            real({"Records": event["Records"][:2]}, context)  # half the batch is written...
            raise RuntimeError("the function ran out of time")  # ...then the process dies
        return real(event, context)

    _wrap(pipeline.sources[0], crash_once)
    pipeline.drain()
    assert crashed
    _assert_exact(api, accepted)
    assert _dead_letters() == []


def test_poison_record_is_dead_lettered_without_blocking(
    api_url: str, keys: dict, pipeline: Any
) -> None:
    api = Api(api_url, keys["acme"])
    client("kinesis").put_record(
        StreamName="pipeguard-scans", Data=b'{"not": "an artifact event"}', PartitionKey="acme:web"
    )
    accepted = _submit_all(api)
    pipeline.drain()
    _assert_exact(api, accepted)
    assert len(_dead_letters()) == 1
    assert pipeline.sources[0].stats.dead_lettered == 1


def test_index_down_for_a_while_catches_up(
    api_url: str, keys: dict, pipeline: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.search.sqlite import SqliteIndex

    real_upsert = SqliteIndex.upsert
    outages = {"left": 2}

    def flaky_upsert(self: Any, tenant_id: str, docs: list) -> None:
        if outages["left"]:
            outages["left"] -= 1
            raise ConnectionError("search index unavailable")
        real_upsert(self, tenant_id, docs)

    monkeypatch.setattr(SqliteIndex, "upsert", flaky_upsert)
    api = Api(api_url, keys["acme"])
    accepted = _submit_all(api)
    pipeline.drain()
    assert outages["left"] == 0
    _assert_exact(api, accepted)
    assert _dead_letters() == []


def test_index_down_too_long_is_recovered_by_redrive(
    api_url: str, keys: dict, pipeline: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.search.sqlite import SqliteIndex

    real_upsert = SqliteIndex.upsert
    down = {"on": True}

    def failing_upsert(self: Any, tenant_id: str, docs: list) -> None:
        if down["on"]:
            raise ConnectionError("search index unavailable")
        real_upsert(self, tenant_id, docs)

    monkeypatch.setattr(SqliteIndex, "upsert", failing_upsert)
    api = Api(api_url, keys["acme"])
    accepted = _submit_all(api)
    pipeline.drain()
    assert _indexed("acme") == []
    assert len(_dead_letters()) >= 1

    down["on"] = False
    result = maintenance.redrive()
    assert result.reindexed and result.left == []
    _assert_exact(api, accepted)
    assert _dead_letters() == []


def test_throttling_is_retried_with_back_off(api_url: str, keys: dict, pipeline: Any) -> None:
    throttled: dict[str, int] = {}

    def throttle(operation: str, times: int) -> Callable[..., Any]:
        """A `before-send` hook: the service answers "throttled", as on the wire, `times` times."""
        from botocore.awsrequest import AWSResponse, HeadersDict

        class Body:
            def stream(self, **_: Any) -> Any:
                yield json.dumps(
                    {"__type": "ProvisionedThroughputExceededException", "message": "slow down"}
                ).encode()

        def hook(request: Any, **_: Any) -> Any:
            target = request.headers.get("X-Amz-Target", b"")
            target = target.decode() if isinstance(target, bytes) else target
            if not target.endswith("." + operation) or throttled.get(operation, 0) >= times:
                return None
            throttled[operation] = throttled.get(operation, 0) + 1
            headers = HeadersDict({"Content-Type": "application/x-amz-json-1.0"})
            return AWSResponse(request.url, 400, headers, Body())

        return hook

    hooks = [
        ("dynamodb", "before-send.dynamodb.BatchWriteItem", "BatchWriteItem"),
        ("dynamodb", "before-send.dynamodb.UpdateItem", "UpdateItem"),
        ("kinesis", "before-send.kinesis.PutRecords", "PutRecords"),
    ]
    for service, event, operation in hooks:
        client(service).meta.events.register(event, throttle(operation, 1), unique_id=operation)
    try:
        api = Api(api_url, keys["acme"])
        accepted = _submit_all(api)
        pipeline.drain()
    finally:
        for service, event, operation in hooks:
            client(service).meta.events.unregister(event, unique_id=operation)
    assert throttled == {"BatchWriteItem": 1, "UpdateItem": 1, "PutRecords": 1}
    _assert_exact(api, accepted)


def test_records_delivered_twice_count_once(api_url: str, keys: dict, pipeline: Any) -> None:
    api = Api(api_url, keys["acme"])
    accepted = _submit_all(api)
    kinesis = pipeline.sources[0]
    copies = []
    for shard_id in kinesis.shards:
        copies += kinesis._get_records(kinesis._iterator(shard_id))[0]
    for record in copies:  # the producer retried: every record is on the stream twice
        client("kinesis").put_record(
            StreamName="pipeguard-scans", Data=record["Data"], PartitionKey=record["PartitionKey"]
        )
    pipeline.drain()
    _assert_exact(api, accepted)
    assert json.loads(copies[0]["Data"])["scan_id"] in {a["scan_id"] for a in accepted}

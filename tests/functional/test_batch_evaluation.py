"""A Kinesis batch is evaluated together: fewer AWS calls, the same findings, reports and
counts as one record at a time, and Lambda's partial-failure semantics."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from chalicelib import ids
from chalicelib.engine.runner import evaluate
from chalicelib.models import ArtifactType
from chalicelib.stores.clients import client
from tests.conftest import Api
from tests.functional.samples import ARTIFACTS

FIXED_DOCKERFILE = "FROM ubuntu:latest\nEXPOSE 22\n"
BUCKET = "pipeguard-artifacts"


def _submit(api: Api, pipeline: str, run_id: str = "r1", artifacts: list | None = None) -> str:
    body = {"pipeline": pipeline, "run_id": run_id, "artifacts": artifacts or ARTIFACTS}
    response = api.post("/v1/scans", json=body)
    assert response.status_code == 202, response.text
    return response.json()["scan_id"]


def _records(pipeline: Any, scan_ids: list[str]) -> tuple[str, list[dict]]:
    """The scans' records, in stream order, from the one shard they share."""
    kinesis = pipeline.sources[0]
    found = []
    for shard_id in kinesis.shards:
        records = kinesis._get_records(kinesis._iterator(shard_id))[0]
        mine = [r for r in records if json.loads(r["Data"])["scan_id"] in scan_ids]
        if mine:
            found.append((shard_id, mine))
    assert len(found) == 1, "the scans' records are on more than one shard"
    return found[0]


def _invoke(app_module: Any, pipeline: Any, shard_id: str, records: list[dict]) -> list[str]:
    """Run the evaluate handler on these records as one batch; the sequence numbers it fails."""
    event = pipeline.sources[0]._event(shard_id, records)
    response = app_module.evaluate_artifacts(event, None)
    return [f["itemIdentifier"] for f in response["batchItemFailures"]]


def _expected(tenant: str, pipeline: str, artifacts: list[dict] = ARTIFACTS) -> set[str]:
    expected = set()
    for artifact in artifacts:
        report = evaluate(ArtifactType(artifact["type"]), artifact["content"], artifact["path"])
        expected |= {
            ids.finding_id(tenant, pipeline, artifact["path"], f.resource, f.rule_id)
            for f in report.findings
        }
    return expected


def _parts(tenant: str, scan_id: str) -> list[str]:
    prefix = f"tenants/{tenant}/reports/{scan_id}/"
    listed = client("s3").list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    return [o["Key"] for o in listed.get("Contents", [])]


def _report(api: Api, scan_id: str) -> dict:
    response = api.get(f"/v1/scans/{scan_id}/report")
    assert response.status_code == 200, response.text
    return response.json()


@contextmanager
def _counting() -> Iterator[Counter]:
    """Count AWS calls by `service.Operation[:table]` while the block runs."""
    calls: Counter = Counter()

    def hook(params: dict, model: Any, **_: Any) -> None:
        table = params.get("TableName")
        name = f"{model.service_model.service_name}.{model.name}"
        calls[name] += 1
        if table:
            calls[f"{name}:{table}"] += 1

    services = ("dynamodb", "s3", "kinesis", "sns", "ses")
    for service in services:
        client(service).meta.events.register("provide-client-params", hook, unique_id="count")
    try:
        yield calls
    finally:
        for service in services:
            client(service).meta.events.unregister("provide-client-params", unique_id="count")


def test_whole_scans_in_one_batch_cost_one_record_and_one_completion_each(
    api_url: str, keys: dict, pipeline: Any, app_module: Any
) -> None:
    api = Api(api_url, keys["acme"])
    scan_id = _submit(api, "web")
    shard_id, records = _records(pipeline, [scan_id])
    assert len(records) == len(ARTIFACTS)

    with _counting() as calls:
        assert _invoke(app_module, pipeline, shard_id, records) == []

    assert calls["dynamodb.UpdateItem:pipeguard-scans"] == 2  # record all three, complete
    assert calls["dynamodb.Query:pipeguard-findings"] == 1  # the pipeline's stored findings
    assert calls["dynamodb.Query:pipeguard-tenants"] == 1  # the tenant's waivers
    assert calls["s3.GetObject"] == len(ARTIFACTS)  # the bodies, and no report part read back
    assert calls["s3.PutObject"] == 1  # the scan report only
    assert calls["dynamodb.BatchWriteItem"] == 1
    assert (calls["sns.PublishBatch"], calls["sns.Publish"]) == (1, 0)  # the failed verdict
    assert _parts("acme", scan_id) == []
    report = _report(api, scan_id)
    assert {f["finding_id"] for f in report["findings"]} == _expected("acme", "web")
    assert [a["status"] for a in report["artifacts"]] == ["evaluated"] * len(ARTIFACTS)
    assert sum(report["counts"].values()) == len(report["findings"])


def test_a_scan_split_over_batches_keeps_its_parts_until_it_completes(
    api_url: str, keys: dict, pipeline: Any, app_module: Any
) -> None:
    api = Api(api_url, keys["acme"])
    scan_id = _submit(api, "web")
    shard_id, records = _records(pipeline, [scan_id])

    assert _invoke(app_module, pipeline, shard_id, records[:1]) == []
    running = api.get(f"/v1/scans/{scan_id}").json()
    assert (running["status"], running["artifacts_done"]) == ("running", 1)
    assert _parts("acme", scan_id) == [f"tenants/acme/reports/{scan_id}/0.json"]

    assert _invoke(app_module, pipeline, shard_id, records[1:]) == []
    done = api.get(f"/v1/scans/{scan_id}").json()
    assert (done["status"], done["artifacts_done"]) == ("complete", 3)
    report = _report(api, scan_id)
    assert {f["finding_id"] for f in report["findings"]} == _expected("acme", "web")
    assert {f["path"] for f in report["findings"]} == {a["path"] for a in ARTIFACTS}


def test_a_failed_record_is_retried_with_every_record_after_it(
    api_url: str, keys: dict, pipeline: Any, app_module: Any
) -> None:
    api = Api(api_url, keys["acme"])
    first = _submit(api, "web", "r1")
    second = _submit(api, "web", "r2", ARTIFACTS[1:])  # same pipeline: same shard, after first
    shard_id, records = _records(pipeline, [first, second])
    assert len(records) == 5
    body_key = json.loads(records[1]["Data"])["body_key"]
    body = client("s3").get_object(Bucket=BUCKET, Key=body_key)["Body"].read()
    client("s3").delete_object(Bucket=BUCKET, Key=body_key)  # the template's body is gone

    failed = _invoke(app_module, pipeline, shard_id, records)
    assert failed == [r["SequenceNumber"] for r in records[1:]]
    scan = api.get(f"/v1/scans/{first}").json()
    assert (scan["status"], scan["artifacts_done"]) == ("running", 1)
    assert api.get(f"/v1/scans/{second}").json()["artifacts_done"] == 0
    stored = client("dynamodb").scan(TableName="pipeguard-findings")["Items"]
    assert {i["path"]["S"] for i in stored} == {"Dockerfile"}, "a later record was written"

    client("s3").put_object(Bucket=BUCKET, Key=body_key, Body=body)
    assert _invoke(app_module, pipeline, shard_id, records[1:]) == []
    for scan_id in (first, second):
        assert api.get(f"/v1/scans/{scan_id}").json()["status"] == "complete"
    assert {f["finding_id"] for f in _report(api, first)["findings"]} == _expected("acme", "web")


def _evaluated_metric(out: str) -> float:
    """The `ArtifactsEvaluated` metric summed over the EMF documents printed."""
    total = 0.0
    for line in out.splitlines():
        try:
            document = json.loads(line)
        except ValueError:
            continue
        if isinstance(document, dict) and "_aws" in document:
            value = document.get("ArtifactsEvaluated", 0)
            total += sum(value) if isinstance(value, list) else value
    return total


def test_a_record_twice_in_one_batch_counts_once(
    api_url: str,
    keys: dict,
    pipeline: Any,
    app_module: Any,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    api = Api(api_url, keys["acme"])
    scan_id = _submit(api, "web")
    shard_id, records = _records(pipeline, [scan_id])

    capfd.readouterr()
    assert _invoke(app_module, pipeline, shard_id, records + records) == []
    assert _evaluated_metric(capfd.readouterr().out) == len(ARTIFACTS)
    scan = api.get(f"/v1/scans/{scan_id}").json()
    assert scan["artifacts_done"] == len(ARTIFACTS)
    report = _report(api, scan_id)
    assert len(report["findings"]) == len({f["finding_id"] for f in report["findings"]})
    assert sum(scan["counts"].values()) == len(_expected("acme", "web"))
    pipeline.drain()  # the runner delivers them again: nothing changes
    assert api.get(f"/v1/scans/{scan_id}").json()["counts"] == scan["counts"]


def _outcome(api: Api, scan_ids: list[str]) -> list[Any]:
    """What the scans decided, without the tenant-specific ids and times."""
    runs = {scan_id: run for run, scan_id in enumerate(scan_ids)}
    outcome: list[Any] = []
    for scan_id in scan_ids:
        report = _report(api, scan_id)
        outcome.append((report["verdict"], report["counts"]))
        for key in ("findings", "fixed"):
            outcome.append(
                sorted(
                    (f["path"], f["rule_id"], f["resource"], f["lifecycle"], f["status"])
                    + (runs.get(f["fixed_in_scan"]), runs[f["scan_id"]])
                    for f in report[key]
                )
            )
    return outcome


def test_two_runs_of_a_pipeline_in_one_batch_decide_as_one_record_at_a_time(
    api_url: str, keys: dict, pipeline: Any, app_module: Any
) -> None:
    second_run = [{**ARTIFACTS[0], "content": FIXED_DOCKERFILE}, *ARTIFACTS[1:]]
    outcomes = []
    for tenant, one_at_a_time in (("acme", False), ("globex", True)):
        api = Api(api_url, keys[tenant])
        scan_ids = [_submit(api, "web", "r1"), _submit(api, "web", "r2", second_run)]
        shard_id, records = _records(pipeline, scan_ids)
        batches = [[r] for r in records] if one_at_a_time else [records]
        for batch in batches:
            assert _invoke(app_module, pipeline, shard_id, batch) == []
        outcomes.append(_outcome(api, scan_ids))
    batched, sequential = outcomes
    assert batched == sequential
    fixed_by_second = batched[5]
    assert fixed_by_second, "the second run fixes findings of the first"
    assert {f[3] for f in fixed_by_second} == {"fixed"}


def test_submitting_a_new_run_reads_no_scan_first(api_url: str, keys: dict) -> None:
    api = Api(api_url, keys["acme"])
    with _counting() as calls:
        _submit(api, "web")
    assert calls["dynamodb.GetItem:pipeguard-scans"] == 0
    assert calls["dynamodb.PutItem:pipeguard-scans"] == 1
    with _counting() as calls:
        _submit(api, "web")  # the same run again: the create fails, then the scan is read
    assert calls["dynamodb.GetItem:pipeguard-scans"] == 1


def _messages(queue_url: str) -> list[dict]:
    received = []
    while True:
        batch = client("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
        if not batch.get("Messages"):
            return received
        for message in batch["Messages"]:
            received.append(json.loads(json.loads(message["Body"])["Message"]))
            client("sqs").delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def test_a_batch_alerts_together_and_a_refused_alert_is_sent_on_the_retry(
    api_url: str, keys: dict, pipeline: Any, aws: Any
) -> None:
    sqs = client("sqs")
    queue_url = sqs.create_queue(QueueName="alerts")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    client("sns").subscribe(
        TopicArn=aws.alert_topic_arn,
        Protocol="sqs",
        Endpoint=queue_arn["Attributes"]["QueueArn"],
    )
    api = Api(api_url, keys["acme"])
    scan_ids = [_submit(api, name) for name in ("web", "api", "worker", "docs")]
    refused: list[bool] = []

    def refuse_once(**_: Any) -> None:
        if not refused:
            refused.append(True)
            raise ConnectionError("SNS is unavailable")

    sns_events = client("sns").meta.events
    sns_events.register("before-call.sns.PublishBatch", refuse_once, unique_id="refuse")
    try:
        with _counting() as calls:
            pipeline.drain()
    finally:
        sns_events.unregister("before-call.sns.PublishBatch", unique_id="refuse")

    assert refused
    for scan_id in scan_ids:
        assert api.get(f"/v1/scans/{scan_id}").json()["verdict"] == "fail"
    alerted = Counter(m["scan_id"] for m in _messages(queue_url))
    assert set(alerted) == set(scan_ids), "an alert was lost"
    assert calls["sns.Publish"] == 0
    assert calls["sns.PublishBatch"] < len(scan_ids) + 1  # several scans per message batch

"""Artifact bodies in S3: each distinct body of a scan is written once, under its tenant;
resubmitting a run writes none again, and a conflicting resubmission writes nothing."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from chalicelib.stores.clients import client
from tests.conftest import ROOT_DOCKERFILE, Api, scan_body

BUCKET = "pipeguard-artifacts"
CLEAN = "FROM alpine:3.20\nUSER app\n"


@contextmanager
def s3_calls() -> Iterator[Counter]:
    """Count the S3 operations the app's own client makes while the block runs."""
    calls: Counter = Counter()

    def hook(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    events = client("s3").meta.events
    events.register("before-call.s3", hook, unique_id="count-s3")
    try:
        yield calls
    finally:
        events.unregister("before-call.s3", unique_id="count-s3")


def stored(tenant: str) -> list[str]:
    listed = client("s3").list_objects_v2(Bucket=BUCKET, Prefix=f"tenants/{tenant}/artifacts/")
    return sorted(o["Key"] for o in listed.get("Contents", []))


def body(path: str, content: str) -> dict[str, str]:
    return {"type": "dockerfile", "path": path, "content": content}


RUN = [
    body("Dockerfile", ROOT_DOCKERFILE),
    body("web/Dockerfile", CLEAN),
    body("api/Dockerfile", CLEAN),
]


def test_a_resubmitted_run_stores_no_body_again(
    api_url: str, keys: dict[str, str], pipeline: Any
) -> None:
    acme = Api(api_url, keys["acme"])
    with s3_calls() as calls:
        first = acme.post("/v1/scans", json=scan_body(artifacts=RUN))
    assert first.status_code == 202, first.text
    assert calls["PutObject"] == 2  # two distinct bodies among three artifacts
    bodies = stored("acme")
    assert len(bodies) == 2

    with s3_calls() as calls:
        again = acme.post("/v1/scans", json=scan_body(artifacts=RUN))
    assert again.status_code == 202, again.text
    assert again.json()["scan_id"] == first.json()["scan_id"]
    assert calls["PutObject"] == 0

    changed = [*RUN[:2], body("api/Dockerfile", "FROM debian:12\nUSER app\n")]
    with s3_calls() as calls:
        conflict = acme.post("/v1/scans", json=scan_body(artifacts=changed))
    assert conflict.status_code == 409, conflict.text
    assert calls["PutObject"] == 0
    assert stored("acme") == bodies  # no body that no scan names

    globex = Api(api_url, keys["globex"])
    with s3_calls() as calls:
        other = globex.post("/v1/scans", json=scan_body(artifacts=RUN))
    assert other.status_code == 202, other.text
    assert calls["PutObject"] == 2  # the same bodies, stored again under the other tenant
    assert [k.replace("/globex/", "/acme/") for k in stored("globex")] == bodies

    pipeline.drain()
    for api, accepted in ((acme, first), (globex, other)):
        scan = api.get(accepted.json()["status_url"]).json()
        assert scan["status"] == "complete"
        assert [a["status"] for a in scan["artifacts"]] == ["evaluated"] * 3


def test_a_resubmission_of_a_queued_run_stores_only_a_missing_body(
    api_url: str, keys: dict[str, str], pipeline: Any
) -> None:
    api = Api(api_url, keys["acme"])
    first = api.post("/v1/scans", json=scan_body(artifacts=RUN))
    assert first.status_code == 202, first.text
    lost = stored("acme")[0]  # as if the first request stopped before storing this body
    client("s3").delete_object(Bucket=BUCKET, Key=lost)

    with s3_calls() as calls:
        again = api.post("/v1/scans", json=scan_body(artifacts=RUN))
    assert again.status_code == 202, again.text
    assert calls["PutObject"] == 1
    assert lost in stored("acme")
    pipeline.drain()
    scan = api.get(first.json()["status_url"]).json()
    assert scan["status"] == "complete"
    assert [a["status"] for a in scan["artifacts"]] == ["evaluated"] * 3


def test_a_body_store_outage_is_503_and_the_same_request_queues_the_scan(
    api_url: str, keys: dict[str, str], pipeline: Any
) -> None:
    class Refused:
        status_code = 503
        headers: dict = {}

    def outage(**_: Any) -> tuple:
        error = {"Code": "ServiceUnavailable", "Message": "Please reduce your request rate."}
        return Refused(), {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 503}}

    api = Api(api_url, keys["acme"])
    events = client("s3").meta.events
    events.register("before-call.s3.PutObject", outage, unique_id="outage")
    try:
        refused = api.post("/v1/scans", json=scan_body(artifacts=RUN))
    finally:
        events.unregister("before-call.s3.PutObject", unique_id="outage")
    assert refused.status_code == 503, refused.text
    assert "same request" in refused.json()["error"]["message"]
    assert refused.headers["Retry-After"]
    assert stored("acme") == []

    with s3_calls() as calls:
        retried = api.post("/v1/scans", json=scan_body(artifacts=RUN))
    assert retried.status_code == 202, retried.text
    assert retried.json()["status"] == "queued"
    assert calls["PutObject"] == 2
    pipeline.drain()
    scan = api.get(retried.json()["status_url"]).json()
    assert scan["status"] == "complete"
    assert [a["status"] for a in scan["artifacts"]] == ["evaluated"] * 3

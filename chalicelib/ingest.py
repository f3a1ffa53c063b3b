"""Ingest: validate a scan request, enrich its artifacts, store the bodies, queue them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, NoReturn

from pydantic import ValidationError

from chalicelib import ids, jsonbody, observability, storage_errors, uploads
from chalicelib import policy as policies
from chalicelib.config import settings
from chalicelib.errors import (
    BadRequest,
    Conflict,
    PayloadTooLarge,
    ServiceUnavailable,
    ValidationFailed,
    from_pydantic,
)
from chalicelib.models import ArtifactEvent, ScanRequest, ScanStatus
from chalicelib.stores import blobs, scans, stream
from chalicelib.tenancy import Principal

QUEUE_FAILURE = "the scan could not be queued for evaluation"
MAX_PARAMETER_BYTES = 64 * 1024
"""The templates' parameters of one scan, as JSON, together (they are stored with the scan)."""


def parse_scan_request(raw_body: bytes | None) -> ScanRequest:
    """Decode and validate the body of `POST /v1/scans` (400/413/422 on bad input)."""
    limits = settings()
    if not raw_body:
        raise BadRequest("the request body is empty: send a JSON scan request")
    if len(raw_body) > limits.max_request_bytes:
        raise PayloadTooLarge(
            f"the request body is {len(raw_body)} bytes; the limit is {limits.max_request_bytes}"
        )
    try:
        document = jsonbody.loads(raw_body)
    except jsonbody.NumberTooLong as exc:
        raise BadRequest(f"the request body cannot be read: {exc}") from None
    except (ValueError, RecursionError) as exc:
        raise BadRequest(f"the request body is not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise ValidationFailed("the scan request must be a JSON object")
    try:
        request = ScanRequest.model_validate(document)
    except ValidationError as exc:
        raise from_pydantic(exc, "the scan request") from None
    if len(request.artifacts) > limits.max_artifacts_per_scan:
        raise ValidationFailed(
            f"a scan holds at most {limits.max_artifacts_per_scan} artifacts; "
            f"this one has {len(request.artifacts)}: split it into several scans"
        )
    sizes = {
        i: len(json.dumps(a.parameters).encode("utf-8"))
        for i, a in enumerate(request.artifacts)
        if a.parameters
    }
    if sum(sizes.values()) > MAX_PARAMETER_BYTES:
        raise ValidationFailed(
            f"the artifacts' parameters are {sum(sizes.values())} bytes of JSON together; a "
            f"scan may carry at most {MAX_PARAMETER_BYTES} (64 KiB)",
            [
                {"field": f"artifacts.{i}.parameters", "message": f"{n} bytes"}
                for i, n in sizes.items()
            ],
        )
    too_big = [
        {"field": f"artifacts.{i}.content", "message": f"{size} bytes"}
        for i, a in enumerate(request.artifacts)
        if a.content is not None
        and (size := len(a.content.encode("utf-8"))) > limits.max_artifact_bytes
    ]
    if too_big:
        raise PayloadTooLarge(
            f"an artifact may be at most {limits.max_artifact_bytes} bytes inline: "
            "upload larger ones through POST /v1/uploads",
            too_big,
        )
    return request


def submit_scan(
    principal: Principal, request: ScanRequest, correlation_id: str | None = None
) -> dict[str, Any]:
    """Store and queue a scan; resubmitting the same run returns the existing scan."""
    tenant = principal.tenant_id
    scan_id = ids.scan_id(tenant, request.pipeline, request.run_id)
    received_at = _now()
    bodies = [
        a.content.encode("utf-8")
        if a.content is not None
        else uploads.fetch(tenant, a.upload_id or "", f"artifacts.{i}.upload_id")
        for i, a in enumerate(request.artifacts)
    ]
    artifacts = [
        {
            "index": i,
            "type": a.type.value,
            "path": a.path,
            "sha256": (sha256 := ids.sha256_hex(body)),
            "size": len(body),
            "body_key": blobs.tenant_key(tenant, "artifacts", sha256),
            **({"parameters": a.parameters} if a.parameters else {}),
        }
        for i, (a, body) in enumerate(zip(request.artifacts, bodies, strict=True))
    ]

    # No read first: the conditional create below detects a resubmitted run (rare). The bodies
    # are written only once the scan is created, so a resubmission of the same run stores
    # nothing again and a conflicting one (409) stores nothing at all.
    policy_version = policies.current_version(tenant)
    policy = policies.load(tenant, policy_version)

    scan = {
        "tenant_id": tenant,
        "scan_id": scan_id,
        "pipeline": request.pipeline,
        "run_id": request.run_id,
        "commit": request.commit,
        "status": ScanStatus.QUEUED.value,
        "received_at": received_at,
        "updated_at": received_at,
        "artifacts": artifacts,
        "artifacts_total": len(artifacts),
        "artifacts_done": 0,
        "results": {},
        "fail_on": policy.fail_on.value,
        "policy_version": policy_version,
        "pipeline_key": ids.pipeline_key(tenant, request.pipeline),
        "submitted_by": principal.key_id,
        "correlation_id": correlation_id,
    }
    if not scans.create(scan):
        return _resubmitted(scans.get(tenant, scan_id) or scan, artifacts, bodies)
    _queue(scan, bodies)
    observability.count("ArtifactsIngested", len(artifacts))
    observability.logger().info(
        "scan queued",
        extra={"scan_id": scan_id, "pipeline": request.pipeline, "artifacts": len(artifacts)},
    )
    return accepted(scan_id, ScanStatus.QUEUED.value)


def _queue(scan: dict[str, Any], bodies: list[bytes], *, only_missing: bool = False) -> None:
    """Store the bodies, then put one record per artifact on the stream; if either fails, the
    scan is marked for a retry (the same request sent again queues it) and the answer is 503."""
    try:
        _store_bodies(scan["tenant_id"], scan["artifacts"], bodies, only_missing=only_missing)
    except Exception as exc:  # botocore already retried; the caller sends the same request again
        observability.logger().exception("artifact bodies could not be stored")
        _unavailable(scan, storage_errors.storage_failure(exc))
    _enqueue(scan)


def _store_bodies(
    tenant_id: str, artifacts: list[dict[str, Any]], bodies: list[bytes], *, only_missing: bool
) -> None:
    """Write each distinct body once (keys are per tenant and by content); `only_missing`
    writes only those the blob store does not confirm it holds."""
    written: set[str] = set()
    for artifact, body in zip(artifacts, bodies, strict=True):
        key = artifact["body_key"]
        if key in written:
            continue
        written.add(key)
        if not (only_missing and blobs.exists(tenant_id, key)):
            blobs.put_bytes(tenant_id, key, body, "text/plain; charset=utf-8")


def _unavailable(scan: dict[str, Any], storage_failure: str | None = None) -> NoReturn:
    """Mark the scan for a retry and answer 503 (`storage_unavailable` when the bodies could
    not be written to a full or read-only disk)."""
    scans.mark_failed(scan["tenant_id"], scan["scan_id"], QUEUE_FAILURE, _now())
    if storage_failure:
        raise storage_errors.unavailable(storage_failure) from None
    raise ServiceUnavailable(
        "the scan could not be queued for evaluation: send the same request again"
    ) from None


def _enqueue(scan: dict[str, Any]) -> None:
    """Put one record per artifact on the stream; on failure the scan is marked for a retry."""
    try:
        stream.put_records(stream_records(scan))
    except stream.StreamUnavailable:
        _unavailable(scan)


def stream_records(scan: dict[str, Any]) -> list[tuple[str, bytes]]:
    """The scan's stream records: (partition key, artifact event), one per artifact."""
    events = [
        ArtifactEvent(
            tenant_id=scan["tenant_id"],
            scan_id=scan["scan_id"],
            pipeline=scan["pipeline"],
            run_id=scan["run_id"],
            commit=scan.get("commit"),
            received_at=scan["received_at"],
            artifact_index=a["index"],
            artifact_count=len(scan["artifacts"]),
            type=a["type"],
            path=a["path"],
            sha256=a["sha256"],
            size=a["size"],
            body_key=a["body_key"],
            correlation_id=scan.get("correlation_id"),
            policy_version=scan.get("policy_version", 0),
            parameters=a.get("parameters"),
        )
        for a in scan["artifacts"]
    ]
    partition_key = f"{scan['tenant_id']}:{scan['pipeline']}"
    return [(partition_key, e.model_dump_json().encode()) for e in events]


def accepted(scan_id: str, status: str) -> dict[str, Any]:
    return {"scan_id": scan_id, "status": status, "status_url": f"/v1/scans/{scan_id}"}


def _resubmitted(
    existing: dict[str, Any], artifacts: list[dict[str, Any]], bodies: list[bytes]
) -> dict[str, Any]:
    """The same run again: the same scan (re-queued if queueing it failed), or a conflict.

    Its bodies were stored by the first request, unless that one stopped before or could not
    store them: a scan that is queued again stores the bodies the blob store does not confirm
    it holds.
    """

    def digest(items: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
        return [(a["type"], a["path"], a["sha256"]) for a in items]

    if digest(existing.get("artifacts", [])) != digest(artifacts):
        raise Conflict(
            f"run {existing['run_id']!r} of pipeline {existing['pipeline']!r} was already "
            "submitted with other artifacts: use a new run_id for a new scan"
        )
    # A resubmitted run that never started is queued again: the caller may not have seen the
    # first answer, and evaluation is idempotent, so a second delivery costs time, not results.
    queue_failed = existing["status"] == ScanStatus.FAILED.value
    queue_failed = queue_failed and existing.get("failure") == QUEUE_FAILURE
    if queue_failed and scans.requeue(existing["tenant_id"], existing["scan_id"], _now()):
        _queue(existing, bodies, only_missing=True)
        return accepted(existing["scan_id"], ScanStatus.QUEUED.value)
    if existing["status"] == ScanStatus.QUEUED.value and not existing.get("results"):
        _queue(existing, bodies, only_missing=True)
    return accepted(existing["scan_id"], existing["status"])


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")

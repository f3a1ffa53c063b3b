"""Scans and their per-artifact progress, on the configured backend's `ScanStore`."""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from chalicelib.stores.backend import stores
from chalicelib.stores.ports import NotWritten

MAX_RESULTS_PER_UPDATE = 25  # keeps DynamoDB's update and condition expressions under 4 KB


def create(scan: dict[str, Any]) -> bool:
    """Store a new scan; False when a scan with this id already exists (nothing written)."""
    try:
        stores().scans.create(scan)
    except NotWritten:
        return False
    return True


def get(tenant_id: str, scan_id: str) -> dict[str, Any] | None:
    return stores().scans.get(tenant_id, scan_id)


def record_artifact(
    tenant_id: str, scan_id: str, index: int, result: dict[str, Any], now: str
) -> dict[str, Any] | None:
    """Record one artifact's result once; returns the updated scan, None if already recorded."""
    return record_artifacts(tenant_id, scan_id, {index: result}, now)


def record_artifacts(
    tenant_id: str, scan_id: str, results: dict[int, dict[str, Any]], now: str
) -> dict[str, Any] | None:
    """Record several artifacts' results in one write, only if none of them is recorded yet;
    returns the updated scan, None if any was already recorded (nothing written)."""
    if not 0 < len(results) <= MAX_RESULTS_PER_UPDATE:
        raise ValueError(f"record 1 to {MAX_RESULTS_PER_UPDATE} results per update")
    try:
        return stores().scans.record_artifacts(tenant_id, scan_id, results, now)
    except NotWritten:
        return None


def complete(tenant_id: str, scan_id: str, fields: dict[str, Any]) -> bool:
    """Mark the scan complete with its verdict; False if it was already complete."""
    try:
        stores().scans.complete(tenant_id, scan_id, fields)
    except NotWritten:
        return False
    return True


def mark_failed(tenant_id: str, scan_id: str, reason: str, now: str) -> None:
    """Mark an existing scan failed (`NotWritten` if there is none)."""
    stores().scans.mark_failed(tenant_id, scan_id, reason, now)


def requeue(tenant_id: str, scan_id: str, now: str) -> bool:
    """Put a scan whose queueing failed back to queued; False if it is not in that state."""
    try:
        stores().scans.requeue(tenant_id, scan_id, now)
    except NotWritten:
        return False
    return True


def received_since(tenant_id: str, since: str) -> list[dict[str, Any]]:
    """This tenant's scans received at or after `since` (ISO-8601)."""
    return stores().scans.received_since(tenant_id, since)


def of_pipeline(tenant_id: str, pipeline_key: str, limit: int = 50) -> list[dict[str, Any]]:
    """The pipeline's most recent scans, newest first."""
    return stores().scans.of_pipeline(tenant_id, pipeline_key, limit)[0]


def collected(
    tenant_id: str, scan_id: str, artifacts: list[dict[str, Any]], now: str
) -> dict[str, Any] | None:
    """A collecting scan gets its artifacts and is queued for evaluation; returns the updated
    scan, None if it was not collecting (another delivery of its job got there first)."""
    try:
        return stores().scans.collected(tenant_id, scan_id, artifacts, now)
    except NotWritten:
        return None


def mark_streamed(tenant_id: str, scan_id: str) -> None:
    """Note that the scan's artifacts are on the stream (a later delivery of the same job
    then has nothing left to do); nothing happens to a scan that does not exist."""
    with suppress(NotWritten):
        stores().scans.mark_streamed(tenant_id, scan_id)


def fail_unstreamed(tenant_id: str, scan_id: str, reason: str, now: str) -> bool:
    """Fail a scan whose artifacts never reached the stream (still collecting, or queued but
    not streamed); False if it had moved on."""
    try:
        stores().scans.fail_unstreamed(tenant_id, scan_id, reason, now)
    except NotWritten:
        return False
    return True

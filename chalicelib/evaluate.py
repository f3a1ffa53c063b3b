"""Evaluate: a stream record (one artifact) → findings, report, scan progress and verdict."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from chalicelib import alerts, ids, observability
from chalicelib.engine.runner import ArtifactReport, RawFinding, evaluate
from chalicelib.models import ArtifactEvent, Severity
from chalicelib.policy import Policy, empty_counts, verdict
from chalicelib.stores import blobs, findings, scans


def process_record(data: bytes) -> None:
    """Handle one scan-stream record; raises on any failure so the record is retried.

    Idempotent: a redelivered record rewrites the same finding items and report object, and
    the scan counts each artifact once.
    """
    event = ArtifactEvent.model_validate_json(data)
    with observability.bound(
        tenant_id=event.tenant_id, scan_id=event.scan_id, correlation_id=event.correlation_id
    ):
        _process(event)


def _process(event: ArtifactEvent) -> None:
    started = time.perf_counter()
    report = _evaluate_artifact(event)
    observability.milliseconds("EvaluationDuration", (time.perf_counter() - started) * 1000)
    stored = _store_findings(event, report.findings)
    counts = empty_counts()
    for finding in stored:
        counts[finding["severity"]] += 1
    blobs.put_json(
        report_key(event.tenant_id, event.scan_id, event.artifact_index),
        {
            "scan_id": event.scan_id,
            "path": event.path,
            "type": event.type.value,
            "sha256": event.sha256,
            "error": report.error,
            "findings": stored,
        },
    )
    result = {
        "status": "error" if report.error else "evaluated",
        "error": report.error,
        "counts": counts,
        "findings": len(stored),
    }
    now = _now()
    scan = scans.record_artifact(event.tenant_id, event.scan_id, event.artifact_index, result, now)
    if scan is not None:  # count each artifact once, however often it is delivered
        observability.count("ArtifactsEvaluated")
        if report.error:
            observability.count("ArtifactParseErrors")
        for severity, n in counts.items():
            if n:
                observability.count(f"Findings{severity.capitalize()}", n)
    if scan is None:  # already recorded by an earlier delivery; finish what it may have left
        scan = scans.get(event.tenant_id, event.scan_id)
        if scan is None:
            raise LookupError(f"scan {event.scan_id} of the record does not exist")
    if scan["status"] != "complete" and len(scan.get("results", {})) >= scan["artifacts_total"]:
        _complete(scan, now)


def _evaluate_artifact(event: ArtifactEvent) -> ArtifactReport:
    body = blobs.get_bytes(event.body_key)
    if ids.sha256_hex(body) != event.sha256:
        raise ValueError(f"artifact body {event.body_key} does not match its sha256")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return ArtifactReport(event.path, event.type, error="the file is not valid UTF-8 text")
    return evaluate(event.type, text, event.path)


def _store_findings(event: ArtifactEvent, raw: list[RawFinding]) -> list[dict[str, Any]]:
    """Group hits by finding identity and write them, keeping each finding's first sighting."""
    grouped: dict[str, list[RawFinding]] = {}
    for hit in raw:
        fid = ids.finding_id(event.tenant_id, event.pipeline, event.path, hit.resource, hit.rule_id)
        grouped.setdefault(fid, []).append(hit)
    existing = findings.get_many(event.tenant_id, list(grouped))
    items = []
    for fid, hits in grouped.items():
        first = hits[0]
        lines = sorted({h.line for h in hits if h.line is not None})
        items.append(
            {
                "tenant_id": event.tenant_id,
                "finding_id": fid,
                "scan_id": event.scan_id,
                "pipeline": event.pipeline,
                "run_id": event.run_id,
                "commit": event.commit,
                "artifact_type": event.type.value,
                "path": event.path,
                "rule_id": first.rule_id,
                "title": first.title,
                "severity": first.severity,
                "message": first.message,
                "resource": first.resource,
                "line": lines[0] if lines else None,
                "lines": lines,
                "status": "open",
                "first_seen": existing.get(fid, {}).get("first_seen", event.received_at),
                "last_seen": event.received_at,
            }
        )
    findings.put_many(items)
    return sorted(items, key=lambda f: (-Severity(f["severity"]).rank, f["finding_id"]))


def _complete(scan: dict[str, Any], now: str) -> None:
    results = scan.get("results", {})
    counts = empty_counts()
    for result in results.values():
        for severity, n in result.get("counts", {}).items():
            counts[severity] = counts.get(severity, 0) + n
    errors = sum(1 for r in results.values() if r.get("error"))
    policy = Policy(fail_on=scan.get("fail_on", "high"))
    outcome = verdict(counts, errors, policy).value
    fields = {"verdict": outcome, "counts": counts, "completed_at": now, "updated_at": now}
    if not scans.complete(scan["tenant_id"], scan["scan_id"], fields):
        return
    blobs.put_json(report_key(scan["tenant_id"], scan["scan_id"]), _report(scan, fields))
    observability.logger().info("scan complete", extra={"verdict": outcome, "counts": counts})
    alerts.scan_alert(scan["tenant_id"], scan, outcome, counts)


def report_key(tenant_id: str, scan_id: str, artifact_index: int | None = None) -> str:
    """Where a scan's report (or one artifact's part of it) lives in S3."""
    if artifact_index is None:
        return blobs.tenant_key(tenant_id, "reports", f"{scan_id}.json")
    return blobs.tenant_key(tenant_id, "reports", scan_id, f"{artifact_index}.json")


def _report(scan: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    """The scan as it completed, with every finding it saw: a snapshot that later runs keep."""
    parts = [
        blobs.get_json(report_key(scan["tenant_id"], scan["scan_id"], a["index"]))
        for a in scan["artifacts"]
    ]
    findings_seen = [f for part in parts for f in part["findings"]]
    for finding in findings_seen:
        finding.pop("tenant_id", None)
    results = scan["results"]
    return {
        **{k: scan.get(k) for k in ("scan_id", "pipeline", "run_id", "commit", "fail_on")},
        **{k: scan.get(k) for k in ("received_at",)},
        "status": "complete",
        "verdict": fields["verdict"],
        "counts": fields["counts"],
        "completed_at": fields["completed_at"],
        "artifacts": [
            {
                **{k: a[k] for k in ("index", "type", "path", "sha256", "size")},
                **{k: results[str(a["index"])].get(k) for k in ("status", "error", "counts")},
                "findings": results[str(a["index"])].get("findings"),
            }
            for a in scan["artifacts"]
        ],
        "findings": findings_seen,
    }


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")

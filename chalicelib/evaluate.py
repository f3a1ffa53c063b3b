"""Evaluate: a stream record (one artifact) → findings, report, scan progress and verdict."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from chalicelib import alerts, ids, lifecycle, observability, waivers
from chalicelib import policy as policies
from chalicelib.engine.runner import ArtifactReport, RawFinding, evaluate
from chalicelib.models import ArtifactEvent, Severity
from chalicelib.policy import empty_counts, verdict
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
    policy = policies.load(event.tenant_id, event.policy_version)
    report = _evaluate_artifact(event, policy)
    observability.milliseconds("EvaluationDuration", (time.perf_counter() - started) * 1000)
    seen, fixed = _store_findings(event, report, policy)
    counts = empty_counts()
    for finding in seen:
        if finding["status"] not in lifecycle.NOT_COUNTED:
            counts[finding["severity"]] += 1
    blobs.put_json(
        report_key(event.tenant_id, event.scan_id, event.artifact_index),
        {
            "scan_id": event.scan_id,
            "path": event.path,
            "type": event.type.value,
            "sha256": event.sha256,
            "error": report.error,
            "notes": report.notes,
            "findings": [_public(f) for f in seen],
            "fixed": [_public(f) for f in fixed],
        },
    )
    result = {
        "status": "error" if report.error else "evaluated",
        "error": report.error,
        "counts": counts,
        "findings": len(seen),
        "waived": sum(1 for f in seen if f["status"] == "waived"),
        "suppressed": sum(1 for f in seen if f["status"] == "suppressed"),
        "fixed": len(fixed),
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


def _evaluate_artifact(event: ArtifactEvent, policy: policies.Policy) -> ArtifactReport:
    body = blobs.get_bytes(event.body_key)
    if ids.sha256_hex(body) != event.sha256:
        raise ValueError(f"artifact body {event.body_key} does not match its sha256")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return ArtifactReport(event.path, event.type, error="the file is not valid UTF-8 text")
    report = evaluate(
        event.type,
        text,
        event.path,
        rule_params=policy.rule_params,
        enabled=policy.is_enabled,
        custom_rules=[c for c in policy.custom() if policy.is_enabled(c.id)],
        parameters=event.parameters,
    )
    report.findings = [
        replace(f, severity=policy.severity_of(f.rule_id, f.severity)) for f in report.findings
    ]
    return report


def _store_findings(
    event: ArtifactEvent, report: ArtifactReport, policy: policies.Policy
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Write this artifact's findings with their lifecycle; returns (seen, newly fixed)."""
    grouped: dict[str, list[RawFinding]] = {}
    for hit in report.findings:
        fid = ids.finding_id(event.tenant_id, event.pipeline, event.path, hit.resource, hit.rule_id)
        grouped.setdefault(fid, []).append(hit)
    artifact_key = ids.artifact_key(event.tenant_id, event.pipeline, event.path)
    previous = findings.of_artifact(artifact_key)
    active_waivers = waivers.all_of(event.tenant_id) if grouped else []
    seen = []
    for fid, hits in grouped.items():
        first = hits[0]
        lines = sorted({h.line for h in hits if h.line is not None})
        before = previous.get(fid)
        item = {
            "tenant_id": event.tenant_id,
            "finding_id": fid,
            "artifact_key": artifact_key,
            "pipeline_key": ids.pipeline_key(event.tenant_id, event.pipeline),
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
            "lifecycle": lifecycle.lifecycle_of(before, event.scan_id),
            "first_seen": (before or {}).get("first_seen", event.received_at),
            "last_seen": event.received_at,
            "fixed_at": None,
            "fixed_in_scan": None,
        }
        suppression = getattr(first, "suppression", None)
        lifecycle.apply_overlays(item, suppression, active_waivers, event.received_at)
        seen.append(item)
    # An artifact that could not be read says nothing about what was fixed in it.
    fixed = (
        []
        if report.error
        else lifecycle.fixed_since(previous, set(grouped), event.scan_id, event.received_at)
    )
    findings.put_many(seen + fixed)
    seen.sort(key=lambda f: (-Severity(f["severity"]).rank, f["finding_id"]))
    return seen, fixed


def _public(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in INTERNAL_FIELDS}


INTERNAL_FIELDS = ("tenant_id", "artifact_key", "pipeline_key")


def _complete(scan: dict[str, Any], now: str) -> None:
    results = scan.get("results", {})
    counts = empty_counts()
    for result in results.values():
        for severity, n in result.get("counts", {}).items():
            counts[severity] = counts.get(severity, 0) + n
    errors = sum(1 for r in results.values() if r.get("error"))
    policy = policies.load(scan["tenant_id"], scan.get("policy_version", 0))
    outcome = verdict(counts, errors, policy).value
    present = {a["type"] for a in scan["artifacts"]}
    missing = sorted(t.value for t in policy.required_artifact_types if t.value not in present)
    if missing:
        outcome = "fail"
    fields = {
        "verdict": outcome,
        "counts": counts,
        "missing_artifact_types": missing,
        "completed_at": now,
        "updated_at": now,
    }
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
    results = scan["results"]
    return {
        **{k: scan.get(k) for k in ("scan_id", "pipeline", "run_id", "commit", "fail_on")},
        **{k: scan.get(k) for k in ("received_at", "policy_version")},
        "status": "complete",
        "verdict": fields["verdict"],
        "counts": fields["counts"],
        "missing_artifact_types": fields["missing_artifact_types"],
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
        "fixed": [f for part in parts for f in part.get("fixed", [])],
    }


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")

"""Evaluate: a batch of stream records (one artifact each) → findings, report, scan progress and
verdict.

A batch is evaluated together, in stream order: each tenant's waivers and each pipeline's stored
findings are read once per batch, every finding of the batch goes out in as few `BatchWriteItem`
calls as possible, each scan's results are recorded with one conditional update, and a scan whose
artifacts are all in the batch has its report assembled in memory (per-artifact report parts go
to the blob store only when a scan spans batches).

Idempotent: a redelivered record rewrites the same finding items, and the scan counts each
artifact once.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from chalicelib import alerts, ids, lifecycle, observability, waivers
from chalicelib import policy as policies
from chalicelib.engine.runner import ArtifactReport, RawFinding, evaluate
from chalicelib.models import ArtifactEvent, ArtifactType, Severity
from chalicelib.policy import empty_counts, verdict
from chalicelib.stores import blobs, findings, scans


@dataclass(frozen=True)
class Failure:
    """The first record of a batch that must be retried (it and every record after it)."""

    index: int
    error: Exception


@dataclass
class _Evaluated:
    """One record, evaluated: what to write and what to record for it."""

    index: int
    event: ArtifactEvent
    items: list[dict[str, Any]]  # finding items to write: seen, then newly fixed
    part: dict[str, Any]  # this artifact's part of the scan report
    result: dict[str, Any]  # this artifact's entry in the scan's `results`


def process_batch(records: list[bytes]) -> Failure | None:
    """Handle a batch of one shard's records in order; None when every record is done.

    On a failure, every record before `Failure.index` is done and every record from it on must
    be delivered again (records of one partition key are handled in order).
    """
    batch = _Batch()
    evaluated, failure = batch.evaluate_all(records)
    if not evaluated:
        return failure
    try:
        findings.put_many(_last_write_wins(i for e in evaluated for i in e.items))
    except Exception as exc:
        return Failure(0, exc)
    completing: list[_Completion] = []
    for members in _by_scan(evaluated):
        try:
            done = _record_scan(members)
        except Exception as exc:
            failure = Failure(members[0].index, exc)
            break
        if done is not None:
            completing.append(done)
    if completing:
        try:
            _complete(completing)
        except Exception as exc:  # retried from the first scan it may have left incomplete
            return Failure(completing[0].first_index, exc)
    return failure


class _Batch:
    """What a batch reads once and shares between its records."""

    def __init__(self) -> None:
        self.previous: dict[str, dict[str, dict[str, Any]]] = {}  # artifact key → id → item
        self.loaded_pipelines: set[str] = set()
        self.waivers: dict[str, list[dict[str, Any]]] = {}
        self.per_pipeline: Counter[str] = Counter()

    def evaluate_all(self, records: list[bytes]) -> tuple[list[_Evaluated], Failure | None]:
        events: list[ArtifactEvent] = []
        failure = None
        for i, data in enumerate(records):
            try:
                events.append(ArtifactEvent.model_validate_json(data))
            except Exception as exc:
                failure = Failure(i, exc)
                break
        self.per_pipeline.update(ids.pipeline_key(e.tenant_id, e.pipeline) for e in events)
        evaluated = []
        for i, event in enumerate(events):
            with observability.bound(
                tenant_id=event.tenant_id,
                scan_id=event.scan_id,
                correlation_id=event.correlation_id,
            ):
                try:
                    evaluated.append(self._evaluate(i, event))
                except Exception as exc:
                    return evaluated, Failure(i, exc)
        return evaluated, failure

    def _evaluate(self, index: int, event: ArtifactEvent) -> _Evaluated:
        started = time.perf_counter()
        policy = policies.load(event.tenant_id, event.policy_version)
        report = _evaluate_artifact(event, policy)
        observability.milliseconds("EvaluationDuration", (time.perf_counter() - started) * 1000)
        seen, fixed = self._findings(event, report)
        counts = empty_counts()
        for finding in seen:
            if finding["status"] not in lifecycle.NOT_COUNTED:
                counts[finding["severity"]] += 1
        part = {
            "scan_id": event.scan_id,
            "path": event.path,
            "type": event.type.value,
            "sha256": event.sha256,
            "error": report.error,
            "notes": report.notes,
            "findings": [findings.public(f) for f in seen],
            "fixed": [findings.public(f) for f in fixed],
        }
        result = {
            "status": "error" if report.error else "evaluated",
            "error": report.error,
            "counts": counts,
            "findings": len(seen),
            "waived": sum(1 for f in seen if f["status"] == "waived"),
            "suppressed": sum(1 for f in seen if f["status"] == "suppressed"),
            "fixed": len(fixed),
        }
        return _Evaluated(index, event, seen + fixed, part, result)

    def _findings(
        self, event: ArtifactEvent, report: ArtifactReport
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """This artifact's findings with their lifecycle: (seen, newly fixed)."""
        grouped: dict[str, list[RawFinding]] = {}
        for hit in report.findings:
            fid = ids.finding_id(
                event.tenant_id,
                event.pipeline,
                event.path,
                hit.resource,
                hit.rule_id,
                hit.fingerprint,
            )
            grouped.setdefault(fid, []).append(hit)
        artifact_key = ids.artifact_key(event.tenant_id, event.pipeline, event.path)
        previous = self._previous(event, artifact_key)
        active_waivers = self._waivers(event.tenant_id) if grouped else []
        seen = [
            _item(event, artifact_key, fid, hits, previous.get(fid), active_waivers)
            for fid, hits in grouped.items()
        ]
        # An artifact that could not be read says nothing about what was fixed in it.
        fixed = (
            []
            if report.error
            else lifecycle.fixed_since(previous, set(grouped), event.scan_id, event.received_at)
        )
        # Later records of the batch see this one's writes, as if it had been stored already.
        previous.update((f["finding_id"], f) for f in seen + fixed)
        seen.sort(key=lambda f: (-Severity(f["severity"]).rank, f["finding_id"]))
        return seen, fixed

    def _previous(self, event: ArtifactEvent, artifact_key: str) -> dict[str, dict[str, Any]]:
        """Stored findings of the artifact: one query per pipeline with several artifacts in
        the batch, else one for the artifact."""
        if artifact_key not in self.previous:
            pipeline_key = ids.pipeline_key(event.tenant_id, event.pipeline)
            if self.per_pipeline[pipeline_key] > 1:
                if pipeline_key not in self.loaded_pipelines:
                    self.loaded_pipelines.add(pipeline_key)
                    for item in findings.of_pipeline(event.tenant_id, pipeline_key):
                        by_id = self.previous.setdefault(item["artifact_key"], {})
                        by_id[item["finding_id"]] = item
                self.previous.setdefault(artifact_key, {})
            else:
                self.previous[artifact_key] = findings.of_artifact(event.tenant_id, artifact_key)
        return self.previous[artifact_key]

    def _waivers(self, tenant_id: str) -> list[dict[str, Any]]:
        if tenant_id not in self.waivers:
            self.waivers[tenant_id] = waivers.all_of(tenant_id)
        return self.waivers[tenant_id]


def _evaluate_artifact(event: ArtifactEvent, policy: policies.Policy) -> ArtifactReport:
    body = blobs.get_bytes(event.tenant_id, event.body_key)
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


def _item(
    event: ArtifactEvent,
    artifact_key: str,
    fid: str,
    hits: list[RawFinding],
    before: dict[str, Any] | None,
    active_waivers: list[dict[str, Any]],
) -> dict[str, Any]:
    """The stored finding for one (resource, rule) of the artifact, as this scan sees it."""
    first = hits[0]
    lines = sorted({h.line for h in hits if h.line is not None})
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
    if event.type is ArtifactType.AWS_INVENTORY:
        from chalicelib.posture.place import place

        item.update(place(first.location, first.resource, first.rule_id)._asdict())
    else:
        item.update(account=None, region=None, service=None)
    suppression = getattr(first, "suppression", None)
    lifecycle.apply_overlays(item, suppression, active_waivers, event.received_at)
    return item


def _last_write_wins(items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One write per finding (a `BatchWriteItem` refuses duplicate keys): the last one."""
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for item in items:
        key = (item["tenant_id"], item["finding_id"])
        latest.pop(key, None)
        latest[key] = item
    return list(latest.values())


def _by_scan(evaluated: list[_Evaluated]) -> list[list[_Evaluated]]:
    """The batch's records grouped by scan, in the order of each scan's first record; a record
    delivered twice in the batch counts once (its first delivery)."""
    groups: dict[tuple[str, str], dict[int, _Evaluated]] = {}
    for e in evaluated:
        group = groups.setdefault((e.event.tenant_id, e.event.scan_id), {})
        group.setdefault(e.event.artifact_index, e)
    return [list(group.values()) for group in groups.values()]


@dataclass
class _Completion:
    """A scan whose results are all recorded, about to be judged and completed."""

    first_index: int  # its first record in the batch
    scan: dict[str, Any]
    now: str
    parts: dict[int, dict[str, Any]]  # this batch's report parts, by artifact index


def _record_scan(members: list[_Evaluated]) -> _Completion | None:
    """Record the scan's results of this batch; the scan to complete once they are all in,
    else None (this batch's report parts are kept for the batch that completes it)."""
    event = members[0].event
    with observability.bound(
        tenant_id=event.tenant_id, scan_id=event.scan_id, correlation_id=event.correlation_id
    ):
        now = _now()
        scan, recorded = _record(event.tenant_id, event.scan_id, members, now)
        for m in recorded:  # count each artifact once, however often it is delivered
            observability.count("ArtifactsEvaluated")
            if m.result["error"]:
                observability.count("ArtifactParseErrors")
            for severity, n in m.result["counts"].items():
                if n:
                    observability.count(f"Findings{severity.capitalize()}", n)
        if scan["status"] == "complete":
            return None
        parts = {m.event.artifact_index: m.part for m in members}
        if len(scan.get("results", {})) >= scan["artifacts_total"]:
            return _Completion(members[0].index, scan, now, parts)
        for index, part in parts.items():
            blobs.put_json(event.tenant_id, report_key(event.tenant_id, event.scan_id, index), part)
        return None


def _record(
    tenant_id: str, scan_id: str, members: list[_Evaluated], now: str
) -> tuple[dict[str, Any], list[_Evaluated]]:
    """Record the members' results: (the scan as it is now, the members recorded by this call).

    One conditional update per chunk of results; when some were recorded by an earlier delivery,
    one update per result, so each artifact is counted once."""
    scan: dict[str, Any] | None = None
    recorded: list[_Evaluated] = []
    size = scans.MAX_RESULTS_PER_UPDATE
    for start in range(0, len(members), size):
        chunk = members[start : start + size]
        results = {m.event.artifact_index: m.result for m in chunk}
        updated = scans.record_artifacts(tenant_id, scan_id, results, now)
        if updated is not None:
            scan, recorded = updated, recorded + chunk
            continue
        for m in chunk:
            one = scans.record_artifact(tenant_id, scan_id, m.event.artifact_index, m.result, now)
            if one is not None:
                scan, recorded = one, recorded + [m]
    if scan is None:  # all recorded before; else the last update's state includes them all
        scan = scans.get(tenant_id, scan_id)
    if scan is None:
        raise LookupError(f"scan {scan_id} of the record does not exist")
    return scan, recorded


def _complete(completing: list[_Completion]) -> None:
    """Judge the scans and store their reports, alert, then mark them complete: a failure before
    the last step leaves them incomplete, so a retry writes every report and alert again."""
    judged = [(c.scan, _judge(c.scan, c.now)) for c in completing]
    for (scan, fields), c in zip(judged, completing, strict=True):
        key = report_key(scan["tenant_id"], scan["scan_id"])
        blobs.put_json(scan["tenant_id"], key, _report(scan, fields, c.parts))
    alerts.scan_alerts(
        [alerts.ScanAlert(s["tenant_id"], s, f["verdict"], f["counts"]) for s, f in judged]
    )
    for scan, fields in judged:
        with observability.bound(
            tenant_id=scan["tenant_id"],
            scan_id=scan["scan_id"],
            correlation_id=scan.get("correlation_id"),
        ):
            if scans.complete(scan["tenant_id"], scan["scan_id"], fields):
                extra = {"verdict": fields["verdict"], "counts": fields["counts"]}
                observability.logger().info("scan complete", extra=extra)


def _judge(scan: dict[str, Any], now: str) -> dict[str, Any]:
    """The scan's verdict and totals from its recorded results and its policy version."""
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
    return {
        "verdict": outcome,
        "counts": counts,
        "missing_artifact_types": missing,
        "completed_at": now,
        "updated_at": now,
    }


def report_key(tenant_id: str, scan_id: str, artifact_index: int | None = None) -> str:
    """Where a scan's report (or one artifact's part of it) lives in the blob store."""
    if artifact_index is None:
        return blobs.tenant_key(tenant_id, "reports", f"{scan_id}.json")
    return blobs.tenant_key(tenant_id, "reports", scan_id, f"{artifact_index}.json")


def _report(
    scan: dict[str, Any], fields: dict[str, Any], parts: dict[int, dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The scan as it completed, with every finding it saw: a snapshot that later runs keep.

    Each artifact's part comes from `parts` (this batch), else from the blob store (an
    earlier batch)."""
    given, tenant_id = parts or {}, scan["tenant_id"]
    parts_in_order = [
        given.get(a["index"])
        or blobs.get_json(tenant_id, report_key(tenant_id, scan["scan_id"], a["index"]))
        for a in scan["artifacts"]
    ]
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
        "findings": [f for part in parts_in_order for f in part["findings"]],
        "fixed": [f for part in parts_in_order for f in part.get("fixed", [])],
    }


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")

"""Queries a tenant makes: its scans and findings, never anyone else's."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from chalicelib.errors import BadRequest, Conflict, NotFound, ValidationFailed
from chalicelib.lifecycle import public_status
from chalicelib.models import ArtifactType, Finding, Severity
from chalicelib.paging import parse_query
from chalicelib.search.factory import get_index
from chalicelib.search.port import FindingPage, FindingQuery, InvalidCursor
from chalicelib.stores import findings, scans

_SCAN_FIELDS = (
    "scan_id",
    "pipeline",
    "run_id",
    "commit",
    "status",
    "verdict",
    "counts",
    "fail_on",
    "received_at",
    "updated_at",
    "completed_at",
    "failure",
    "policy_version",
    "missing_artifact_types",
)


_SCAN_ID = re.compile(r"^scn_[0-9a-f]{24}$")
_FINDING_ID = re.compile(r"^fnd_[0-9a-f]{24}$")


def get_scan(tenant_id: str, scan_id: str) -> dict[str, Any]:
    """The scan's status, verdict, counts and per-artifact results."""
    scan = scans.get(tenant_id, scan_id) if _SCAN_ID.match(scan_id) else None
    if scan is None:
        raise NotFound(f"no scan {scan_id!r} in this tenant")
    public = {field: scan.get(field) for field in _SCAN_FIELDS}
    results = scan.get("results", {})
    public["artifacts_total"] = scan["artifacts_total"]
    public["artifacts_done"] = len(results)
    public["artifacts"] = [
        {
            "index": a["index"],
            "type": a["type"],
            "path": a["path"],
            "sha256": a["sha256"],
            "size": a["size"],
            "status": results.get(str(a["index"]), {}).get("status", "pending"),
            "error": results.get(str(a["index"]), {}).get("error"),
            "counts": results.get(str(a["index"]), {}).get("counts"),
            "findings": results.get(str(a["index"]), {}).get("findings"),
        }
        for a in scan["artifacts"]
    ]
    public["findings_url"] = f"/v1/findings?scan_id={scan_id}"
    return public


def get_scan_report(tenant_id: str, scan_id: str) -> dict[str, Any]:
    """The complete scan with every finding it saw (from its stored report)."""
    from chalicelib.evaluate import report_key
    from chalicelib.stores import blobs

    scan = get_scan(tenant_id, scan_id)
    if scan["status"] != "complete":
        raise Conflict(
            f"scan {scan_id!r} is {scan['status']}: its report exists once it is complete"
        )
    return blobs.get_json(tenant_id, report_key(tenant_id, scan_id))


def search_findings(tenant_id: str, params: dict[str, str] | None) -> FindingPage:
    """One page of the tenant's findings matching the query-string filters."""
    query = parse_query(FindingQuery, params)
    _check_enum("severity", query.severity, [s.value for s in Severity])
    _check_enum("artifact_type", query.artifact_type, [t.value for t in ArtifactType])
    _check_enum("status", query.status, list(STATUSES))
    try:
        page = get_index().search(tenant_id, query)
    except InvalidCursor:
        raise BadRequest(
            "the cursor is not valid: pass next_cursor from the previous page unchanged"
        ) from None
    now = _now()
    for doc in page.findings:
        doc["status"] = public_status(doc, now)
        for field in ("account", "region", "service"):  # indexed before findings had them
            doc.setdefault(field, None)
    return page


def get_finding(tenant_id: str, finding_id: str) -> dict[str, Any]:
    item = findings.get(tenant_id, finding_id) if _FINDING_ID.match(finding_id) else None
    if item is None:
        raise NotFound(f"no finding {finding_id!r} in this tenant")
    item["status"] = public_status(item, _now())
    return Finding.model_validate(item).public()


STATUSES = ("new", "open", "reopened", "fixed", "suppressed", "waived")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _check_enum(name: str, value: str | None, allowed: list[str]) -> None:
    if value is not None and value not in allowed:
        raise ValidationFailed(
            f"{name} must be one of {', '.join(allowed)}",
            [{"field": name, "message": f"got {value!r}"}],
        )

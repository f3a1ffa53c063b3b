"""Queries a tenant makes: its scans and findings, never anyone else's."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from chalicelib.errors import BadRequest, NotFound, from_pydantic
from chalicelib.models import ArtifactType, Finding, Severity
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
)


def get_scan(tenant_id: str, scan_id: str) -> dict[str, Any]:
    """The scan's status, verdict, counts and per-artifact results."""
    scan = scans.get(tenant_id, scan_id)
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


def search_findings(tenant_id: str, params: dict[str, str] | None) -> FindingPage:
    """One page of the tenant's findings matching the query-string filters."""
    params = dict(params or {})
    try:
        query = FindingQuery.model_validate(params)
    except ValidationError as exc:
        raise from_pydantic(exc, "the query") from None
    _check_enum("severity", query.severity, [s.value for s in Severity])
    _check_enum("artifact_type", query.artifact_type, [t.value for t in ArtifactType])
    try:
        return get_index().search(tenant_id, query)
    except InvalidCursor:
        raise BadRequest(
            "the cursor is not valid: pass next_cursor from the previous page unchanged"
        ) from None


def get_finding(tenant_id: str, finding_id: str) -> dict[str, Any]:
    item = findings.get(tenant_id, finding_id)
    if item is None:
        raise NotFound(f"no finding {finding_id!r} in this tenant")
    return Finding.model_validate(item).public()


def _check_enum(name: str, value: str | None, allowed: list[str]) -> None:
    if value is not None and value not in allowed:
        raise BadRequest(
            f"{name} must be one of {', '.join(allowed)}",
            [{"field": name, "message": f"got {value!r}"}],
        )

"""Scans: submit a pipeline run, follow it, read its report."""

from __future__ import annotations

from typing import Any

from chalicelib.views.call import Call, Reply


def create_scan(call: Call) -> Reply:
    from chalicelib.ingest import parse_scan_request, submit_scan

    accepted = submit_scan(call.principal, parse_scan_request(call.body), call.correlation_id)
    return Reply(accepted, 202, {"Location": accepted["status_url"]})


def get_scan(call: Call, scan_id: str) -> dict[str, Any]:
    from chalicelib.queries import get_scan as query

    return query(call.tenant_id, scan_id)


def get_scan_report(call: Call, scan_id: str) -> dict[str, Any]:
    from chalicelib.queries import get_scan_report as query

    return query(call.tenant_id, scan_id)

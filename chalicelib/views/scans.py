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


def create_upload(call: Call) -> Reply:
    from pydantic import ValidationError

    from chalicelib import uploads
    from chalicelib.errors import from_pydantic
    from chalicelib.models import UploadRequest

    try:
        request = UploadRequest.model_validate(call.json("the upload (path, size)"))
    except ValidationError as exc:
        raise from_pydantic(exc, "the upload") from None
    return Reply(uploads.start(call.tenant_id, request), 201)

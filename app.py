"""Pipeguard's Chalice app: routes, the tenant authorizer and the event handlers (wiring only)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from chalice import AuthResponse, Chalice, Rate

from chalicelib import api
from chalicelib.config import settings

app = Chalice(app_name="pipeguard")
app.register_middleware(api.json_error_middleware, "http")

# Event-source ARNs/names must be literals when `chalice package` reads this module.
FINDINGS_STREAM_ARN = os.environ.get(
    "FINDINGS_STREAM_ARN",
    "arn:aws:dynamodb:us-east-1:000000000000:table/pipeguard-findings/stream/local",
)


@app.authorizer(ttl_seconds=0)
def tenant_key(auth_request: Any) -> AuthResponse:
    """API key → tenant. Unknown, revoked or malformed keys get API Gateway's 401."""
    from chalicelib.tenancy import authenticate

    principal = authenticate(auth_request.token)
    if principal is None:
        raise Exception("Unauthorized")  # noqa: TRY002 - the exact signal API Gateway expects
    return AuthResponse(
        routes=["*"], principal_id=principal.tenant_id, context=principal.to_context()
    )


def route(path: str, scope: str, **options: Any) -> Callable[[Callable[..., Any]], Any]:
    """Register a tenant-scoped route: the view gets the caller's principal as first argument."""

    if options.get("methods") == ["GET"]:
        options.setdefault("content_types", ["*/*"])  # a GET has no body to check

    def register(view: Callable[..., Any]) -> Any:
        wrapped = api.guarded(view, scope, lambda: app.current_request)
        return app.route(path, authorizer=tenant_key, **options)(wrapped)

    return register


@route("/v1/scans", "ingest", methods=["POST"], content_types=["application/json"])
def create_scan(principal: Any) -> Any:
    from chalice import Response

    from chalicelib.ingest import parse_scan_request, submit_scan

    request = app.current_request
    correlation = api.correlation_id(request)
    accepted = submit_scan(principal, parse_scan_request(request.raw_body), correlation)
    return Response(body=accepted, status_code=202, headers={"Location": accepted["status_url"]})


@route("/v1/scans/{scan_id}", "read", methods=["GET"])
def get_scan(principal: Any, scan_id: str) -> dict:
    from chalicelib.queries import get_scan as query

    return query(principal.tenant_id, scan_id)


@route("/v1/scans/{scan_id}/report", "read", methods=["GET"])
def get_scan_report(principal: Any, scan_id: str) -> dict:
    from chalicelib.queries import get_scan_report as query

    return query(principal.tenant_id, scan_id)


@route("/v1/findings", "read", methods=["GET"])
def list_findings(principal: Any) -> dict:
    from chalicelib.queries import search_findings

    page = search_findings(principal.tenant_id, app.current_request.query_params)
    return page.model_dump()


@route("/v1/findings/{finding_id}", "read", methods=["GET"])
def get_finding(principal: Any, finding_id: str) -> dict:
    from chalicelib.queries import get_finding as query

    return query(principal.tenant_id, finding_id)


@route("/v1/notifications", "admin", methods=["GET"])
def get_notifications(principal: Any) -> dict:
    from chalicelib import notifications

    return notifications.get(principal.tenant_id).model_dump(mode="json")


@route("/v1/notifications", "admin", methods=["PUT"], content_types=["application/json"])
def put_notifications(principal: Any) -> dict:
    from chalicelib import notifications

    chosen = notifications.put(principal.tenant_id, app.current_request.raw_body)
    return chosen.model_dump(mode="json")


@app.on_kinesis_record(
    stream=settings().scan_stream, batch_size=50, starting_position="TRIM_HORIZON"
)
def evaluate_artifacts(event: Any) -> dict:
    """Evaluate each artifact record; failed ones are reported for retry."""
    from chalicelib.handlers import evaluate_batch

    return evaluate_batch(event)


@app.on_dynamodb_record(
    stream_arn=FINDINGS_STREAM_ARN, batch_size=100, starting_position="TRIM_HORIZON"
)
def index_findings(event: Any) -> dict:
    """Mirror findings-table changes into the search index."""
    from chalicelib.handlers import index_batch

    return index_batch(event)


@app.schedule(Rate(1, unit=Rate.DAYS))
def daily_digest(event: Any) -> dict:
    """Email each tenant that asked for it a summary of its last 24 hours."""
    from chalicelib.notifications import send_digests

    return {"sent": send_digests()}

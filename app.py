"""Pipeguard's Chalice app: routes, the tenant authorizer and the event handlers (wiring only)."""

from __future__ import annotations

import os
from typing import Any

from chalice import AuthResponse, Chalice, Rate

from chalicelib import api
from chalicelib.config import settings
from chalicelib.routes import ROUTES

app = Chalice(app_name="pipeguard")
app.register_middleware(api.json_error_middleware, "http")

# Event-source ARNs/names must be literals when `chalice package` reads this module.
FINDINGS_STREAM_ARN = os.environ.get(
    "FINDINGS_STREAM_ARN",
    "arn:aws:dynamodb:us-east-1:000000000000:table/pipeguard-findings/stream/local",
)


@app.authorizer(ttl_seconds=0)
def tenant_key(auth_request: Any) -> dict:
    """API key → tenant. Unknown, revoked or malformed keys get API Gateway's 401."""
    from chalicelib.tenancy import authenticate

    principal = authenticate(auth_request.token)
    if principal is None:
        raise Exception("Unauthorized")  # noqa: TRY002 - the exact signal API Gateway expects
    allowed = AuthResponse(routes=["*"], principal_id=principal.tenant_id)
    response = allowed.to_dict(auth_request)
    response["context"] = principal.to_context()
    if principal.usage_key:  # deployed: API Gateway throttles by the tenant's usage plan key
        response["usageIdentifierKey"] = principal.usage_key
    return response


for _route in ROUTES:
    app.route(
        _route.path,
        methods=[_route.method],
        authorizer=tenant_key,
        # Deployed, the authorizer names the tenant's usage plan key (throttling per tenant).
        api_key_required=True,
        # A GET has no body to check; bodies must be JSON.
        content_types=["*/*"] if _route.method == "GET" else ["application/json"],
    )(api.view_for(_route, lambda: app.current_request))


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


# At most 10 concurrent jobs (the mapping's maximum concurrency, not reserved concurrency: a
# throttled delivery would count as an attempt and push jobs to the dead-letter queue).
@app.on_sqs_message(queue=settings().account_scan_queue, batch_size=1, maximum_concurrency=10)
def collect_account_scans(event: Any) -> None:
    """Assume a registered account's role, collect its inventory, put it on the scan stream."""
    from chalicelib.handlers import account_scan_batch

    account_scan_batch(event)


@app.schedule(Rate(1, unit=Rate.DAYS))
def daily_digest(event: Any) -> dict:
    """Email each tenant that asked for it a summary of its last 24 hours."""
    from chalicelib.notifications import send_digests

    return {"sent": send_digests()}


@app.schedule(Rate(15, unit=Rate.MINUTES))
def scan_due_accounts(event: Any) -> dict:
    """Queue a scan of each registered AWS account whose interval has passed."""
    from chalicelib.account_scans import sweep

    return sweep()
